package git

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/quercus-dev/quercus/kv"
)

// dir is a git tree as stored, with the offset of each entry: a folder
// of 10,000 files (a calendar) costs 40 KB beside the tree's bytes,
// which it shares with the object store, rather than a decoded entry
// and two strings per file. Trees are content-addressed, so a dir is
// immutable and can be cached and shared by every snapshot.
type dir struct {
	raw  []byte
	offs []uint32
}

func parseDir(raw []byte) (*dir, error) {
	d := &dir{raw: raw}
	for at := 0; at < len(raw); {
		e, ok := parseEntry(raw, at)
		if !ok {
			return nil, fmt.Errorf("malformed tree entry at byte %d", at)
		}
		d.offs = append(d.offs, uint32(at))
		at = e.end
	}
	return d, nil
}

func (d *dir) len() int { return len(d.offs) }

func (d *dir) at(i int) treeEntry {
	e, _ := parseEntry(d.raw, int(d.offs[i])) // parsed once in parseDir
	return e
}

// bytes returns entry i as stored.
func (d *dir) bytes(i int) []byte {
	e := d.at(i)
	return d.raw[d.offs[i]:e.end]
}

func (d *dir) entry(i int) object.TreeEntry {
	e := d.at(i)
	return object.TreeEntry{Name: string(d.raw[e.name:e.nameEnd]), Mode: e.mode, Hash: e.hash(d.raw)}
}

// lookup finds the entry called name, a file or a folder.
func (d *dir) lookup(name string) (object.TreeEntry, bool) {
	for _, asDir := range []bool{false, true} {
		i := sort.Search(d.len(), func(i int) bool { return d.compareKey(i, name, asDir) >= 0 })
		if i < d.len() && d.compareKey(i, name, asDir) == 0 {
			return d.entry(i), true
		}
	}
	return object.TreeEntry{}, false
}

// compareKey compares entry i with name in git's tree order, as a folder
// if asDir.
func (d *dir) compareKey(i int, name string, asDir bool) int {
	e := d.at(i)
	return compareNames(d.raw[e.name:e.nameEnd], e.dir, []byte(name), asDir)
}

func isDir(e object.TreeEntry) bool { return e.Mode == filemode.Dir }

// isFile is true for what kv exposes as files: regular, executable and
// symlink blobs. Submodules (commits) are ignored.
func isFile(e object.TreeEntry) bool { return isFileMode(e.Mode) }

func isFileMode(m filemode.FileMode) bool {
	return m == filemode.Regular || m == filemode.Executable ||
		m == filemode.Deprecated || m == filemode.Symlink
}

// objects reads and writes git objects through a bounded tree cache.
type objects struct {
	st *lockedStorage

	mu    sync.Mutex
	cache map[plumbing.Hash]*dir
	bytes int // held by the cached trees, beyond what the store holds
}

// maxCachedTrees and maxCachedBytes bound the cache; it is cleared when
// full, which is cheap and keeps the hot trees of the current head coming
// back quickly. A folder of 10,000 files is a tree of about 450 KB.
const (
	maxCachedTrees = 4096
	maxCachedBytes = 1 << 20
)

func newObjects(st *lockedStorage) *objects {
	return &objects{st: st, cache: map[plumbing.Hash]*dir{}}
}

var emptyDir = &dir{}

func (o *objects) tree(h plumbing.Hash) (*dir, error) {
	if h.IsZero() {
		return emptyDir, nil
	}
	o.mu.Lock()
	d, ok := o.cache[h]
	o.mu.Unlock()
	if ok {
		return d, nil
	}
	if err := o.st.objs.hasTree(h); err != nil {
		return nil, fmt.Errorf("tree %s: %w", h, err)
	}
	raw, err := o.st.objs.contentVia(h, o.cached)
	if err != nil {
		return nil, fmt.Errorf("tree %s: %w", h, err)
	}
	if d, err = parseDir(raw); err != nil {
		return nil, fmt.Errorf("tree %s: %w", h, err)
	}
	// The bytes count even when shared with the store: the tree may
	// be kept as a delta later, and the cache would then hold them.
	cost := len(d.raw) + 4*len(d.offs)
	o.mu.Lock()
	if len(o.cache) >= maxCachedTrees || o.bytes+cost > maxCachedBytes {
		clear(o.cache)
		o.bytes = 0
	}
	o.cache[h] = d
	o.bytes += cost
	o.mu.Unlock()
	return d, nil
}

// cached returns the bytes of the tree h if the cache holds it.
func (o *objects) cached(h plumbing.Hash) []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	if d, ok := o.cache[h]; ok {
		return d.raw
	}
	return nil
}

func (o *objects) blob(h plumbing.Hash) ([]byte, error) {
	b, err := o.st.objs.file(h)
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", h, err)
	}
	return b, nil
}

func (o *objects) put(t plumbing.ObjectType, b []byte) (plumbing.Hash, error) {
	return o.st.SetEncodedObject(&memObject{t: t, sz: int64(len(b)), cont: b})
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
func (o *objects) walk(h plumbing.Hash, prefix string, fn func(key string, file plumbing.Hash) error) error {
	d, err := o.tree(h)
	if err != nil {
		return err
	}
	var b strings.Builder
	for i := range d.len() {
		e := d.at(i)
		if !e.dir && !isFileMode(e.mode) {
			continue
		}
		// One allocation a key: a listing of a calendar makes 10,000.
		name := d.raw[e.name:e.nameEnd]
		if prefix != "" {
			b.Grow(len(prefix) + 1 + len(name))
			b.WriteString(prefix)
			b.WriteByte('/')
		}
		b.Write(name)
		key := b.String()
		b = strings.Builder{}
		if e.dir {
			err = o.walk(e.hash(d.raw), key, fn)
		} else {
			err = fn(key, e.hash(d.raw))
		}
		if err != nil {
			return err
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
	err = o.walk(e.Hash, prefix, func(key string, h plumbing.Hash) error {
		size, err := o.st.EncodedObjectSize(h)
		if err != nil {
			return err
		}
		out = append(out, kv.Entry{Key: key, Digest: h.String(), Size: size})
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
// relative to base). Only the trees on the edited paths are rewritten,
// each by copying the entries of its base that did not change around
// the ones that did. A tree left empty returns the zero hash: git stores
// no empty folders.
func (o *objects) write(base plumbing.Hash, edits map[string]*edit) (plumbing.Hash, error) {
	d, err := o.tree(base)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	// changed maps each name the edits touch to its new entry, nil for
	// none: whatever base has under that name goes.
	changed := map[string][]byte{}
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
			changed[name] = nil
			continue
		}
		h, err := o.put(plumbing.BlobObject, ed.data)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		mode := filemode.Regular
		if old, ok := d.lookup(name); ok && isFile(old) {
			mode = old.Mode // keep an executable bit a human set
		}
		changed[name] = encodeEntry(mode, name, h)
	}
	for name, edits := range sub {
		var subBase plumbing.Hash
		old, ok := d.lookup(name)
		if ok && isDir(old) {
			subBase = old.Hash
		}
		h, err := o.write(subBase, edits)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		switch {
		case !h.IsZero():
			changed[name] = encodeEntry(filemode.Dir, name, h)
		case ok && isDir(old):
			// The folder is gone; a file written in its place stays.
			if _, file := changed[name]; !file {
				changed[name] = nil
			}
		}
	}
	var added [][]byte
	size := len(d.raw)
	for _, e := range changed {
		if e != nil {
			added = append(added, e)
			size += len(e)
		}
	}
	slices.SortFunc(added, func(a, b []byte) int {
		ea, _ := parseEntry(a, 0)
		eb, _ := parseEntry(b, 0)
		return compareNames(a[ea.name:ea.nameEnd], ea.dir, b[eb.name:eb.nameEnd], eb.dir)
	})
	out := make([]byte, 0, size)
	for i := range d.len() {
		e := d.at(i)
		if _, ok := changed[string(d.raw[e.name:e.nameEnd])]; ok {
			continue
		}
		for len(added) > 0 {
			a, _ := parseEntry(added[0], 0)
			if compareNames(added[0][a.name:a.nameEnd], a.dir, d.raw[e.name:e.nameEnd], e.dir) > 0 {
				break
			}
			out = append(out, added[0]...)
			added = added[1:]
		}
		out = append(out, d.bytes(i)...)
	}
	for _, a := range added {
		out = append(out, a...)
	}
	if len(out) == 0 {
		return plumbing.ZeroHash, nil
	}
	if bytes.Equal(out, d.raw) {
		return base, nil
	}
	return o.put(plumbing.TreeObject, out)
}

func encodeEntry(mode filemode.FileMode, name string, h plumbing.Hash) []byte {
	b := make([]byte, 0, 8+len(name)+len(h))
	b = fmt.Appendf(b, "%o %s\x00", uint32(mode), name)
	return append(b, h[:]...)
}

// pairs walks the trees a and b in step, in git's order, calling fn
// with the index of each entry in a and in b (-1 where one has no entry
// of that name and kind); entries equal in both are skipped.
func pairs(a, b *dir, fn func(i, j int) error) error {
	i, j := 0, 0
	for i < a.len() || j < b.len() {
		c := -1
		switch {
		case i == a.len():
			c = 1
		case j < b.len():
			ea, eb := a.at(i), b.at(j)
			c = compareNames(a.raw[ea.name:ea.nameEnd], ea.dir, b.raw[eb.name:eb.nameEnd], eb.dir)
		}
		var err error
		switch {
		case c < 0:
			err = fn(i, -1)
			i++
		case c > 0:
			err = fn(-1, j)
			j++
		default:
			if !bytes.Equal(a.bytes(i), b.bytes(j)) {
				err = fn(i, j)
			}
			i, j = i+1, j+1
		}
		if err != nil {
			return err
		}
	}
	return nil
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
		return o.walk(h, key, func(k string, _ plumbing.Hash) error {
			*out = append(*out, kv.Change{Key: k, Op: op})
			return nil
		})
	}
	// A name that is a file on one side and a folder on the other sorts
	// as two entries ("x" and "x/"), so each side's entry comes alone.
	return pairs(da, db, func(i, j int) error {
		switch {
		case i >= 0 && j >= 0:
			ea, eb := da.entry(i), db.entry(j)
			key := join(prefix, ea.Name)
			switch {
			case isDir(ea):
				return o.diff(ea.Hash, eb.Hash, key, out)
			case isFile(ea) && isFile(eb):
				if ea.Hash != eb.Hash {
					*out = append(*out, kv.Change{Key: key, Op: kv.Modified})
				}
			case isFile(ea):
				*out = append(*out, kv.Change{Key: key, Op: kv.Deleted})
			case isFile(eb):
				*out = append(*out, kv.Change{Key: key, Op: kv.Added})
			}
		case i >= 0:
			ea := da.entry(i)
			key := join(prefix, ea.Name)
			if isDir(ea) {
				return all(ea.Hash, key, kv.Deleted)
			} else if isFile(ea) {
				*out = append(*out, kv.Change{Key: key, Op: kv.Deleted})
			}
		default:
			eb := db.entry(j)
			key := join(prefix, eb.Name)
			if isDir(eb) {
				return all(eb.Hash, key, kv.Added)
			} else if isFile(eb) {
				*out = append(*out, kv.Change{Key: key, Op: kv.Added})
			}
		}
		return nil
	})
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
	return pairs(da, db, func(i, j int) error {
		if j < 0 {
			return nil
		}
		eb := db.entry(j)
		switch {
		case isDir(eb):
			var sub plumbing.Hash
			if i >= 0 {
				sub = da.entry(i).Hash
			}
			return o.added(sub, eb.Hash, seen, out)
		case isFile(eb) && !seen[eb.Hash]:
			seen[eb.Hash] = true
			*out = append(*out, eb.Hash)
		}
		return nil
	})
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "/" + name
}
