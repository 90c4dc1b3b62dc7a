package git

import (
	"sync"

	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/index"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage"
	"github.com/go-git/go-git/v5/storage/memory"
)

// lockedStorage makes go-git's in-memory storage safe for readers that
// run while a fetch or push writes. It wraps rather than embeds so that
// none of memory.Storage's optional interfaces (its transactions write to
// the maps directly) leak past the lock.
type lockedStorage struct {
	mu sync.RWMutex
	s  *memory.Storage
}

var _ storage.Storer = (*lockedStorage)(nil)

func newStorage() *lockedStorage { return &lockedStorage{s: memory.NewStorage()} }

func (l *lockedStorage) NewEncodedObject() plumbing.EncodedObject {
	return l.s.NewEncodedObject()
}

func (l *lockedStorage) SetEncodedObject(o plumbing.EncodedObject) (plumbing.Hash, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s.SetEncodedObject(o)
}

func (l *lockedStorage) EncodedObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.s.EncodedObject(t, h)
}

func (l *lockedStorage) IterEncodedObjects(t plumbing.ObjectType) (storer.EncodedObjectIter, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	it, err := l.s.IterEncodedObjects(t)
	if err != nil {
		return nil, err
	}
	// Copy while locked: the caller iterates after we unlock.
	var objs []plumbing.EncodedObject
	err = it.ForEach(func(o plumbing.EncodedObject) error { objs = append(objs, o); return nil })
	return storer.NewEncodedObjectSliceIter(objs), err
}

func (l *lockedStorage) HasEncodedObject(h plumbing.Hash) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.s.HasEncodedObject(h)
}

func (l *lockedStorage) EncodedObjectSize(h plumbing.Hash) (int64, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.s.EncodedObjectSize(h)
}

func (l *lockedStorage) AddAlternate(string) error { return nil }

func (l *lockedStorage) SetReference(r *plumbing.Reference) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s.SetReference(r)
}

func (l *lockedStorage) CheckAndSetReference(n, o *plumbing.Reference) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s.CheckAndSetReference(n, o)
}

func (l *lockedStorage) Reference(n plumbing.ReferenceName) (*plumbing.Reference, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.s.Reference(n)
}

func (l *lockedStorage) IterReferences() (storer.ReferenceIter, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	it, err := l.s.IterReferences()
	if err != nil {
		return nil, err
	}
	var refs []*plumbing.Reference
	err = it.ForEach(func(r *plumbing.Reference) error { refs = append(refs, r); return nil })
	return storer.NewReferenceSliceIter(refs), err
}

func (l *lockedStorage) RemoveReference(n plumbing.ReferenceName) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s.RemoveReference(n)
}

func (l *lockedStorage) CountLooseRefs() (int, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.s.CountLooseRefs()
}

func (l *lockedStorage) PackRefs() error { return nil }

func (l *lockedStorage) SetShallow(h []plumbing.Hash) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s.SetShallow(h)
}

func (l *lockedStorage) Shallow() ([]plumbing.Hash, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.s.Shallow()
}

func (l *lockedStorage) SetIndex(i *index.Index) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s.SetIndex(i)
}

func (l *lockedStorage) Index() (*index.Index, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.s.Index()
}

func (l *lockedStorage) Config() (*config.Config, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.s.Config()
}

func (l *lockedStorage) SetConfig(c *config.Config) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s.SetConfig(c)
}

func (l *lockedStorage) Module(string) (storage.Storer, error) { return newStorage(), nil }
