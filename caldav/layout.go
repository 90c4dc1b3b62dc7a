package caldav

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/quercus-dev/quercus/caldav/collmeta"
	"github.com/quercus-dev/quercus/kv"
)

// metaFile holds a collection's type and properties; its presence makes
// a folder a collection.
const metaFile = collmeta.File

// Top-level URL and repository folders.
const (
	principalsSeg = "principals"
	calendarsSeg  = "calendars"
)

// meta is a collection's .props.json.
type meta = collmeta.Meta

// getter reads a key; both snapshots and transactions provide one.
type getter func(key string) ([]byte, error)

func snapGetter(ctx context.Context, s kv.Snapshot) getter {
	return func(key string) ([]byte, error) { return s.Get(ctx, key) }
}

// readMeta reads the collection meta of folder, reporting whether the
// folder is a collection.
func readMeta(get getter, folder string) (*meta, bool, error) {
	b, err := get(folder + "/" + metaFile)
	if errors.Is(err, kv.ErrNotFound) {
		return &meta{}, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	m, err := collmeta.Decode(b)
	if err != nil {
		return nil, false, err
	}
	return m, true, nil
}

func writeMeta(tx kv.Txn, folder string, m *meta) error {
	return tx.Put(folder+"/"+metaFile, m.Encode())
}

// kind is what a URL names.
type kind int

const (
	kRoot       kind = iota // /
	kPrincipals             // /principals/
	kPrincipal              // /principals/USER/
	kCalendars              // /calendars/
	kHome                   // /calendars/USER/: the calendar home
	kCollection             // a stored collection (plain or calendar)
	kFile                   // a stored resource
	kMissing                // a path in a home that does not exist
)

// resource is what a URL path resolves to.
type resource struct {
	kind  kind
	segs  []string // path segments, decoded
	key   string   // repository key: the folder of a collection, the file of a resource
	owner string   // the user whose home holds it
	meta  *meta    // collections (also the home)
	// parent is the meta of the collection holding a file (or the would-be
	// parent of a missing path), nil if that is not a collection.
	parent *meta
	etag   string
	size   int64
}

func (res *resource) isCollection() bool { return res.kind != kFile && res.kind != kMissing }

// calendar reports whether res is a calendar collection.
func (res *resource) calendar() bool {
	return res.kind == kCollection && res.meta.Calendar
}

// inCalendar reports whether res is or would be a calendar object.
func (res *resource) inCalendar() bool {
	return (res.kind == kFile || res.kind == kMissing) && res.parent != nil && res.parent.Calendar
}

// href is the URL path of res, escaped, collections ending in a slash.
func (res *resource) href() string { return hrefOf(res.segs, res.isCollection()) }

func hrefOf(segs []string, collection bool) string {
	var b strings.Builder
	for _, s := range segs {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	if collection || len(segs) == 0 {
		b.WriteByte('/')
	}
	return b.String()
}

// splitPath checks a decoded URL path and splits it into segments. A
// path that could escape its folder or name a reserved file is refused.
func splitPath(p string) ([]string, error) {
	if !strings.HasPrefix(p, "/") {
		return nil, errorf(http.StatusBadRequest, "path must be absolute")
	}
	p = strings.TrimSuffix(p[1:], "/")
	if p == "" {
		return nil, nil
	}
	segs := strings.Split(p, "/")
	for _, s := range segs {
		switch {
		case s == "", s == ".", s == "..":
			return nil, errorf(http.StatusBadRequest, "path has an empty, . or .. segment")
		case strings.HasPrefix(s, "."):
			return nil, errorf(http.StatusForbidden, "names starting with a dot are reserved")
		case strings.ContainsAny(s, "\x00\\"), len(s) > 255:
			return nil, errorf(http.StatusBadRequest, "bad path segment")
		}
	}
	if len(segs) > 16 {
		return nil, errorf(http.StatusBadRequest, "path too deep")
	}
	return segs, nil
}

// resolve finds what segs names in the repository read by get.
func resolve(get getter, segs []string) (*resource, error) {
	res := &resource{segs: segs}
	switch {
	case len(segs) == 0:
		res.kind = kRoot
		return res, nil
	case segs[0] == principalsSeg && len(segs) == 1:
		res.kind = kPrincipals
		return res, nil
	case segs[0] == principalsSeg && len(segs) == 2:
		res.kind, res.owner = kPrincipal, segs[1]
		return res, nil
	case segs[0] == calendarsSeg && len(segs) == 1:
		res.kind = kCalendars
		return res, nil
	case segs[0] != calendarsSeg:
		return nil, errorf(http.StatusNotFound, "not found")
	}
	res.owner = segs[1]
	res.key = path.Join(segs...)
	if len(segs) == 2 {
		m, _, err := readMeta(get, res.key)
		if err != nil {
			return nil, err
		}
		res.kind, res.meta = kHome, m
		return res, nil
	}
	parentKey := path.Join(segs[:len(segs)-1]...)
	// The home is a collection even before it has a meta file.
	if pm, ok, err := readMeta(get, parentKey); err != nil {
		return nil, err
	} else if ok || len(segs) == 3 {
		res.parent = pm
	}
	if m2, ok, err := readMeta(get, res.key); err != nil {
		return nil, err
	} else if ok {
		res.kind, res.meta = kCollection, m2
		return res, nil
	}
	b, err := get(res.key)
	switch {
	case errors.Is(err, kv.ErrNotFound):
		res.kind = kMissing
	case err != nil:
		return nil, err
	default:
		res.kind, res.size = kFile, int64(len(b))
	}
	return res, nil
}

// deadProps returns the dead properties of res (nil if none).
func (res *resource) deadProps() map[string]string {
	switch {
	case res.isCollection():
		if res.meta != nil {
			return res.meta.Props
		}
	case res.parent != nil:
		return res.parent.Members[res.name()]
	}
	return nil
}

// deadProps returns the dead properties of res that r's user may read.
// A share makes another user's home readable only so that the sharee
// finds the calendars shared with it there (access); the properties of
// the home itself stay its owner's, as do those of the calendars not
// shared, which access keeps the sharee from reaching at all.
func (r *request) deadProps(res *resource) map[string]string {
	if res.kind == kHome && res.owner != r.user {
		return nil
	}
	return res.deadProps()
}

func (res *resource) name() string {
	if len(res.segs) == 0 {
		return ""
	}
	return res.segs[len(res.segs)-1]
}

func (res *resource) parentKey() string { return path.Dir(res.key) }

// access is what a user may do with a resource.
type access int

const (
	noAccess access = iota
	readAccess
	writeAccess
)

// access returns what r's user may do with res.
func (r *request) access(res *resource) access {
	switch res.kind {
	case kRoot, kPrincipals, kPrincipal, kCalendars:
		return readAccess
	}
	if res.owner == r.user {
		return writeAccess
	}
	if res.kind == kHome {
		if slices.Contains(r.sharedHomes(r.user), res.owner) {
			return readAccess
		}
		return noAccess
	}
	if len(res.segs) < 3 {
		return noAccess
	}
	m, _, err := readMeta(snapGetter(r.ctx, r.snap), path.Join(res.segs[:3]...))
	if err != nil {
		return noAccess
	}
	return shareAccess(m, r.user, r.dir.Groups(r.user))
}

func shareAccess(m *meta, user string, groups []string) access {
	best := noAccess
	grant := func(g string) {
		switch g {
		case collmeta.Write:
			best = writeAccess
		case collmeta.Read:
			if best < readAccess {
				best = readAccess
			}
		}
	}
	grant(m.Share["user:"+user])
	grant(m.Share["user:*"])
	for _, g := range groups {
		grant(m.Share["group:"+g])
	}
	return best
}

// target resolves the request's own URL and checks the user may do
// need with it.
func (r *request) target(need access) (*resource, error) {
	segs, err := splitPath(r.URL.Path)
	if err != nil {
		return nil, err
	}
	res, err := r.resolve(segs)
	if err != nil {
		return nil, err
	}
	if res.kind == kPrincipal && r.dir.User(res.owner) == nil {
		return nil, errorf(http.StatusNotFound, "no such principal")
	}
	if err := r.check(res, need); err != nil {
		return nil, err
	}
	return res, nil
}

// resolve resolves segs in the request's snapshot, with the ETag of a
// file.
func (r *request) resolve(segs []string) (*resource, error) {
	res, err := resolve(snapGetter(r.ctx, r.snap), segs)
	if err != nil {
		return nil, err
	}
	if res.kind == kFile {
		if res.etag, err = r.snap.Digest(r.ctx, res.key); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func (r *request) check(res *resource, need access) error {
	if a := r.access(res); a < need {
		if a == noAccess && res.kind != kHome {
			return errorf(http.StatusNotFound, "not found")
		}
		return precondition(http.StatusForbidden, "DAV:", "need-privileges", "", "not allowed")
	}
	return nil
}

// checkBind checks that r's user may remove res from its parent or put
// something in its place. In another user's home that is the home's
// owner's right alone (RFC 3744's bind and unbind are the parent's): a
// share lets its sharees change what is in the calendar, not remove,
// move or replace the calendar itself. The caller has checked access.
func (r *request) checkBind(res *resource) error {
	if len(res.segs) == 3 && res.owner != r.user {
		return precondition(http.StatusForbidden, "DAV:", "need-privileges", "", "only the owner may remove or replace a calendar")
	}
	return nil
}

// ownsProperties reports whether r's user may change the properties of
// res: its owner alone. A share grants changing a calendar's contents
// (RFC 3744's write-content, bind and unbind), not its properties, which
// every sharee sees: one sharee must not rename or recolour the calendar
// for all.
func (r *request) ownsProperties(res *resource) bool { return res.owner == r.user }

// members lists the direct members of the collection folder: files and
// sub-collections (by their meta file), skipping meta files.
func members(entries []kv.Entry, folder string) (files []kv.Entry, colls []string) {
	prefix := folder + "/"
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Key, prefix)
		if !ok {
			continue
		}
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			if rest[i+1:] == metaFile {
				colls = append(colls, rest[:i])
			}
			continue
		}
		if rest == metaFile || strings.HasPrefix(rest, ".") {
			continue
		}
		files = append(files, e)
	}
	slices.Sort(colls)
	return files, colls
}
