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

// lockedStorage is the store's go-git storage: objects in an
// objectStore, which keeps history compact, and references and
// configuration in go-git's memory storage, made safe for readers that
// run while a fetch or push writes. It wraps rather than embeds so that
// none of memory.Storage's optional interfaces (its transactions write to
// the maps directly) leak past the lock.
type lockedStorage struct {
	objs *objectStore
	mu   sync.RWMutex
	s    *memory.Storage
}

var _ storage.Storer = (*lockedStorage)(nil)

func newStorage() *lockedStorage {
	return &lockedStorage{objs: newObjectStore(), s: memory.NewStorage()}
}

func (l *lockedStorage) NewEncodedObject() plumbing.EncodedObject {
	return l.objs.NewEncodedObject()
}

func (l *lockedStorage) SetEncodedObject(o plumbing.EncodedObject) (plumbing.Hash, error) {
	return l.objs.SetEncodedObject(o)
}

func (l *lockedStorage) EncodedObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	return l.objs.EncodedObject(t, h)
}

func (l *lockedStorage) IterEncodedObjects(t plumbing.ObjectType) (storer.EncodedObjectIter, error) {
	return l.objs.IterEncodedObjects(t)
}

func (l *lockedStorage) HasEncodedObject(h plumbing.Hash) error { return l.objs.HasEncodedObject(h) }

func (l *lockedStorage) EncodedObjectSize(h plumbing.Hash) (int64, error) {
	return l.objs.EncodedObjectSize(h)
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
