package git

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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
	loader := lockSkippingLoader{server.NewFilesystemLoader(osfs.New("/"))}
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
	fs := objs.(lockSkipping).Storage
	kept := filesystem.NewStorageWithOptions(fs.Filesystem(), cache.NewObjectLRUDefault(), filesystem.Options{KeepDescriptors: true})
	return &packSession{UploadPackSession: s, objs: rescanning{kept}}, nil
}

// packSession sends packs without looking for deltas, which go-git's
// server does in a window of 10 objects for each: from a local folder the
// pack's size does not matter, the time to build it does.
type packSession struct {
	transport.UploadPackSession
	objs rescanning
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
	return &casSession{ReceivePackSession: s, refs: refs, dir: refs.(lockSkipping).dir}, nil
}

// gitDir is the git directory of the repository at path, bare or not.
func gitDir(path string) string {
	if _, err := os.Stat(filepath.Join(path, "config")); err != nil {
		return filepath.Join(path, ".git")
	}
	return path
}

// lockSkippingLoader loads repositories whose refs are listed as git
// lists them. go-git's listing reads every file under refs/, so a
// writer's <ref>.lock (ours or git's) shows up as a branch, and fails the
// whole listing while it is still empty: a fetch racing a push failed.
type lockSkippingLoader struct{ server.Loader }

func (l lockSkippingLoader) Load(ep *transport.Endpoint) (storer.Storer, error) {
	s, err := l.Loader.Load(ep)
	if err != nil {
		return nil, err
	}
	fs, ok := s.(*filesystem.Storage)
	if !ok {
		return nil, fmt.Errorf("git: local remote %s: unexpected storage %T", ep.Path, s)
	}
	dir := gitDir(ep.Path)
	if dir != ep.Path {
		// go-git's loader takes a work tree for the repository itself,
		// and finds no refs and no objects in it: git reads its .git.
		fs = filesystem.NewStorage(osfs.New(dir), cache.NewObjectLRUDefault())
	}
	return lockSkipping{rescanning: rescanning{fs}, dir: dir}, nil
}

// lockSkipping embeds the storage itself, not an interface, so that its
// other methods (PackfileWriter among them) stay visible.
type lockSkipping struct {
	rescanning
	dir string
}

// rescanning looks again when an object is missing, as git does: a
// collection (see collect) may have packed and removed it since the
// storage listed the packs. It lists them again (Reindex) and, if the
// object is still missing, looks in a storage made anew: go-git's
// Reindex alone still missed objects packed since, one fetch in a few
// hundred (TestCollectWhileFetching caught it). Misses are rare: only a
// session that spans a collection has them.
type rescanning struct{ *filesystem.Storage }

func (s rescanning) again(find func(*filesystem.Storage) error) error {
	s.Reindex()
	err := find(s.Storage)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		fresh := filesystem.NewStorage(s.Filesystem(), cache.NewObjectLRUDefault())
		err = find(fresh)
		fresh.Close()
	}
	return err
}

func (s rescanning) EncodedObject(t plumbing.ObjectType, h plumbing.Hash) (o plumbing.EncodedObject, err error) {
	o, err = s.Storage.EncodedObject(t, h)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		err = s.again(func(f *filesystem.Storage) (err error) {
			o, err = f.EncodedObject(t, h)
			return err
		})
	}
	return o, err
}

func (s rescanning) DeltaObject(t plumbing.ObjectType, h plumbing.Hash) (o plumbing.EncodedObject, err error) {
	o, err = s.Storage.DeltaObject(t, h)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		err = s.again(func(f *filesystem.Storage) (err error) {
			o, err = f.DeltaObject(t, h)
			return err
		})
	}
	return o, err
}

func (s rescanning) HasEncodedObject(h plumbing.Hash) error {
	err := s.Storage.HasEncodedObject(h)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		err = s.again(func(f *filesystem.Storage) error { return f.HasEncodedObject(h) })
	}
	return err
}

func (s rescanning) EncodedObjectSize(h plumbing.Hash) (n int64, err error) {
	n, err = s.Storage.EncodedObjectSize(h)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		err = s.again(func(f *filesystem.Storage) (err error) {
			n, err = f.EncodedObjectSize(h)
			return err
		})
	}
	return n, err
}

// IterReferences lists HEAD, the loose refs but for *.lock files and
// what else git skips (git refuses ref names with a component ending in
// .lock or starting with a dot), and the packed refs.
func (s lockSkipping) IterReferences() (storer.ReferenceIter, error) {
	var refs []*plumbing.Reference
	seen := map[plumbing.ReferenceName]bool{}
	add := func(name plumbing.ReferenceName) error {
		if seen[name] {
			return nil
		}
		seen[name] = true
		r, err := s.Reference(name)
		if err == nil && r.Type() == plumbing.SymbolicReference && name != plumbing.HEAD {
			// go-git's server advertises HEAD's target itself but
			// drops every other symbolic ref; git advertises it with
			// its target's commit.
			if r, err = storer.ResolveReference(s, name); err == nil {
				r = plumbing.NewHashReference(name, r.Hash())
			}
		}
		if errors.Is(err, plumbing.ErrReferenceNotFound) {
			return nil // deleted since it was listed, or dangling
		}
		if err == nil {
			refs = append(refs, r)
		}
		return err
	}
	if err := add(plumbing.HEAD); err != nil {
		return nil, err
	}
	root := filepath.Join(s.dir, "refs")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil // removed since its folder was read
		case err != nil:
			return err
		case path != root && (strings.HasPrefix(d.Name(), ".") || strings.HasSuffix(d.Name(), ".lock")):
			// As git's walk of refs/ (files-backend.c): no ref name
			// has a component so named, a folder neither.
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		case d.IsDir():
			return nil
		}
		rel, err := filepath.Rel(s.dir, path)
		if err != nil {
			return err
		}
		return add(plumbing.ReferenceName(filepath.ToSlash(rel)))
	})
	if err != nil {
		return nil, err
	}
	packed, err := os.ReadFile(filepath.Join(s.dir, "packed-refs"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for line := range strings.Lines(string(packed)) {
		if f := strings.Fields(line); len(f) == 2 && !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "^") {
			if err := add(plumbing.ReferenceName(f[1])); err != nil {
				return nil, err
			}
		}
	}
	return storer.NewReferenceSliceIter(refs), nil
}

type casSession struct {
	transport.ReceivePackSession
	refs storer.Storer
	dir  string // the git directory

	looseObjects int // stored loose by this session
	looseBytes   int64
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
	if first == nil {
		// As git-receive-pack runs gc --auto: in the background, so
		// that the pusher is answered now.
		autoGC.poke(s.dir, s.looseObjects, s.looseBytes)
	}
	return rs, first
}

// unpackLimit is git's receive.unpackLimit: a pack of fewer objects is
// stored as loose objects. A pack file per push would make every later
// lookup in the remote search one more pack index, so that pushes slow
// down as they accumulate; loose objects cost the same however many.
const unpackLimit = 100

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
	if binary.BigEndian.Uint32(hdr[8:]) >= unpackLimit {
		return packfile.UpdateObjectStorage(s.refs, r)
	}
	return s.unpackLoose(r)
}

// unpackLoose stores each object of the pack as a loose object, streamed
// from the pack to its file; only a delta and its base are held whole.
func (s *casSession) unpackLoose(r io.Reader) error {
	sc := packfile.NewScanner(r)
	_, n, err := sc.Header()
	if err != nil {
		return err
	}
	at := map[int64]plumbing.Hash{} // the pack's objects by offset, for deltas
	for range n {
		oh, err := sc.NextObjectHeader()
		if err != nil {
			return err
		}
		var h plumbing.Hash
		switch oh.Type {
		case plumbing.OFSDeltaObject, plumbing.REFDeltaObject:
			h, err = s.undelta(sc, oh, at)
		default:
			h, err = s.writeLoose(oh.Type, oh.Length, func(w io.Writer) error {
				_, _, err := sc.NextObject(w)
				return err
			})
		}
		if err != nil {
			return err
		}
		at[oh.Offset] = h
	}
	_, err = sc.Checksum()
	return err
}

// undelta writes the object a delta in the pack makes of its base, which
// is an earlier object of the pack or one the remote holds.
func (s *casSession) undelta(sc *packfile.Scanner, oh *packfile.ObjectHeader, at map[int64]plumbing.Hash) (plumbing.Hash, error) {
	var d bytes.Buffer
	if _, _, err := sc.NextObject(&d); err != nil {
		return plumbing.ZeroHash, err
	}
	base := oh.Reference
	if oh.Type == plumbing.OFSDeltaObject {
		var ok bool
		if base, ok = at[oh.OffsetReference]; !ok {
			return plumbing.ZeroHash, fmt.Errorf("delta at %d: no object at offset %d", oh.Offset, oh.OffsetReference)
		}
	}
	bo, err := s.refs.EncodedObject(plumbing.AnyObject, base)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("delta base %s: %w", base, err)
	}
	br, err := bo.Reader()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	src, err := io.ReadAll(br)
	br.Close()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	obj, err := packfile.PatchDelta(src, d.Bytes())
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return s.writeLoose(bo.Type(), int64(len(obj)), func(w io.Writer) error {
		_, err := w.Write(obj)
		return err
	})
}

// writeLoose stores an object loose and counts it for the collection.
func (s *casSession) writeLoose(t plumbing.ObjectType, size int64, fill func(io.Writer) error) (plumbing.Hash, error) {
	s.looseObjects++
	s.looseBytes += size
	return writeLoose(s.dir, t, size, fill)
}

// writeLoose stores the object of type t and size that fill writes as a
// loose object of the git directory dir, as git does but uncompressed
// (see storedWriter), and returns its hash.
func writeLoose(dir string, t plumbing.ObjectType, size int64, fill func(io.Writer) error) (plumbing.Hash, error) {
	objects := filepath.Join(dir, "objects")
	f, err := os.CreateTemp(objects, "tmp_obj_")
	if err != nil {
		return plumbing.ZeroHash, err
	}
	defer os.Remove(f.Name()) // after the rename, a no-op
	bw := bufio.NewWriterSize(f, 32<<10)
	zw := newStoredWriter(bw)
	sum := sha1.New()
	w := io.MultiWriter(sum, zw)
	fmt.Fprintf(w, "%s %d\x00", t, size)
	n := &countWriter{w: w}
	err = fill(n)
	if err == nil && n.n != size {
		err = fmt.Errorf("object of %d bytes, %d announced", n.n, size)
	}
	if err = errors.Join(err, zw.Close(), bw.Flush(), f.Chmod(0o444), f.Close()); err != nil {
		return plumbing.ZeroHash, err
	}
	var h plumbing.Hash
	sum.Sum(h[:0])
	hex := h.String()
	folder := filepath.Join(objects, hex[:2])
	path := filepath.Join(folder, hex[2:])
	if _, err := os.Stat(path); err == nil {
		return h, nil // held already
	}
	if err := os.MkdirAll(folder, 0o755); err != nil {
		return h, err
	}
	return h, os.Rename(f.Name(), path)
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
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
