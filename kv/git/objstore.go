package git

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// objectStore holds git objects in memory, keeping history compact as
// git packs do: when a commit replaces a tree, the tree it replaced is
// kept as a delta against the new one (see retire). A calendar of
// 10,000 events is one tree of about 450 KB, rewritten by every change;
// stored whole, each change would cost that much for ever.
//
// Stored content never changes once stored, so it may be read after the
// lock is released; what changes is only how an object is kept.
type objectStore struct {
	mu   sync.RWMutex
	objs map[plumbing.Hash]stored
}

// form is how an object's content is kept.
type form uint8

const (
	whole    form = iota // data is the content
	deflated             // data is the content, compressed with flate
	delta                // data is a delta against base (see delta.go)
)

type stored struct {
	typ  plumbing.ObjectType
	form form
	// run is, for a whole object, the longest chain of deltas that
	// ends at it: reading the object at the start of that chain applies
	// run deltas.
	run  uint8
	base plumbing.Hash
	size int64 // of the content
	data []byte
}

const (
	// maxRun bounds delta chains (git's default depth is 50): the tree
	// that would make a chain longer is kept deflated instead.
	maxRun = 50
	// minDeltaSize is the size below which a replaced tree stays whole:
	// a delta would save too little to pay for reading it back.
	minDeltaSize = 1024
)

var _ storer.EncodedObjectStorer = (*objectStore)(nil)

func newObjectStore() *objectStore { return &objectStore{objs: map[plumbing.Hash]stored{}} }

func (s *objectStore) NewEncodedObject() plumbing.EncodedObject { return &memObject{} }

// SetEncodedObject stores o whole. An object already held is kept as it
// is: same hash, same content.
func (s *objectStore) SetEncodedObject(o plumbing.EncodedObject) (plumbing.Hash, error) {
	var data []byte
	if m, ok := o.(*memObject); ok {
		data = m.cont
	} else {
		r, err := o.Reader()
		if err != nil {
			return plumbing.ZeroHash, err
		}
		data = make([]byte, o.Size())
		_, err = io.ReadFull(r, data)
		r.Close()
		if err != nil {
			return plumbing.ZeroHash, err
		}
	}
	if cap(data)-len(data) > 64 && cap(data)-len(data) > len(data)/8 {
		data = append([]byte(nil), data...) // drop what append grew
	}
	h := o.Hash()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.objs[h]; !ok {
		s.objs[h] = stored{typ: o.Type(), size: int64(len(data)), data: data}
	}
	return h, nil
}

func (s *objectStore) EncodedObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	s.mu.RLock()
	st, ok := s.objs[h]
	s.mu.RUnlock()
	if !ok || (t != plumbing.AnyObject && t != st.typ) {
		return nil, plumbing.ErrObjectNotFound
	}
	cont, err := s.content(h)
	if err != nil {
		return nil, err
	}
	return &memObject{h: h, t: st.typ, sz: st.size, cont: cont}, nil
}

// content returns the content of the object h, applying its chain of
// deltas if it is kept as one.
func (s *objectStore) content(h plumbing.Hash) ([]byte, error) {
	var chain []stored // h's deltas, then the whole or deflated end
	s.mu.RLock()
	for {
		st, ok := s.objs[h]
		if !ok || len(chain) > maxRun {
			s.mu.RUnlock()
			return nil, fmt.Errorf("git: object %s: broken delta chain", h)
		}
		chain = append(chain, st)
		if st.form != delta {
			break
		}
		h = st.base
	}
	s.mu.RUnlock()
	end := chain[len(chain)-1]
	cur := end.data
	if end.form == deflated {
		cur = make([]byte, end.size)
		r := flate.NewReader(bytes.NewReader(end.data))
		_, err := io.ReadFull(r, cur)
		r.Close()
		if err != nil {
			return nil, fmt.Errorf("git: object %s: %w", h, err)
		}
	}
	// Two buffers take turns for the intermediate versions; the last is
	// the caller's own.
	var bufs [2][]byte
	for i := len(chain) - 2; i >= 0; i-- {
		var dst []byte
		if i > 0 {
			dst = bufs[i%2][:0]
		}
		next, err := applyDelta(dst, cur, chain[i].data)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			bufs[i%2] = next
		}
		cur = next
	}
	return cur, nil
}

func (s *objectStore) HasEncodedObject(h plumbing.Hash) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.objs[h]; !ok {
		return plumbing.ErrObjectNotFound
	}
	return nil
}

func (s *objectStore) EncodedObjectSize(h plumbing.Hash) (int64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, ok := s.objs[h]
	if !ok {
		return 0, plumbing.ErrObjectNotFound
	}
	return st.size, nil
}

func (s *objectStore) IterEncodedObjects(t plumbing.ObjectType) (storer.EncodedObjectIter, error) {
	s.mu.RLock()
	var hs []plumbing.Hash
	for h, st := range s.objs {
		if t == plumbing.AnyObject || st.typ == t {
			hs = append(hs, h)
		}
	}
	s.mu.RUnlock()
	objs := make([]plumbing.EncodedObject, 0, len(hs))
	for _, h := range hs {
		o, err := s.EncodedObject(t, h)
		if err != nil {
			return nil, err
		}
		objs = append(objs, o)
	}
	return storer.NewEncodedObjectSliceIter(objs), nil
}

func (s *objectStore) AddAlternate(string) error { return nil }

// held returns how many bytes the stored objects' data take.
func (s *objectStore) held() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var n int64
	for _, st := range s.objs {
		n += int64(len(st.data))
	}
	return n
}

// retire records that tree next replaced tree old, at the same path of a
// newer commit: old, if it is large and whole, is kept as a delta against
// next, or deflated if that would make a chain of deltas too long. The
// folders of old that next changed are retired in turn.
func (s *objectStore) retire(old, next plumbing.Hash) error {
	if old == next || old.IsZero() || next.IsZero() {
		return nil
	}
	s.mu.RLock()
	o, okOld := s.objs[old]
	n, okNext := s.objs[next]
	s.mu.RUnlock()
	if !okOld || !okNext || o.typ != plumbing.TreeObject || n.typ != plumbing.TreeObject || o.form != whole {
		return nil // absent, or retired already
	}
	nextData, err := s.content(next)
	if err != nil {
		return err
	}
	d, folders, ok := treeDelta(o.data, nextData)
	if ok {
		// A wrong delta would lose history: check it rebuilds old.
		rebuilt, err := applyDelta(nil, nextData, d)
		ok = err == nil && bytes.Equal(rebuilt, o.data)
	}
	if len(o.data) >= minDeltaSize {
		s.keepCompact(old, o, next, d, ok && n.form == whole)
	}
	for _, f := range folders {
		if err := s.retire(f[0], f[1]); err != nil {
			return err
		}
	}
	return nil
}

// keepCompact replaces old's whole content by a delta d against next (if
// ok and worth it) or by its deflated content.
func (s *objectStore) keepCompact(old plumbing.Hash, o stored, next plumbing.Hash, d []byte, ok bool) {
	ok = ok && len(d) < len(o.data)/2
	var z []byte
	if !ok || o.run >= maxRun {
		var b bytes.Buffer
		w, _ := flate.NewWriter(&b, flate.BestSpeed)
		w.Write(o.data)
		w.Close()
		if b.Len() >= len(o.data) {
			return
		}
		z = append([]byte(nil), b.Bytes()...) // b has grown by doubling
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.objs[old]
	n, found := s.objs[next]
	if cur.form != whole || !found {
		return // another writer got there first
	}
	if z == nil && n.form == whole {
		// Only a whole object may be a base, so chains never loop.
		cur.form, cur.base, cur.data = delta, next, d
		n.run = max(n.run, cur.run+1)
		s.objs[next] = n
	} else if z != nil {
		cur.form, cur.data = deflated, z
	} else {
		return
	}
	s.objs[old] = cur
}

// memObject is an object's content in memory, shared with the store:
// readers must not change it.
type memObject struct {
	h    plumbing.Hash
	t    plumbing.ObjectType
	sz   int64
	cont []byte
}

func (o *memObject) Hash() plumbing.Hash {
	if o.h.IsZero() {
		o.h = plumbing.ComputeHash(o.t, o.cont)
	}
	return o.h
}

func (o *memObject) Type() plumbing.ObjectType     { return o.t }
func (o *memObject) SetType(t plumbing.ObjectType) { o.t = t }
func (o *memObject) Size() int64                   { return o.sz }
func (o *memObject) SetSize(n int64)               { o.sz = n }

func (o *memObject) Reader() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(o.cont)), nil
}

func (o *memObject) Writer() (io.WriteCloser, error) { return o, nil }

func (o *memObject) Write(p []byte) (int, error) {
	o.h = plumbing.ZeroHash
	if o.cont == nil && o.sz > int64(len(p)) {
		o.cont = make([]byte, 0, o.sz) // SetSize told us
	}
	o.cont = append(o.cont, p...)
	o.sz = int64(len(o.cont))
	return len(p), nil
}

func (o *memObject) Close() error { return nil }
