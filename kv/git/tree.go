package git

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/quercus-dev/quercus/kv"
)

// dir is a decoded git tree. Trees are content-addressed, so a decoded
// tree is immutable and can be cached and shared by every snapshot.
type dir struct {
	entries []object.TreeEntry
	byName  map[string]int
}

func (d *dir) lookup(name string) (object.TreeEntry, bool) {
	i, ok := d.byName[name]
	if !ok {
		return object.TreeEntry{}, false
	}
	return d.entries[i], true
}

func isDir(e object.TreeEntry) bool { return e.Mode == filemode.Dir }

// isFile is true for what kv exposes as files: regular, executable and
// symlink blobs. Submodules (commits) are ignored.
func isFile(e object.TreeEntry) bool {
	return e.Mode == filemode.Regular || e.Mode == filemode.Executable ||
		e.Mode == filemode.Deprecated || e.Mode == filemode.Symlink
}

// objects reads and writes git objects through a bounded tree cache.
type objects struct {
	st *lockedStorage

	mu      sync.Mutex
	cache   map[plumbing.Hash]*dir
	entries int // held by the cached trees
}

// maxCachedTrees and maxCachedEntries bound the cache; it is cleared when
// full, which is cheap and keeps the hot trees of the current head coming
// back quickly. Entries count too: a folder of 10,000 files (a calendar)
// is one tree of about 1 MB decoded, made anew by every commit.
const (
	maxCachedTrees   = 4096
	maxCachedEntries = 64 << 10
)

func newObjects(st *lockedStorage) *objects {
	return &objects{st: st, cache: map[plumbing.Hash]*dir{}}
}

func (o *objects) tree(h plumbing.Hash) (*dir, error) {
	if h.IsZero() {
		return &dir{}, nil
	}
	o.mu.Lock()
	d, ok := o.cache[h]
	o.mu.Unlock()
	if ok {
		return d, nil
	}
	obj, err := o.st.EncodedObject(plumbing.TreeObject, h)
	if err != nil {
		return nil, fmt.Errorf("tree %s: %w", h, err)
	}
	var t object.Tree
	if err := t.Decode(obj); err != nil {
		return nil, fmt.Errorf("tree %s: %w", h, err)
	}
	d = &dir{entries: t.Entries, byName: make(map[string]int, len(t.Entries))}
	for i, e := range t.Entries {
		d.byName[e.Name] = i
	}
	o.mu.Lock()
	if len(o.cache) >= maxCachedTrees || o.entries+len(d.entries) > maxCachedEntries {
		clear(o.cache)
		o.entries = 0
	}
	o.cache[h] = d
	o.entries += len(d.entries)
	o.mu.Unlock()
	return d, nil
}

func (o *objects) blob(h plumbing.Hash) ([]byte, error) {
	obj, err := o.st.EncodedObject(plumbing.BlobObject, h)
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", h, err)
	}
	r, err := obj.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

func (o *objects) putBlob(b []byte) (plumbing.Hash, error) {
	obj := o.st.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	obj.SetSize(int64(len(b)))
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := w.Write(b); err != nil {
		return plumbing.ZeroHash, err
	}
	w.Close()
	return o.st.SetEncodedObject(obj)
}

// find resolves a path below root. A zero root is the empty tree.
func (o *objects) find(root plumbing.Hash, path string) (object.TreeEntry, bool, error) {
	e := object.TreeEntry{Mode: filemode.Dir, Hash: root}
	if path == "" {
		return e, !root.IsZero(), nil
	}
	for _, seg := range strings.Split(path, "/") {
		if !isDir(e) || e.Hash.IsZero() {
			return object.TreeEntry{}, false, nil
		}
		d, err := o.tree(e.Hash)
		if err != nil {
			return object.TreeEntry{}, false, err
		}
		next, ok := d.lookup(seg)
		if !ok {
			return object.TreeEntry{}, false, nil
		}
		e = next
	}
	return e, true, nil
}

// walk calls fn for every file below the tree h, with keys under prefix.
func (o *objects) walk(h plumbing.Hash, prefix string, fn func(key string, e object.TreeEntry) error) error {
	d, err := o.tree(h)
	if err != nil {
		return err
	}
	for _, e := range d.entries {
		key := join(prefix, e.Name)
		switch {
		case isDir(e):
			if err := o.walk(e.Hash, key, fn); err != nil {
				return err
			}
		case isFile(e):
			if err := fn(key, e); err != nil {
				return err
			}
		}
	}
	return nil
}

func (o *objects) list(root plumbing.Hash, prefix string) ([]kv.Entry, error) {
	e, ok, err := o.find(root, prefix)
	if err != nil || !ok || !isDir(e) {
		return nil, err
	}
	var out []kv.Entry
	err = o.walk(e.Hash, prefix, func(key string, e object.TreeEntry) error {
		size, err := o.st.EncodedObjectSize(e.Hash)
		if err != nil {
			return err
		}
		out = append(out, kv.Entry{Key: key, Digest: e.Hash.String(), Size: size})
		return nil
	})
	// Git orders "a.b" before "a/c"; kv promises plain key order.
	slices.SortFunc(out, func(a, b kv.Entry) int { return strings.Compare(a.Key, b.Key) })
	return out, err
}

// edit is a pending change: nil content deletes the file.
type edit struct {
	data []byte
}

// write returns the tree that is base with the edits applied (keys
// relative to base). Only the trees on the edited paths are rewritten.
// A tree left empty returns the zero hash: git stores no empty folders.
func (o *objects) write(base plumbing.Hash, edits map[string]*edit) (plumbing.Hash, error) {
	d, err := o.tree(base)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	entries := make(map[string]object.TreeEntry, len(d.entries)+len(edits))
	for _, e := range d.entries {
		entries[e.Name] = e
	}
	sub := map[string]map[string]*edit{}
	for key, ed := range edits {
		name, rest, nested := strings.Cut(key, "/")
		if nested {
			if sub[name] == nil {
				sub[name] = map[string]*edit{}
			}
			sub[name][rest] = ed
			continue
		}
		if ed.data == nil {
			delete(entries, name)
			continue
		}
		h, err := o.putBlob(ed.data)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		mode := filemode.Regular
		if old, ok := entries[name]; ok && isFile(old) {
			mode = old.Mode // keep an executable bit a human set
		}
		entries[name] = object.TreeEntry{Name: name, Mode: mode, Hash: h}
	}
	for name, edits := range sub {
		var subBase plumbing.Hash
		if old, ok := entries[name]; ok && isDir(old) {
			subBase = old.Hash
		}
		h, err := o.write(subBase, edits)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if h.IsZero() {
			// The folder is gone; a file written in its place stays.
			if e, ok := entries[name]; ok && isDir(e) {
				delete(entries, name)
			}
		} else {
			entries[name] = object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h}
		}
	}
	if len(entries) == 0 {
		return plumbing.ZeroHash, nil
	}
	t := object.Tree{Entries: make([]object.TreeEntry, 0, len(entries))}
	for _, e := range entries {
		t.Entries = append(t.Entries, e)
	}
	slices.SortFunc(t.Entries, func(a, b object.TreeEntry) int { return strings.Compare(sortName(a), sortName(b)) })
	obj := o.st.NewEncodedObject()
	if err := t.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return o.st.SetEncodedObject(obj)
}

// sortName is the name git sorts a tree entry by: folders as if they
// ended in a slash.
func sortName(e object.TreeEntry) string {
	if isDir(e) {
		return e.Name + "/"
	}
	return e.Name
}

// diff lists the files that differ between trees a and b, skipping equal
// subtrees by hash.
func (o *objects) diff(a, b plumbing.Hash, prefix string, out *[]kv.Change) error {
	if a == b {
		return nil
	}
	da, err := o.tree(a)
	if err != nil {
		return err
	}
	db, err := o.tree(b)
	if err != nil {
		return err
	}
	all := func(h plumbing.Hash, key string, op kv.Op) error {
		return o.walk(h, key, func(k string, _ object.TreeEntry) error {
			*out = append(*out, kv.Change{Key: k, Op: op})
			return nil
		})
	}
	// side reports a's or b's entry as (file hash, dir hash).
	side := func(d *dir, name string) (file, folder plumbing.Hash) {
		if e, ok := d.lookup(name); ok {
			switch {
			case isDir(e):
				return plumbing.ZeroHash, e.Hash
			case isFile(e):
				return e.Hash, plumbing.ZeroHash
			}
		}
		return plumbing.ZeroHash, plumbing.ZeroHash
	}
	names := map[string]bool{}
	for _, e := range da.entries {
		names[e.Name] = true
	}
	for _, e := range db.entries {
		names[e.Name] = true
	}
	for name := range names {
		key := join(prefix, name)
		fa, ta := side(da, name)
		fb, tb := side(db, name)
		switch {
		case !fa.IsZero() && !fb.IsZero():
			if fa != fb {
				*out = append(*out, kv.Change{Key: key, Op: kv.Modified})
			}
		case !fa.IsZero():
			*out = append(*out, kv.Change{Key: key, Op: kv.Deleted})
		case !fb.IsZero():
			*out = append(*out, kv.Change{Key: key, Op: kv.Added})
		}
		switch {
		case !ta.IsZero() && !tb.IsZero():
			err = o.diff(ta, tb, key, out)
		case !ta.IsZero():
			err = all(ta, key, kv.Deleted)
		case !tb.IsZero():
			err = all(tb, key, kv.Added)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "/" + name
}

// added appends to out the tree b and the trees and files below it that
// are not at the same path in tree a, skipping those in seen.
func (o *objects) added(a, b plumbing.Hash, seen map[plumbing.Hash]bool, out *[]plumbing.Hash) error {
	if a == b || seen[b] {
		return nil
	}
	seen[b] = true
	*out = append(*out, b)
	da, err := o.tree(a)
	if err != nil {
		return err
	}
	db, err := o.tree(b)
	if err != nil {
		return err
	}
	for _, e := range db.entries {
		old, ok := da.lookup(e.Name)
		if ok && old.Hash == e.Hash {
			continue
		}
		switch {
		case isDir(e):
			var sub plumbing.Hash
			if ok && isDir(old) {
				sub = old.Hash
			}
			if err := o.added(sub, e.Hash, seen, out); err != nil {
				return err
			}
		case isFile(e) && !seen[e.Hash]:
			seen[e.Hash] = true
			*out = append(*out, e.Hash)
		}
	}
	return nil
}
