package caldav

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/quercus-dev/quercus/kv"
)

// getlastmodified and creationdate come from the git history: the
// commit that gave a file its present content, and the one that created
// it (after its last deletion). kv.Store.History finds them for one key
// by walking the commits, which is far too slow to do for each member of
// a 10,000-event calendar. So:
//
//   - they are computed only when asked for by name, never for allprop
//     (RFC 4918 §9.1 lets a server leave expensive live properties out of
//     allprop), and propname lists them without computing them;
//   - a stamp, once found, is kept by key and content digest, and writes
//     through this server record theirs as they commit, so the history
//     is walked at most once per file and version;
//   - getlastmodified alone walks the history only back to the newest
//     change of the file (kv.Store.History with limit 1);
//   - a request walks the history for at most historyWalks resources
//     and historyTime; the others' stamps are reported as not found (404
//     in the propstat) until a later request has found them.
//
// Collections have a creationdate (their meta file's) but no
// getlastmodified: what changed below them is the CTag's business.

// historyWalks bounds the history walks of one request, and
// historyTime the time they may take together: in kv/git a walk costs
// about half a millisecond per commit it passes (BenchmarkListLastModified).
// The time bound makes the answer depend on the machine's speed; a
// bound on the commits passed would not, but kv.Store.History counts
// the key's revisions, not the commits it passes, so caldav cannot set
// one. Handler.historyTime is historyTime but in tests.
const (
	historyWalks = 16
	historyTime  = 200 * time.Millisecond
)

// maxStamps bounds the stamps kept; past it they are all dropped.
const maxStamps = 100000

// stamp is when a file was created and last changed.
type stamp struct {
	digest            string // of the content the stamp is for
	created, modified time.Time
	// partial: created is not known (only getlastmodified was asked
	// for, which needs the history only back to the last change).
	partial bool
}

type stampCache struct {
	mu sync.Mutex
	m  map[string]stamp
}

func (c *stampCache) get(key, digest string) (stamp, bool) {
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

// wrote records that a commit at t gave key the content digest, having
// had prev ("": it did not exist).
func (c *stampCache) wrote(key, prev, digest string, t time.Time) {
	if prev == "" {
		c.put(key, stamp{digest: digest, created: t, modified: t})
		return
	}
	if old, ok := c.get(key, prev); ok {
		c.put(key, stamp{digest: digest, created: old.created, modified: t, partial: old.partial})
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
// when it has none or the budget is spent.
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
	if s, ok := r.h.stamps.get(key, digest); ok && (!created || !s.partial) {
		return s, true, nil
	}
	if r.walks >= historyWalks {
		return s, false, nil
	}
	r.walks++
	if r.walkCtx == nil {
		r.walkCtx, r.walkCancel = context.WithTimeout(r.ctx, r.h.historyTime)
	}
	s, ok, err = r.walkStamp(key, digest, created)
	if errors.Is(err, context.DeadlineExceeded) && r.ctx.Err() == nil {
		r.walks = historyWalks // out of time: no more walks in this request
		return s, false, nil
	}
	return s, ok, err
}

// walkStamp finds key's stamp in the history.
func (r *request) walkStamp(key, digest string, created bool) (s stamp, ok bool, err error) {
	if !created {
		// The last change is usually the newest revision: walk no further.
		revs, err := r.h.store.History(r.walkCtx, key, 1)
		if err != nil {
			return s, false, err
		}
		if len(revs) == 1 {
			if d, err := r.digestAt(revs[0].Version, key); err != nil {
				return s, false, err
			} else if d == digest {
				s = stamp{digest: digest, modified: revs[0].Author.Time, partial: true}
				r.h.stamps.put(key, s)
				return s, true, nil
			}
		}
	}
	revs, err := r.h.store.History(r.walkCtx, key, 0)
	if err != nil {
		return s, false, err
	}
	// Newest first: the first version holding this content changed it
	// last (the head may have moved past the request's snapshot); the
	// oldest one before a version without the file created it.
	found := false
	for _, rev := range revs {
		d, err := r.digestAt(rev.Version, key)
		if err != nil {
			return s, false, err
		}
		switch {
		case !found && d == digest:
			found = true
			s = stamp{digest: digest, created: rev.Author.Time, modified: rev.Author.Time}
		case found && d == "":
			r.h.stamps.put(key, s)
			return s, true, nil
		case found:
			s.created = rev.Author.Time
		}
	}
	if found {
		r.h.stamps.put(key, s)
	}
	return s, found, nil
}

// digestAt is key's digest at version, "" if it does not exist there;
// it is part of a walk.
func (r *request) digestAt(version, key string) (string, error) {
	snap, err := r.h.store.At(r.walkCtx, version)
	if err != nil {
		return "", err
	}
	d, err := snap.Digest(r.walkCtx, key)
	if errors.Is(err, kv.ErrNotFound) {
		return "", nil
	}
	return d, err
}

// httpTime and isoTime are getlastmodified's (RFC 4918 §15.7) and
// creationdate's (§15.1) formats.
func httpTime(t time.Time) string { return t.UTC().Format(http.TimeFormat) }
func isoTime(t time.Time) string  { return t.UTC().Format("2006-01-02T15:04:05Z") }
