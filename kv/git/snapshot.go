package git

import (
	"context"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/quercus-dev/quercus/kv"
)

// snapshot is the tree of one commit. The zero commit is the empty store.
type snapshot struct {
	obj    *objects
	commit plumbing.Hash
	root   plumbing.Hash
}

func (s *snapshot) Version() string {
	if s.commit.IsZero() {
		return ""
	}
	return s.commit.String()
}

func (s *snapshot) Get(_ context.Context, key string) ([]byte, error) {
	if err := kv.CheckKey(key); err != nil {
		return nil, err
	}
	e, ok, err := s.obj.find(s.root, key)
	if err != nil {
		return nil, err
	}
	if !ok || !isFile(e) {
		return nil, kv.NotFound(key)
	}
	return s.obj.blob(e.Hash)
}

func (s *snapshot) List(_ context.Context, prefix string) ([]kv.Entry, error) {
	if err := kv.CheckPrefix(prefix); err != nil {
		return nil, err
	}
	return s.obj.list(s.root, prefix)
}

// Digest is the git object id: the blob of a file, the tree of a folder.
func (s *snapshot) Digest(_ context.Context, key string) (string, error) {
	if err := kv.CheckPrefix(key); err != nil {
		return "", err
	}
	e, ok, err := s.obj.find(s.root, key)
	if err != nil {
		return "", err
	}
	if !ok || !(isFile(e) || isDir(e)) {
		return "", kv.NotFound(key)
	}
	return e.Hash.String(), nil
}

// txn buffers edits over a base snapshot.
type txn struct {
	base  *snapshot
	edits map[string]*edit // every write, for reads
	cur   map[string]*edit // writes since the last Split
	parts []part
}

// part is the writes of one commit of a batch.
type part struct {
	edits  map[string]*edit
	commit kv.Commit
}

func newTxn(base *snapshot) *txn {
	return &txn{base: base, edits: map[string]*edit{}, cur: map[string]*edit{}}
}

func (t *txn) Split(c kv.Commit) {
	if len(t.cur) > 0 {
		t.parts = append(t.parts, part{t.cur, c})
		t.cur = map[string]*edit{}
	}
}

// commits lists the batch's commits in order, the last described by c.
func (t *txn) commits(c kv.Commit) []part {
	if len(t.cur) == 0 {
		return t.parts
	}
	return append(t.parts, part{t.cur, c})
}

func (t *txn) stage(key string, e *edit) {
	t.edits[key] = e
	t.cur[key] = e
}

func (t *txn) Get(key string) ([]byte, error) {
	if err := kv.CheckKey(key); err != nil {
		return nil, err
	}
	if ed, ok := t.edits[key]; ok {
		if ed.data == nil {
			return nil, kv.NotFound(key)
		}
		return append([]byte(nil), ed.data...), nil
	}
	return t.base.Get(context.Background(), key)
}

func (t *txn) List(prefix string) ([]kv.Entry, error) {
	base, err := t.base.List(context.Background(), prefix)
	if err != nil {
		return nil, err
	}
	return overlay(base, t.edits, prefix), nil
}

func (t *txn) Put(key string, data []byte) error {
	if err := kv.CheckKey(key); err != nil {
		return err
	}
	if l, err := t.List(key); err != nil {
		return err
	} else if len(l) > 0 {
		return &kv.KeyError{Key: key, Reason: "is a folder"}
	}
	for i := range key {
		if key[i] == '/' {
			if _, err := t.Get(key[:i]); err == nil {
				return &kv.KeyError{Key: key, Reason: "parent " + key[:i] + " is a file"}
			}
		}
	}
	t.stage(key, &edit{data: append([]byte{}, data...)})
	return nil
}

func (t *txn) Delete(key string) error {
	if _, err := t.Get(key); err != nil {
		return err
	}
	t.stage(key, &edit{})
	return nil
}
