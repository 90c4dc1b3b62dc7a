package caldav

import (
	"hash/maphash"
	"strings"
	"sync"

	"github.com/quercus-dev/quercus/kv"
)

// uidIndex maps the UIDs of one calendar collection to its members at one
// version, so that a PUT checks no-uid-conflict without reading the
// whole calendar: from one version to the next the index follows the
// history's changes.
//
// A calendar of 10,000 events makes an index of that many entries, so
// it keeps a hash of each UID rather than the UID; a member found by
// hash is checked by reading its UID.
type uidIndex struct {
	version string
	byUID   map[uint64]string // hash of a UID -> member name
	byName  map[string]uint64 // member name -> hash of its UID
}

var uidSeed = maphash.MakeSeed()

func uidHash(uid string) uint64 { return maphash.String(uidSeed, uid) }

// uidIndexes holds an index per calendar collection, bounded by dropping
// them all when there are too many.
type uidIndexes struct {
	mu sync.Mutex
	m  map[string]*uidIndex
}

const maxUIDIndexes = 256

// uidOwner returns the member of the calendar folder that holds uid at
// the request's version, "" if none.
func (r *request) uidOwner(folder, uid string) (string, error) {
	ix := &r.h.uids
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.m == nil || len(ix.m) > maxUIDIndexes {
		ix.m = map[string]*uidIndex{}
	}
	idx := ix.m[folder]
	v := r.snap.Version()
	if idx == nil || !r.advance(idx, folder, v) {
		var err error
		if idx, err = r.buildUIDIndex(folder); err != nil {
			return "", err
		}
		ix.m[folder] = idx
	}
	name := idx.byUID[uidHash(uid)]
	if name == "" {
		return "", nil
	}
	key := folder + "/" + name
	d, err := r.snap.Digest(r.ctx, key)
	if err != nil || r.uidOf(key, d) != uid {
		return "", nil // another UID with the same hash
	}
	return name, nil
}

func (r *request) buildUIDIndex(folder string) (*uidIndex, error) {
	idx := &uidIndex{version: r.snap.Version(), byUID: map[uint64]string{}, byName: map[string]uint64{}}
	entries, err := r.snap.List(r.ctx, folder)
	if err != nil {
		return nil, err
	}
	files, _ := members(entries, folder)
	for _, e := range files {
		idx.set(e.Key[len(folder)+1:], r.uidOf(e.Key, e.Digest))
	}
	return idx, nil
}

// advance brings idx to version v through the changes between them, and
// reports whether it could.
func (r *request) advance(idx *uidIndex, folder, v string) bool {
	if idx.version == v {
		return true
	}
	changes, err := r.h.store.Changes(r.ctx, idx.version, v)
	if err != nil {
		return false
	}
	for _, c := range changes {
		name, ok := strings.CutPrefix(c.Key, folder+"/")
		if !ok || strings.Contains(name, "/") || strings.HasPrefix(name, ".") {
			continue
		}
		uid := ""
		if c.Op != kv.Deleted {
			d, err := r.snap.Digest(r.ctx, c.Key)
			if err != nil {
				return false
			}
			uid = r.uidOf(c.Key, d)
		}
		idx.set(name, uid)
	}
	idx.version = v
	return true
}

// uidOf is the UID of the object at key, "" if it is not a valid one.
func (r *request) uidOf(key, digest string) string {
	o, err := r.object(key, digest)
	if err != nil {
		return ""
	}
	return o.uid
}

// set records that name holds uid ("" for none).
func (idx *uidIndex) set(name, uid string) {
	if old, ok := idx.byName[name]; ok {
		if idx.byUID[old] == name {
			delete(idx.byUID, old)
		}
		delete(idx.byName, name)
	}
	if uid != "" {
		name = strings.Clone(name) // not the whole key it was cut from
		h := uidHash(uid)
		idx.byName[name] = h
		idx.byUID[h] = name
	}
}
