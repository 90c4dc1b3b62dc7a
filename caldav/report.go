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
		depth, err := r.depth("0")
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
	if lvl := n.Child(davxml.NSDAV, "sync-level"); lvl != nil && lvl.TrimText() != "1" {
		return errorf(http.StatusForbidden, "only sync-level 1 is supported")
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
	invalid := precondition(http.StatusForbidden, davxml.NSDAV, "valid-sync-token", "", "unknown sync token")
	from := ""
	if token != "" {
		v, ok := strings.CutPrefix(token, syncPrefix)
		if !ok {
			return invalid
		}
		if _, err := r.h.store.At(r.ctx, v); err != nil {
			return invalid
		}
		from = v
	}
	now := r.snap.Version()
	type change struct {
		name    string
		deleted bool
	}
	var changes []change
	if from == "" {
		entries, err := r.snap.List(r.ctx, coll.key)
		if err != nil {
			return err
		}
		files, _ := members(entries, coll.key)
		for _, e := range files {
			changes = append(changes, change{name: e.Key[len(coll.key)+1:]})
		}
	} else {
		cs, err := r.h.store.Changes(r.ctx, from, now)
		if err != nil {
			if errors.Is(err, kv.ErrUnknownVersion) {
				return invalid
			}
			return err
		}
		for _, c := range cs {
			name, ok := strings.CutPrefix(c.Key, coll.key+"/")
			if !ok || strings.Contains(name, "/") || strings.HasPrefix(name, ".") {
				continue
			}
			changes = append(changes, change{name: name, deleted: c.Op == kv.Deleted})
		}
	}
	if limit >= 0 && len(changes) > limit {
		return precondition(http.StatusInsufficientStorage, davxml.NSDAV, "number-of-matches-within-limits", "",
			strconv.Itoa(len(changes))+" changes, more than the limit")
	}
	ms := davxml.NewMultistatus()
	for _, c := range changes {
		segs := append(slices.Clone(coll.segs), c.name)
		if c.deleted {
			ms.Status(hrefOf(segs, false), http.StatusNotFound, "")
			continue
		}
		res, err := r.resolve(segs)
		if err != nil {
			return err
		}
		stats, err := r.propstats(res, q, r.body(res))
		if err != nil {
			return err
		}
		ms.Response(res.href(), stats...)
	}
	ms.Raw("<D:sync-token>" + davxml.Text(syncToken(now)) + "</D:sync-token>")
	return r.multistatus(ms)
}
