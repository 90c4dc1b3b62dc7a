package git

import (
	"bufio"
	"compress/zlib"
	"context"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
	"github.com/go-git/go-git/v5/storage/filesystem/dotgit"
)

// errRemoteMoved answers a push whose branch is no longer where the
// batch began: Batch then fetches and runs the batch again.
var errRemoteMoved = errors.New("the remote branch moved (fetch first)")

// push sends commit, which descends from base (the remote's branch as
// we last saw it), and moves the remote's branch from base to it.
//
// go-git's Remote.Push finds what to send by walking every object the
// remote's head reaches, every tree of the history, and so grows with
// it; here what to send is what the new commits changed, found by
// comparing each one's tree with its parent's.
func (s *Store) push(ctx context.Context, commit, base plumbing.Hash) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	if err := s.sendPack(ctx, commit, base); err != nil {
		return s.remoteErr("push", err)
	}
	// Keep the tracking ref in step so the next fetch's negotiation
	// knows the remote has this commit.
	tracking := plumbing.NewRemoteReferenceName("origin", s.branch.Short())
	return s.st.SetReference(plumbing.NewHashReference(tracking, commit))
}

func (s *Store) sendPack(ctx context.Context, commit, base plumbing.Hash) (err error) {
	ep, err := transport.NewEndpoint(s.url)
	if err != nil {
		return err
	}
	cl, err := client.NewClient(ep)
	if err != nil {
		return err
	}
	var sess transport.ReceivePackSession
	var adv *packp.AdvRefs
	for range 3 {
		if sess, err = cl.NewReceivePackSession(ep, s.cfg.Auth); err != nil {
			return err
		}
		adv, err = sess.AdvertisedReferencesContext(ctx)
		if !errors.Is(err, dotgit.ErrEmptyRefFile) {
			break
		}
		sess.Close() // a lock just created; ask again (see fetch)
	}
	if errors.Is(err, dotgit.ErrEmptyRefFile) {
		return err
	}
	defer func() { err = errors.Join(err, sess.Close()) }()
	if errors.Is(err, transport.ErrEmptyRemoteRepository) {
		adv, err = packp.NewAdvRefs(), nil
	}
	if err != nil {
		return err
	}
	refs, err := adv.AllReferences()
	if err != nil {
		return err
	}
	var old plumbing.Hash
	if r, ok := refs[s.branch]; ok {
		old = r.Hash()
	}
	switch old {
	case commit:
		return nil // landed already
	case base:
	default:
		return errRemoteMoved
	}
	hashes, err := s.newObjects(commit, base)
	if err != nil {
		return err
	}
	req := packp.NewReferenceUpdateRequestFromCapabilities(adv.Capabilities)
	req.Commands = []*packp.Command{{Name: s.branch, Old: old, New: commit}}
	pr, pw := io.Pipe()
	req.Packfile = pr
	encoded := make(chan error, 1)
	go func() {
		// A local remote reads the pack straight back: no compression.
		err := writePack(pw, s.st.objs, hashes, ep.Protocol != "file")
		pw.CloseWithError(err)
		encoded <- err
	}()
	rs, err := sess.ReceivePack(ctx, req)
	pr.Close() // unblocks the encoder if the remote stopped reading
	if encErr := <-encoded; err == nil && encErr != nil {
		err = encErr
	}
	if err != nil {
		return err
	}
	if rs != nil {
		return rs.Error()
	}
	return nil
}

// newObjects lists the objects the commits from commit back to base
// (exclusive, along first parents) add: each commit, and the trees and
// files of its tree that differ from its parent's at the same path.
func (s *Store) newObjects(commit, base plumbing.Hash) ([]plumbing.Hash, error) {
	var out []plumbing.Hash
	seen := map[plumbing.Hash]bool{}
	for h := commit; h != base; {
		if h.IsZero() {
			return nil, fmt.Errorf("git: commit %s does not descend from %s", commit, base)
		}
		c, err := s.commit(h)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
		var parent, parentRoot plumbing.Hash
		if len(c.ParentHashes) > 0 {
			parent = c.ParentHashes[0]
			if parentRoot, err = s.rootOf(parent.String()); err != nil {
				return nil, err
			}
		}
		if err := s.obj.added(parentRoot, c.TreeHash, seen, &out); err != nil {
			return nil, err
		}
		h = parent
	}
	return out, nil
}

// writePack writes a pack of the objects hs, each whole, compressed for
// speed if compress, else stored: go-git's encoder compresses harder,
// which for the 450 KB tree of a large folder costs more than the rest
// of a push.
func writePack(w io.Writer, objs *objectStore, hs []plumbing.Hash, compress bool) error {
	sum := sha1.New()
	bw := bufio.NewWriterSize(io.MultiWriter(w, sum), 64<<10)
	hdr := []byte("PACK\x00\x00\x00\x02")
	bw.Write(binary.BigEndian.AppendUint32(hdr, uint32(len(hs))))
	var zw *zlib.Writer // made for a push over a network: a megabyte of tables
	for _, h := range hs {
		o, err := objs.EncodedObject(plumbing.AnyObject, h)
		if err != nil {
			return fmt.Errorf("pack %s: %w", h, err)
		}
		cont := o.(*memObject).cont
		// Type and size: 3 bits of type and 4 of size, then 7 bits of
		// size a byte, the high bit saying another byte follows.
		size := uint64(len(cont))
		b := byte(o.Type())<<4 | byte(size&0x0f)
		for size >>= 4; size > 0; size >>= 7 {
			bw.WriteByte(b | 0x80)
			b = byte(size & 0x7f)
		}
		bw.WriteByte(b)
		if !compress {
			if err := writeStored(bw, cont); err != nil {
				return err
			}
			continue
		}
		if zw == nil {
			zw, _ = zlib.NewWriterLevel(bw, zlib.BestSpeed)
		} else {
			zw.Reset(bw)
		}
		zw.Write(cont)
		if err := zw.Close(); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	_, err := w.Write(sum.Sum(nil))
	return err
}
