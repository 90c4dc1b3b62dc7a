package git

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"math"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// objectStore holds git objects in memory, compactly, as git packs do:
//   - when a commit replaces a tree, the tree it replaced is kept as a
//     delta against the new one (see retire): a calendar of 10,000
//     events is one tree of about 450 KB, rewritten by every change, and
//     kept whole each change would cost that much for ever;
//   - files are compressed with a dictionary made of the first few
//     files stored: small files of one kind (events, zones) share most
//     of their text, so an event of 320 bytes keeps about 20.
//
// Stored content never changes once stored, so it may be read after the
// lock is released; what changes is only how an object is kept.
type objectStore struct {
	mu   sync.RWMutex
	objs map[plumbing.Hash]stored
	// dict is the files' dictionary, gathered in seed until frozen;
	// it never changes once a file is compressed with it.
	dict, seed []byte
	seeds      int
	pending    []plumbing.Hash // files stored whole, to compress (idle)
}

// form is how an object's content is kept.
type form uint8

const (
	whole    form = iota // data is the content
	deflated             // data is the content, compressed with flate
	delta                // data is a base's hash, then a delta (see delta.go)
	withDict             // data is the content, compressed with flate and dict
)

type stored struct {
	data []byte
	size uint32 // of the content
	typ  plumbing.ObjectType
	form form
	// run is, for a whole object, the longest chain of deltas that
	// ends at it: reading the object at the start of that chain applies
	// run deltas.
	run uint8
}

// base is the hash of the object a delta applies to.
func (st stored) base() plumbing.Hash { return plumbing.Hash(st.data[:len(plumbing.Hash{})]) }

const (
	// maxRun bounds delta chains (git's default depth is 50; reading
	// a history newest first applies one delta a tree, see contentVia):
	// the tree that would make a chain longer is kept deflated instead.
	maxRun = 100
	// minDeltaSize is the size below which a replaced tree stays whole:
	// a delta would save too little to pay for reading it back.
	minDeltaSize = 1024
	// Files of minDictFile to maxDictFile bytes are compressed with the
	// dictionary, which the first dictFiles of them make, up to maxDict
	// bytes.
	minDictFile, maxDictFile = 64, 64 << 10
	dictFiles, maxDict       = 8, 8 << 10
)

var _ storer.EncodedObjectStorer = (*objectStore)(nil)

func newObjectStore() *objectStore { return &objectStore{objs: map[plumbing.Hash]stored{}} }

func (s *objectStore) NewEncodedObject() plumbing.EncodedObject { return &memObject{} }

// SetEncodedObject stores o. An object already held is kept as it is:
// same hash, same content.
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
	if int64(len(data)) > math.MaxUint32 {
		return plumbing.ZeroHash, fmt.Errorf("git: object of %d bytes: too large to hold in memory", len(data))
	}
	h := o.Hash()
	if err := s.HasEncodedObject(h); err == nil {
		return h, nil
	}
	st := stored{typ: o.Type(), size: uint32(len(data)), data: data}
	if cap(data)-len(data) > 64 && cap(data)-len(data) > len(data)/8 {
		st.data = append([]byte(nil), data...) // drop what append grew
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.objs[h]; !ok {
		s.objs[h] = st
		if st.typ == plumbing.BlobObject && len(data) >= minDictFile && len(data) <= maxDictFile {
			s.pending = append(s.pending, h)
		}
	}
	return h, nil
}

// minSqueeze is how many files idle lets wait for compression: making a
// compressor costs most of a megabyte, too much for each write's file.
const minSqueeze = 64

// idle compresses the files stored whole since the last time, if there
// are at least min of them: after a fetch (min 0), or now and then
// after writes.
func (s *objectStore) idle(min int) {
	s.mu.Lock()
	pending := s.pending
	if len(pending) < min || len(pending) == 0 {
		s.mu.Unlock()
		return
	}
	s.pending = nil
	s.mu.Unlock()
	var zw *flate.Writer // with the dictionary; about a megabyte
	for _, h := range pending {
		s.mu.RLock()
		st := s.objs[h]
		dict := s.dict
		s.mu.RUnlock()
		if st.form != whole {
			continue
		}
		if dict == nil {
			s.seedDict(st.data)
			continue // it stays whole
		}
		var b bytes.Buffer
		if zw == nil {
			zw, _ = flate.NewWriterDict(&b, 2, dict) // level 2: the fastest that takes a dictionary
		} else {
			zw.Reset(&b)
		}
		zw.Write(st.data)
		zw.Close()
		if b.Len() > len(st.data)*3/4 {
			continue
		}
		z := append([]byte(nil), b.Bytes()...)
		s.mu.Lock()
		if cur := s.objs[h]; cur.form == whole {
			cur.form, cur.data = withDict, z
			s.objs[h] = cur
		}
		s.mu.Unlock()
	}
}

// seedDict adds a file to the dictionary while it gathers them; the
// dictionary is frozen once it has enough.
func (s *objectStore) seedDict(data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dict != nil {
		return
	}
	if s.seeds < dictFiles && len(s.seed)+len(data) <= maxDict {
		s.seed = append(s.seed, data...)
		s.seeds++
	}
	if s.seeds == dictFiles || len(s.seed)+minDictFile > maxDict {
		s.dict, s.seed = s.seed, nil
	}
}

// dictReaders recycles decompressors (about 40 KB each), which take
// their dictionary at each Reset.
var dictReaders sync.Pool

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
	return &memObject{h: h, t: st.typ, sz: int64(st.size), cont: cont}, nil
}

// content returns the content of the object h, applying its chain of
// deltas if it is kept as one. It is the store's own for a whole object:
// callers must not change it.
func (s *objectStore) content(h plumbing.Hash) ([]byte, error) {
	return s.contentVia(h, nil)
}

// contentVia is content, but a delta chain stops at the first object
// for which known has the content: reading a history newest first, each
// tree is then one delta away from the one read before.
func (s *objectStore) contentVia(h plumbing.Hash, known func(plumbing.Hash) []byte) ([]byte, error) {
	var deltas [][]byte // h's delta, then its base's, and so on
	var cur []byte
	var end stored
	s.mu.RLock()
	dict := s.dict
	for {
		if len(deltas) > 0 && known != nil {
			if cur = known(h); cur != nil {
				break
			}
		}
		st, ok := s.objs[h]
		if !ok || len(deltas) > maxRun {
			s.mu.RUnlock()
			return nil, fmt.Errorf("git: object %s: broken delta chain", h)
		}
		if st.form != delta {
			end = st
			break
		}
		deltas = append(deltas, st.data[len(plumbing.Hash{}):])
		h = st.base()
	}
	s.mu.RUnlock()
	if cur == nil {
		cur = end.data
		switch end.form {
		case deflated, withDict:
			if end.form == deflated {
				dict = nil
			}
			cur = make([]byte, end.size)
			zr, _ := dictReaders.Get().(io.ReadCloser)
			if zr == nil {
				zr = flate.NewReaderDict(bytes.NewReader(end.data), dict)
			} else {
				zr.(flate.Resetter).Reset(bytes.NewReader(end.data), dict)
			}
			_, err := io.ReadFull(zr, cur)
			dictReaders.Put(zr)
			if err != nil {
				return nil, fmt.Errorf("git: object %s: %w", h, err)
			}
		}
	}
	// Two buffers take turns for the intermediate versions; the last is
	// the caller's own.
	var bufs [2][]byte
	for i := len(deltas) - 1; i >= 0; i-- {
		var dst []byte
		if i > 0 {
			dst = bufs[i%2][:0]
		}
		next, err := applyDelta(dst, cur, deltas[i])
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

// hasTree reports whether h is a tree the store holds.
func (s *objectStore) hasTree(h plumbing.Hash) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if st, ok := s.objs[h]; !ok || st.typ != plumbing.TreeObject {
		return plumbing.ErrObjectNotFound
	}
	return nil
}

// file returns a copy of the content of the blob h that is the caller's.
func (s *objectStore) file(h plumbing.Hash) ([]byte, error) {
	s.mu.RLock()
	st, ok := s.objs[h]
	s.mu.RUnlock()
	if !ok || st.typ != plumbing.BlobObject {
		return nil, plumbing.ErrObjectNotFound
	}
	b, err := s.content(h)
	if err == nil && st.form == whole {
		b = append([]byte(nil), b...)
	}
	return b, err
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
	return int64(st.size), nil
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
	// A wrong delta would lose history: check it rebuilds old.
	ok = ok && deltaRebuilds(nextData, d, o.data)
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
		cur.form, cur.data = delta, append(next[:], d...)
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
