package caldav

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/quercus-dev/quercus/caldav/davxml"
	"github.com/quercus-dev/quercus/kv"
)

func (r *request) report() error {
	res, err := r.target(readAccess)
	if err != nil {
		return err
	}
	if res.kind == kMissing {
		return errorf(http.StatusNotFound, "not found")
	}
	n, err := r.parseBody()
	if err != nil {
		return err
	}
	if n == nil {
		return errorf(http.StatusBadRequest, "REPORT needs a body")
	}
	switch {
	case n.Is(davxml.NSCalDAV, "calendar-multiget"):
		return r.multiget(res, n)
	case n.Is(davxml.NSCalDAV, "calendar-query"):
		return r.query(res, n)
	case n.Is(davxml.NSDAV, "sync-collection"):
		return r.syncCollection(res, n)
	case n.Is(davxml.NSCalDAV, "free-busy-query"):
		return r.freeBusy(res, n)
	case n.Is(davxml.NSDAV, "expand-property"):
		return r.expandProperty(res, n)
	}
	return precondition(http.StatusForbidden, davxml.NSDAV, "supported-report", "", "unsupported report "+clark(n.Name))
}

// body returns a loader of a file's bytes from the request's snapshot.
func (r *request) body(res *resource) func() ([]byte, error) {
	return func() ([]byte, error) { return r.snap.Get(r.ctx, res.key) }
}

func (r *request) multiget(coll *resource, n *davxml.Node) error {
	q, err := parsePropQuery(n)
	if err != nil {
		return err
	}
	ms := davxml.NewMultistatus()
	for _, h := range n.Children {
		if !h.Is(davxml.NSDAV, "href") {
			continue
		}
		href := h.TrimText()
		u, err := url.Parse(href)
		if err != nil {
			ms.Status(href, http.StatusBadRequest, "")
			continue
		}
		segs, err := splitPath(u.Path)
		if err != nil {
			ms.Status(href, http.StatusBadRequest, "")
			continue
		}
		res, err := r.resolve(segs)
		if err != nil {
			var he *httpError
			if errors.As(err, &he) {
				ms.Status(href, he.code, "")
				continue
			}
			return err
		}
		if res.kind != kFile || r.access(res) < readAccess {
			ms.Status(href, http.StatusNotFound, "")
			continue
		}
		stats, err := r.propstats(res, q, r.body(res))
		if err != nil {
			return err
		}
		ms.Response(res.href(), stats...)
	}
	return r.multistatus(ms)
}

func (r *request) query(coll *resource, n *davxml.Node) error {
	q, err := parsePropQuery(n)
	if err != nil {
		return err
	}
	f, err := parseFilter(n.Child(davxml.NSCalDAV, "filter"))
	if err != nil {
		return err
	}
	var files []*resource
	switch {
	case coll.kind == kFile:
		files = []*resource{coll}
	case coll.calendar():
		// RFC 3253 makes a missing Depth 0, which would match nothing
		// here; clients that leave it out mean the collection's members.
		depth, err := r.depth("1")
		if err != nil {
			return err
		}
		if depth == "0" {
			break
		}
		entries, err := r.snap.List(r.ctx, coll.key)
		if err != nil {
			return err
		}
		fs, _ := members(entries, coll.key)
		for _, e := range fs {
			files = append(files, r.fileResource(coll, e))
		}
	default:
		return precondition(http.StatusForbidden, davxml.NSCalDAV, "calendar-collection-location-ok", "",
			"calendar-query runs on a calendar collection")
	}
	ms := davxml.NewMultistatus()
	for _, res := range files {
		o, err := r.object(res.key, res.etag)
		if err != nil {
			continue
		}
		if kind, tr, ok := f.TimeRangeOnly(); ok && o.single {
			if o.comp != kind || !(o.always || tr.Overlaps(o.start, o.end)) {
				continue
			}
		} else if o, err = r.full(res.key, o); err != nil || !f.Match(o.cal) {
			continue
		}
		stats, err := r.propstats(res, q, r.body(res))
		if err != nil {
			return err
		}
		ms.Response(res.href(), stats...)
	}
	return r.multistatus(ms)
}

func (r *request) syncCollection(coll *resource, n *davxml.Node) error {
	if coll.kind != kCollection && coll.kind != kHome {
		return errorf(http.StatusForbidden, "sync-collection runs on a collection")
	}
	// Level 1 reports the collection's members; infinity (RFC 6578 §3.3)
	// also those of its child collections, at any depth. A calendar has
	// no child collections, so there both answer the same.
	deep := false
	if lvl := n.Child(davxml.NSDAV, "sync-level"); lvl != nil {
		switch strings.ToLower(lvl.TrimText()) {
		case "1":
		case "infinite", "infinity":
			deep = true
		default:
			return errorf(http.StatusBadRequest, "bad sync-level %q", lvl.TrimText())
		}
	}
	q, err := parsePropQuery(n)
	if err != nil {
		return err
	}
	limit := -1
	if l := n.Child(davxml.NSDAV, "limit"); l != nil {
		if nr := l.Child(davxml.NSDAV, "nresults"); nr != nil {
			if limit, err = strconv.Atoi(nr.TrimText()); err != nil || limit < 0 {
				return errorf(http.StatusBadRequest, "bad nresults")
			}
		}
	}
	token := ""
	if t := n.Child(davxml.NSDAV, "sync-token"); t != nil {
		token = t.TrimText()
	}
	cur, ok := parseSyncToken(token)
	if !ok {
		return precondition(http.StatusForbidden, davxml.NSDAV, "valid-sync-token", "", "unknown sync token")
	}
	now := r.snap.Version()
	// A truncated answer's token says how far into the changes from its
	// from to its to the client got; finish those, then go on to now.
	var out []syncChange
	next := syncCursor{from: now}
	budget := func() int {
		if limit < 0 {
			return int(^uint(0) >> 1)
		}
		return limit - len(out)
	}
	truncated := false
	// In another user's home only the calendars shared with the user
	// count (deeper, access is the collection's, checked already).
	foreign := coll.kind == kHome && coll.owner != r.user
	for _, seg := range cur.segments(now) {
		cs, metas, err := r.collectionChanges(coll, seg.from, seg.to, deep)
		if err == nil && foreign {
			cs, err = r.sharedChanges(coll, cs, metas, seg.from, seg.to)
		}
		if err != nil {
			if errors.Is(err, kv.ErrUnknownVersion) || errors.Is(err, kv.ErrNotFound) {
				return precondition(http.StatusForbidden, davxml.NSDAV, "valid-sync-token", "", "unknown sync token")
			}
			return err
		}
		if seg.skip > len(cs) {
			return precondition(http.StatusForbidden, davxml.NSDAV, "valid-sync-token", "", "unknown sync token")
		}
		cs = cs[seg.skip:]
		if len(cs) > budget() {
			b := budget()
			out = append(out, cs[:b]...)
			next = syncCursor{from: seg.from, skip: seg.skip + b, to: seg.to}
			truncated = true
			break
		}
		out = append(out, cs...)
	}
	ms := davxml.NewMultistatus()
	seen := map[string]bool{}
	for _, c := range out {
		if seen[c.name] {
			continue
		}
		seen[c.name] = true
		segs := append(slices.Clone(coll.segs), strings.Split(c.name, "/")...)
		res, err := r.resolve(segs)
		if err != nil {
			return err
		}
		if res.kind != kFile || (foreign && r.access(res) < readAccess) {
			ms.Status(hrefOf(segs, false), http.StatusNotFound, "")
			continue
		}
		stats, err := r.propstats(res, q, r.body(res))
		if err != nil {
			return err
		}
		ms.Response(res.href(), stats...)
	}
	if truncated {
		ms.Status(coll.href(), http.StatusInsufficientStorage, "<D:number-of-matches-within-limits/>")
	}
	ms.Raw("<D:sync-token>" + davxml.Text(next.token()) + "</D:sync-token>")
	return r.multistatus(ms)
}

// sharedChanges keeps, of the changes cs in another user's home from
// one version to another, those the user may know of: in a calendar
// shared with the user at to, or at from if the member existed then
// (the client may hold it, and must learn it is gone). The calendars
// whose meta file changed (metas) and that became shared or stopped
// being shared add all their members, at to or at from. The answer
// depends on from and to alone, so that a truncated answer's skip stays
// valid.
func (r *request) sharedChanges(coll *resource, cs []syncChange, metas []string, from, to string) ([]syncChange, error) {
	toSnap, err := r.h.store.At(r.ctx, to)
	if err != nil {
		return nil, err
	}
	var fromSnap kv.Snapshot
	if from != "" {
		if fromSnap, err = r.h.store.At(r.ctx, from); err != nil {
			return nil, err
		}
	}
	groups := r.dir.Groups(r.user)
	known := map[[2]string]bool{}
	shared := func(snap kv.Snapshot, cal string) bool {
		k := [2]string{snap.Version(), cal}
		if v, ok := known[k]; ok {
			return v
		}
		m, _, err := readMeta(snapGetter(r.ctx, snap), coll.key+"/"+cal)
		known[k] = err == nil && shareAccess(m, r.user, groups) >= readAccess
		return known[k]
	}
	var out []syncChange
	for _, c := range cs {
		cal, _, inside := strings.Cut(c.name, "/")
		switch {
		case !inside: // a file in the home itself: never shared
		case shared(toSnap, cal):
			out = append(out, c)
		case fromSnap != nil && shared(fromSnap, cal):
			_, err := fromSnap.Digest(r.ctx, coll.key+"/"+c.name)
			if err == nil {
				out = append(out, c)
			} else if !errors.Is(err, kv.ErrNotFound) {
				return nil, err
			}
		}
	}
	added := false
	for _, cal := range metas {
		then, now := shared(fromSnap, cal), shared(toSnap, cal)
		snap := toSnap
		switch {
		case then == now:
			continue
		case then:
			snap = fromSnap
		}
		entries, err := snap.List(r.ctx, coll.key+"/"+cal)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			name := strings.TrimPrefix(e.Key, coll.key+"/")
			if !strings.Contains(name, "/.") {
				out = append(out, syncChange{name: name})
				added = true
			}
		}
	}
	if added {
		slices.SortFunc(out, func(a, b syncChange) int { return strings.Compare(a.name, b.name) })
		out = slices.CompactFunc(out, func(a, b syncChange) bool { return a.name == b.name })
	}
	return out, nil
}

// syncChange is one member that changed.
type syncChange struct{ name string }

// syncCursor is what a sync token encodes: the version the client has
// seen (from), or, after a truncated answer, that it got skip of the
// changes from from to to.
type syncCursor struct {
	from string
	skip int
	to   string
}

func (c syncCursor) token() string {
	if c.skip == 0 && c.to == "" {
		return syncToken(c.from)
	}
	return syncToken(c.from + "~" + strconv.Itoa(c.skip) + "~" + c.to)
}

// parseSyncToken reads a token; "" is the initial sync.
func parseSyncToken(token string) (syncCursor, bool) {
	if token == "" {
		return syncCursor{}, true
	}
	v, ok := strings.CutPrefix(token, syncPrefix)
	if !ok {
		return syncCursor{}, false
	}
	parts := strings.Split(v, "~")
	switch len(parts) {
	case 1:
		return syncCursor{from: v}, v != ""
	case 3:
		skip, err := strconv.Atoi(parts[1])
		if err != nil || skip <= 0 || parts[2] == "" {
			return syncCursor{}, false
		}
		return syncCursor{from: parts[0], skip: skip, to: parts[2]}, true
	}
	return syncCursor{}, false
}

// segments are the ranges of history still to report, in order.
func (c syncCursor) segments(now string) []syncCursor {
	if c.to == "" {
		return []syncCursor{{from: c.from, to: now}}
	}
	return []syncCursor{c, {from: c.to, to: now}}
}

// collectionChanges lists the members of coll that changed from one
// version to another, sorted by name; from "" lists every member. deep
// includes the members of child collections, named by their path below
// coll; it also returns the child collections whose meta file changed
// (then only), whose shares may have changed.
func (r *request) collectionChanges(coll *resource, from, to string, deep bool) (out []syncChange, metas []string, err error) {
	member := func(key string) (string, bool) {
		name, ok := strings.CutPrefix(key, coll.key+"/")
		if !ok || (!deep && strings.Contains(name, "/")) {
			return "", false
		}
		for _, s := range strings.Split(name, "/") {
			if strings.HasPrefix(s, ".") {
				return "", false
			}
		}
		return name, true
	}
	if from == to {
		return nil, nil, nil
	}
	if from == "" {
		snap, err := r.h.store.At(r.ctx, to)
		if err != nil {
			return nil, nil, err
		}
		entries, err := snap.List(r.ctx, coll.key)
		if err != nil {
			return nil, nil, err
		}
		for _, e := range entries {
			if name, ok := member(e.Key); ok {
				out = append(out, syncChange{name: name})
			}
		}
		return out, nil, nil
	}
	if _, err := r.h.store.At(r.ctx, from); err != nil {
		return nil, nil, err
	}
	cs, err := r.h.store.Changes(r.ctx, from, to)
	if err != nil {
		return nil, nil, err
	}
	for _, c := range cs {
		if name, ok := member(c.Key); ok {
			out = append(out, syncChange{name: name})
		} else if child, ok := strings.CutSuffix(strings.TrimPrefix(c.Key, coll.key+"/"), "/"+metaFile); ok && deep && !strings.Contains(child, "/") {
			metas = append(metas, child)
		}
	}
	return out, metas, nil
}
