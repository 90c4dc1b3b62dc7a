package git

import (
	"bytes"
	"encoding/binary"
	"errors"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
)

// A delta rebuilds an object from a base object: the size of the result
// as a uvarint, then operations, each a uvarint n followed by
//   - n odd: n>>1 bytes to insert, which follow;
//   - n even: a uvarint offset: copy n>>1 bytes of the base from there.
//
// This is git's idea (a pack's deltas copy from a base and insert the
// rest) in a simpler encoding, for objects that never leave the process.

var errBadDelta = errors.New("git: corrupt delta")

// applyDelta appends to dst the object that d rebuilds from base.
func applyDelta(dst, base, d []byte) ([]byte, error) {
	size, k := binary.Uvarint(d)
	if k <= 0 || size > 1<<31 {
		return nil, errBadDelta
	}
	d = d[k:]
	if cap(dst) < int(size) {
		dst = make([]byte, 0, size)
	}
	for len(d) > 0 {
		n, k := binary.Uvarint(d)
		if k <= 0 {
			return nil, errBadDelta
		}
		d = d[k:]
		l := n >> 1
		if n&1 == 1 {
			if l > uint64(len(d)) {
				return nil, errBadDelta
			}
			dst = append(dst, d[:l]...)
			d = d[l:]
			continue
		}
		off, k := binary.Uvarint(d)
		if k <= 0 || off > uint64(len(base)) || l > uint64(len(base))-off {
			return nil, errBadDelta
		}
		d = d[k:]
		dst = append(dst, base[off:off+l]...)
	}
	if len(dst) != int(size) {
		return nil, errBadDelta
	}
	return dst, nil
}

// deltaRebuilds reports whether d rebuilds want from base, comparing as
// it goes rather than building a copy.
func deltaRebuilds(base, d, want []byte) bool {
	size, k := binary.Uvarint(d)
	if k <= 0 || size != uint64(len(want)) {
		return false
	}
	for d = d[k:]; len(d) > 0; {
		n, k := binary.Uvarint(d)
		if k <= 0 {
			return false
		}
		d = d[k:]
		l := n >> 1
		var part []byte
		if n&1 == 1 {
			if l > uint64(len(d)) {
				return false
			}
			part, d = d[:l], d[l:]
		} else {
			off, k := binary.Uvarint(d)
			if k <= 0 || off > uint64(len(base)) || l > uint64(len(base))-off {
				return false
			}
			part, d = base[off:off+l], d[k:]
		}
		if uint64(len(want)) < l || !bytes.Equal(part, want[:l]) {
			return false
		}
		want = want[l:]
	}
	return len(want) == 0
}

// treeDelta encodes the git tree old as a delta against the tree base.
// Both list their entries in git's order, so one pass over the two finds
// the entries they share, which the delta copies, and the rest of old,
// which it inserts. folders lists the subtrees with the same name in
// both whose contents differ, as {old's, base's}. ok is false if old or
// base is not a well-formed tree.
func treeDelta(old, base []byte) (d []byte, folders [][2]plumbing.Hash, ok bool) {
	d = binary.AppendUvarint(nil, uint64(len(old)))
	copyOff, copyLen := 0, 0   // a run of base to copy
	litStart, litEnd := -1, -1 // a run of old to insert
	flush := func() {
		if copyLen > 0 {
			d = binary.AppendUvarint(d, uint64(copyLen)<<1)
			d = binary.AppendUvarint(d, uint64(copyOff))
			copyLen = 0
		}
		if litStart >= 0 {
			d = binary.AppendUvarint(d, uint64(litEnd-litStart)<<1|1)
			d = append(d, old[litStart:litEnd]...)
			litStart = -1
		}
	}
	j := 0
	var b treeEntry
	haveB := false
	for i := 0; i < len(old); {
		a, okA := parseEntry(old, i)
		if !okA {
			return nil, nil, false
		}
		if !haveB && j < len(base) {
			if b, haveB = parseEntry(base, j); !haveB {
				return nil, nil, false
			}
		}
		c := -1 // base has no entry left: old's is its own
		if haveB {
			c = compareEntries(old, a, base, b)
		}
		if c > 0 { // base's entry is not in old
			j, haveB = b.end, false
			continue
		}
		if c == 0 && bytes.Equal(old[i:a.end], base[j:b.end]) {
			if litStart >= 0 || (copyLen > 0 && copyOff+copyLen != j) {
				flush()
			}
			if copyLen == 0 {
				copyOff = j
			}
			copyLen += b.end - j
		} else {
			if c == 0 && a.dir && b.dir {
				folders = append(folders, [2]plumbing.Hash{a.hash(old), b.hash(base)})
			}
			if copyLen > 0 {
				flush()
			}
			if litStart < 0 {
				litStart = i
			}
			litEnd = a.end
		}
		if c == 0 {
			j, haveB = b.end, false
		}
		i = a.end
	}
	flush()
	return d, folders, true
}

// treeEntry locates one entry of a git tree: "mode name\x00" and a
// 20-byte hash.
type treeEntry struct {
	name, nameEnd, end int
	mode               filemode.FileMode
	dir                bool
}

func (e treeEntry) hash(buf []byte) plumbing.Hash {
	var h plumbing.Hash
	copy(h[:], buf[e.end-len(h):e.end])
	return h
}

func parseEntry(buf []byte, at int) (treeEntry, bool) {
	var e treeEntry
	i := at
	for ; i < len(buf) && buf[i] != ' '; i++ {
		c := buf[i]
		if c < '0' || c > '7' || i-at > 7 {
			return treeEntry{}, false
		}
		e.mode = e.mode<<3 | filemode.FileMode(c-'0')
	}
	if i == at || i == len(buf) {
		return treeEntry{}, false
	}
	e.name = i + 1
	nul := bytes.IndexByte(buf[e.name:], 0)
	if nul < 0 {
		return treeEntry{}, false
	}
	e.nameEnd = e.name + nul
	e.end = e.nameEnd + 1 + len(plumbing.Hash{})
	if e.end > len(buf) {
		return treeEntry{}, false
	}
	e.dir = e.mode == filemode.Dir
	return e, true
}

// compareEntries orders entries as git sorts a tree.
func compareEntries(abuf []byte, a treeEntry, bbuf []byte, b treeEntry) int {
	return compareNames(abuf[a.name:a.nameEnd], a.dir, bbuf[b.name:b.nameEnd], b.dir)
}

// compareNames orders names as git sorts a tree's entries: a folder's
// name as if it ended in a slash.
func compareNames(an []byte, aDir bool, bn []byte, bDir bool) int {
	n := min(len(an), len(bn))
	if c := bytes.Compare(an[:n], bn[:n]); c != 0 {
		return c
	}
	next := func(name []byte, dir bool) int {
		switch {
		case len(name) > n:
			return int(name[n])
		case dir:
			return '/'
		}
		return -1
	}
	ca, cb := next(an, aDir), next(bn, bDir)
	switch {
	case ca < cb:
		return -1
	case ca > cb:
		return 1
	}
	return 0
}
