package caldav

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// shareIndex lists the calendars that carry a share, for one version of
// the repository: "OWNER/CAL" -> meta.
type shareIndex struct {
	mu      sync.Mutex
	version string
	shared  map[string]*meta
}

// shares returns the shared calendars at the request's version, reading
// every calendar's meta file once per version. Only discovery needs it.
func (r *request) shares() (map[string]*meta, error) {
	idx := &r.h.shares
	idx.mu.Lock()
	defer idx.mu.Unlock()
	v := r.snap.Version()
	if idx.shared != nil && idx.version == v {
		return idx.shared, nil
	}
	entries, err := r.snap.List(r.ctx, calendarsSeg)
	if err != nil {
		return nil, err
	}
	shared := map[string]*meta{}
	for _, e := range entries {
		parts := strings.Split(e.Key, "/")
		if len(parts) != 4 || parts[3] != metaFile {
			continue
		}
		b, err := r.snap.Get(r.ctx, e.Key)
		if err != nil {
			return nil, err
		}
		var m meta
		if json.Unmarshal(b, &m) != nil || len(m.Share) == 0 {
			continue
		}
		shared[parts[1]+"/"+parts[2]] = &m
	}
	idx.version, idx.shared = v, shared
	return shared, nil
}

// sharedHomes lists the other users whose homes hold a calendar user may
// read.
func (r *request) sharedHomes(user string) []string {
	shared, err := r.shares()
	if err != nil {
		r.h.log.Warn("reading shares", "err", err)
		return nil
	}
	groups := r.dir.Groups(user)
	var owners []string
	for k, m := range shared {
		owner, _, _ := strings.Cut(k, "/")
		if owner != user && shareAccess(m, user, groups) > noAccess && !slices.Contains(owners, owner) {
			owners = append(owners, owner)
		}
	}
	slices.Sort(owners)
	return owners
}

// sharedHomeTag is the CTag of another user's home as r's user sees it:
// a digest of the calendars there shared with the user, so that it does
// not change with the others.
func (r *request) sharedHomeTag(home *resource) (string, error) {
	shared, err := r.shares()
	if err != nil {
		return "", err
	}
	groups := r.dir.Groups(r.user)
	h := sha256.New()
	for _, k := range sortedKeys(shared) {
		owner, cal, _ := strings.Cut(k, "/")
		if owner != home.owner || shareAccess(shared[k], r.user, groups) < readAccess {
			continue
		}
		d, err := r.snap.Digest(r.ctx, home.key+"/"+cal)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %s\n", cal, d)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
