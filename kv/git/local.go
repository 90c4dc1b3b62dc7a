package git

import (
	"bufio"
	"cmp"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/revlist"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
	"github.com/go-git/go-git/v5/plumbing/transport/server"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// Local remotes (a path, file://) are served in this process by go-git's
// git server instead of by running git-upload-pack and git-receive-pack,
// which go-git's file transport does: a sandboxed service cannot run
// programs, though it may be allowed the repository's folder.
func init() {
	loader := server.NewFilesystemLoader(osfs.New("/"))
	client.InstallProtocol("file", localTransport{Transport: server.NewClient(loader), loader: loader})
}

// localTransport is go-git's server with two changes. Fetches build their
// pack faster (see packSession). Pushes compare and swap: go-git's
// receive-pack sets a branch to the pushed commit whatever it points to
// by then, so a writer that pushed between our fetch and our push would
// be lost; here each ref moves only from the value the pusher saw, under
// the ref's lock, as git-receive-pack does (see casSession).
type localTransport struct {
	transport.Transport
	loader server.Loader
}

func (t localTransport) NewUploadPackSession(ep *transport.Endpoint, auth transport.AuthMethod) (transport.UploadPackSession, error) {
	s, err := t.Transport.NewUploadPackSession(ep, auth)
	if err != nil {
		return nil, err
	}
	// The server's storage opens the pack file again for each object;
	// this one keeps it open until the session closes.
	objs, err := t.loader.Load(ep)
	if err != nil {
		s.Close()
		return nil, err
	}
	fs, ok := objs.(*filesystem.Storage)
	if !ok {
		s.Close()
		return nil, fmt.Errorf("git: local remote %s: unexpected storage %T", ep.Path, objs)
	}
	kept := filesystem.NewStorageWithOptions(fs.Filesystem(), cache.NewObjectLRUDefault(), filesystem.Options{KeepDescriptors: true})
	return &packSession{UploadPackSession: s, objs: kept}, nil
}

// packSession sends packs without looking for deltas, which go-git's
// server does in a window of 10 objects for each: from a local folder the
// pack's size does not matter, the time to build it does.
type packSession struct {
	transport.UploadPackSession
	objs *filesystem.Storage
}

func (s *packSession) Close() error {
	return errors.Join(s.UploadPackSession.Close(), s.objs.Close())
}

func (s *packSession) UploadPack(ctx context.Context, req *packp.UploadPackRequest) (*packp.UploadPackResponse, error) {
	if req.IsEmpty() {
		return nil, transport.ErrEmptyUploadPackRequest
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	if len(req.Shallows) > 0 {
		return nil, errors.New("git: shallow fetches are not supported")
	}
	haves, err := revlist.Objects(s.objs, req.Haves, nil)
	if err != nil {
		return nil, err
	}
	objs, err := revlist.Objects(s.objs, req.Wants, haves)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	go func() {
		_, err := packfile.NewEncoder(pw, s.objs, false).Encode(objs, 0)
		pw.CloseWithError(err)
	}()
	return packp.NewUploadPackResponseWithPackfile(req, closeOnDone(ctx, pr)), nil
}

func (t localTransport) NewReceivePackSession(ep *transport.Endpoint, auth transport.AuthMethod) (transport.ReceivePackSession, error) {
	s, err := t.Transport.NewReceivePackSession(ep, auth)
	if err != nil {
		return nil, err
	}
	refs, err := t.loader.Load(ep)
	if err != nil {
		s.Close()
		return nil, err
	}
	dir := ep.Path
	if _, err := os.Stat(filepath.Join(dir, "config")); err != nil {
		dir = filepath.Join(dir, ".git") // not bare
	}
	return &casSession{ReceivePackSession: s, refs: refs, dir: dir}, nil
}

type casSession struct {
	transport.ReceivePackSession
	refs storer.Storer
	dir  string // the git directory
}

// ReceivePack stores the pack, then moves the refs.
func (s *casSession) ReceivePack(ctx context.Context, req *packp.ReferenceUpdateRequest) (*packp.ReportStatus, error) {
	rs := packp.NewReportStatus()
	rs.UnpackStatus = "ok"
	if req.Packfile != nil {
		err := s.unpack(closeOnDone(ctx, req.Packfile))
		if err != nil {
			rs.UnpackStatus = err.Error()
			return rs, err
		}
	}
	var first error
	for _, c := range req.Commands {
		status := "ok"
		if err := s.update(c); err != nil {
			status = err.Error()
			first = cmp.Or(first, fmt.Errorf("%s: %w", c.Name, err))
		}
		rs.CommandStatuses = append(rs.CommandStatuses, &packp.CommandStatus{ReferenceName: c.Name, Status: status})
	}
	return rs, first
}

// unpackLimit is git's receive.unpackLimit: a pack of fewer objects is
// stored as loose objects. A pack file per push would make every later
// lookup in the remote search one more pack index, so that pushes slow
// down as they accumulate; loose objects cost the same however many.
const unpackLimit = 100

// looseObjects hides the storage's PackfileWriter, so that go-git's
// UpdateObjectStorage stores each object on its own, and writes them as
// git does, but compressed for speed.
type looseObjects struct {
	storer.Storer
	dir string // the git directory
}

func (l looseObjects) SetEncodedObject(o plumbing.EncodedObject) (plumbing.Hash, error) {
	h := o.Hash()
	hex := h.String()
	folder := filepath.Join(l.dir, "objects", hex[:2])
	path := filepath.Join(folder, hex[2:])
	if _, err := os.Stat(path); err == nil {
		return h, nil
	}
	if err := os.MkdirAll(folder, 0o755); err != nil {
		return h, err
	}
	r, err := o.Reader()
	if err != nil {
		return h, err
	}
	defer r.Close()
	f, err := os.CreateTemp(folder, "tmp_obj_")
	if err != nil {
		return h, err
	}
	defer os.Remove(f.Name()) // after the rename, a no-op
	bw := bufio.NewWriter(f)
	zw, _ := zlib.NewWriterLevel(bw, zlib.BestSpeed)
	fmt.Fprintf(zw, "%s %d\x00", o.Type(), o.Size())
	_, err = io.Copy(zw, r)
	err = errors.Join(err, zw.Close(), bw.Flush(), f.Chmod(0o444), f.Close())
	if err != nil {
		return h, err
	}
	return h, os.Rename(f.Name(), path)
}

func (s *casSession) unpack(pack io.ReadCloser) error {
	defer pack.Close()
	r := bufio.NewReader(pack)
	hdr, err := r.Peek(12) // "PACK", version, number of objects
	if err != nil {
		if err == io.EOF && len(hdr) == 0 {
			return nil // no pack: the push only moves refs
		}
		return fmt.Errorf("pack header: %w", err)
	}
	var st storer.Storer = s.refs
	if binary.BigEndian.Uint32(hdr[8:]) < unpackLimit {
		st = looseObjects{Storer: s.refs, dir: s.dir}
	}
	return packfile.UpdateObjectStorage(st, r)
}

// closeOnDone closes r when ctx ends, which ends a Read waiting on it.
// go-git's context reader does this with a goroutine and a new buffer
// for every Read: for a clone, hundreds of megabytes of garbage.
func closeOnDone(ctx context.Context, r io.ReadCloser) io.ReadCloser {
	stop := context.AfterFunc(ctx, func() { r.Close() })
	return &ctxCloser{ReadCloser: r, stop: stop}
}

type ctxCloser struct {
	io.ReadCloser
	stop func() bool
}

func (c *ctxCloser) Close() error {
	c.stop()
	return c.ReadCloser.Close()
}

// lockWait is how long a push waits for another writer's lock on a
// ref, as git waits core.filesRefLockTimeout (100 ms) before it fails:
// writers of one remote take turns rather than fail.
const lockWait = time.Second

func lockRef(path string) (*os.File, error) {
	deadline := time.Now().Add(lockWait)
	for pause := time.Millisecond; ; pause = min(2*pause, 50*time.Millisecond) {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil || !errors.Is(err, fs.ErrExist) || time.Now().After(deadline) {
			return f, err
		}
		time.Sleep(pause)
	}
}

var errRefMoved = errors.New("reference moved since it was read (fetch first)")

// update moves one ref from c.Old to c.New as git does: holding
// <ref>.lock, created exclusively, which git-receive-pack and git push
// to the same folder respect too; then renaming it over the ref.
func (s *casSession) update(c *packp.Command) (err error) {
	path := filepath.Join(s.dir, filepath.FromSlash(c.Name.String()))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	lock, err := lockRef(path + ".lock")
	if err != nil {
		return fmt.Errorf("reference locked by another writer: %w", err)
	}
	defer func() {
		lock.Close()
		if err != nil {
			os.Remove(lock.Name())
		}
	}()
	cur, err := s.refs.Reference(c.Name)
	if err != nil && !errors.Is(err, plumbing.ErrReferenceNotFound) {
		return err
	}
	var old plumbing.Hash
	if cur != nil {
		old = cur.Hash()
	}
	if old != c.Old {
		return errRefMoved
	}
	if c.Action() == packp.Delete {
		if err := s.refs.RemoveReference(c.Name); err != nil {
			return err
		}
		return errors.Join(lock.Close(), os.Remove(lock.Name()))
	}
	if _, err := lock.WriteString(c.New.String() + "\n"); err != nil {
		return err
	}
	if err := lock.Close(); err != nil {
		return err
	}
	return os.Rename(lock.Name(), path)
}
