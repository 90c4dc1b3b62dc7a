package caldav

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/quercus-dev/quercus/kv"
)

// getlastmodified and creationdate come from the git history: the
// commit that gave a file its present content, and the one that created
// it (after its last deletion). kv.Store.WalkHistory finds them for one
// key by walking the commits back from the request's snapshot, which is
// far too slow to do for each member of a 10,000-event calendar. So:
//
//   - they are computed only when asked for by name, never for allprop
//     (RFC 4918 §9.1 lets a server leave expensive live properties out of
//     allprop), and propname lists them without computing them;
//   - a stamp, once found, is kept by key and content digest, and writes
//     through this server record theirs as they commit, so the history
//     is walked at most once per file and version;
//   - getlastmodified alone walks the history only back to the newest
//     change of the file, creationdate on to the commit that added it;
//   - a request walks the history for at most historyWalks resources,
//     and its walks together look at no more than historyVersions
//     commits; the stamps not found yet are reported as not found (404
//     in the propstat);
//   - a walk that the bound stops is not taken for a finished one: the
//     stamp keeps the commit where it stopped, and a later request goes
//     on from there. So which stamps a request finds depends only on the
//     history and the requests before it, never on the machine's speed,
//     and every stamp is found after enough requests.
//
// Collections have a creationdate (their meta file's) but no
// getlastmodified: what changed below them is the CTag's business.

// historyWalks bounds the resources whose history one request walks,
// and historyVersions the commits those walks look at together.
//
// A commit costs a walk one version of the file's folder, read and
// parsed, so the cost grows with the folder. In BenchmarkListLastModified
// (a folder of 2,000 events, each added by its own commit) the walks
// took 155 to 191 µs a commit, at load averages of 5 to 9 on 2 cores
// (kv/git's BenchmarkWalkHistory: 84 µs at 3.5; the figure noted here
// before was 0.5 ms): 1000 commits, 155 to 191 ms, keep a request's walks
// near the 200 ms time bound they replace, and a request of the bench
// takes 310 to 400 ms with them, 340 before (the rest is the listing and
// the login). Its first member is 2,000 commits back, so a fresh server
// dates none on every run (the next request dates it); the time bound
// dated 0.33 to 0.67 members a request, as the machine's load went.
// Handler.historyVersions is historyVersions but in tests.
const (
	historyWalks    = 16
	historyVersions = 1000
)

// maxStamps bounds the stamps kept; past it they are all dropped.
const maxStamps = 100000

// stamp is when a file was created and last changed, as far as the
// history walked so far tells.
type stamp struct {
	digest            string // of the content the stamp is for
	created, modified time.Time
	// hasCreated and hasModified say which of them are known.
	hasCreated, hasModified bool
	// next is the commit where the walk for what is still unknown goes
	// on: every commit between the one it started at and next has been
	// looked at. "" when nothing is left to look for: the creation was
	// found, or the walk reached the first commit.
	next string
}

// known reports whether s has getlastmodified and, if created,
// creationdate.
func (s stamp) known(created bool) bool {
	return s.hasModified && (s.hasCreated || !created)
}

// historySpent is what a request's history walks have spent.
type historySpent struct {
	walks    int // resources walked for
	versions int // commits looked at
}

type stampCache struct {
	mu sync.Mutex
	m  map[string]stamp
}

// get returns the stamp of key at digest if its last change is known.
func (c *stampCache) get(key, digest string) (stamp, bool) {
	s, ok := c.lookup(key, digest)
	return s, ok && s.hasModified
}

// lookup returns what is known of key at digest, a walk's progress
// included.
func (c *stampCache) lookup(key, digest string) (stamp, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[key]
	return s, ok && s.digest == digest
}

func (c *stampCache) put(key string, s stamp) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxStamps {
		c.m = map[string]stamp{}
	}
	c.m[key] = s
}

func (c *stampCache) drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
}

// removed forgets the stamps of res, a file or a collection with every
// file below it, which a commit of this server deleted: stamps are found
// by content, and a file created again later with the same content (by
// a push, which records nothing here) is new, not the one deleted.
func (c *stampCache) removed(res *resource) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, res.key)
	if res.kind != kCollection {
		return
	}
	for k := range c.m {
		if strings.HasPrefix(k, res.key+"/") {
			delete(c.m, k)
		}
	}
}

// wrote records that a commit at t gave key the content digest, having
// had prev ("": it did not exist).
func (c *stampCache) wrote(key, prev, digest string, t time.Time) {
	if prev == "" {
		c.put(key, stamp{digest: digest, created: t, modified: t, hasCreated: true, hasModified: true})
		return
	}
	if old, ok := c.lookup(key, prev); ok {
		// The file was changed, not created: its creation, or the
		// walk looking for it, carries over.
		old.digest, old.modified, old.hasModified = digest, t, true
		c.put(key, old)
	}
}

// stampKey is the file whose history dates res: the file itself, or a
// stored collection's meta file.
func stampKey(res *resource) (string, bool) {
	switch {
	case res.kind == kFile:
		return res.key, true
	case res.kind == kCollection:
		return res.key + "/" + metaFile, true
	}
	return "", false
}

// stamp finds when res was last changed and, if created, when it was
// created, within the request's budget of history walks; ok is false
// when it has none or the budget is spent before they are found. A
// request that asks for creationdate (wantCreated) walks for both at
// once.
func (r *request) stamp(res *resource, created bool) (s stamp, ok bool, err error) {
	key, ok := stampKey(res)
	if !ok {
		return s, false, nil
	}
	digest := res.etag
	if res.kind != kFile {
		if digest, err = r.snap.Digest(r.ctx, key); err != nil {
			return s, false, nil
		}
	}
	s, ok = r.h.stamps.lookup(key, digest)
	if ok && s.known(created) {
		return s, true, nil
	}
	if !ok {
		s = stamp{digest: digest, next: r.snap.Version()}
	}
	if s.next == "" || r.hist.walks >= historyWalks || r.hist.versions >= r.h.historyVersions {
		return s, false, nil
	}
	r.hist.walks++
	s, err = r.walkStamp(key, s, created || r.wantCreated)
	if errors.Is(err, kv.ErrUnknownVersion) {
		// The commit the walk stopped at is gone (history rewritten):
		// a later request starts afresh.
		r.h.stamps.drop(key)
		return s, false, nil
	}
	if err != nil {
		return s, false, err
	}
	r.h.stamps.put(key, s)
	return s, s.known(created), nil
}

// walkStamp goes on with s's walk, one revision at a time, until it
// knows the last change and, if created, the creation, or the request's
// budget of commits is spent.
func (r *request) walkStamp(key string, s stamp, created bool) (stamp, error) {
	for !s.known(created) && s.next != "" {
		left := r.h.historyVersions - r.hist.versions
		if left <= 0 {
			break
		}
		p, err := r.h.store.WalkHistory(r.ctx, key, kv.HistoryOptions{From: s.next, Limit: 1, MaxVersions: left})
		if err != nil {
			return s, err
		}
		r.hist.versions += p.Walked
		if p.Walked == 0 && !p.Complete() {
			break // no progress: a store that never moves on is not walked forever
		}
		s.next = p.Next
		if len(p.Revisions) == 0 {
			continue
		}
		// The walk started where the file has this content: the
		// newest revision gave it, the newest addition created it.
		rev := p.Revisions[0]
		if !s.hasModified {
			s.modified, s.hasModified = rev.Author.Time, true
		}
		if rev.Op == kv.Added {
			s.created, s.hasCreated = rev.Author.Time, true
			s.next = "" // nothing older matters
		}
	}
	return s, nil
}

// httpTime and isoTime are getlastmodified's (RFC 4918 §15.7) and
// creationdate's (§15.1) formats.
func httpTime(t time.Time) string { return t.UTC().Format(http.TimeFormat) }
func isoTime(t time.Time) string  { return t.UTC().Format("2006-01-02T15:04:05Z") }
