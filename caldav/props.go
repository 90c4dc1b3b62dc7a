package caldav

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/quercus-dev/quercus/caldav/davxml"
	"github.com/quercus-dev/quercus/kv"
)

// clark is a name in Clark notation, the key of stored properties.
func clark(n xml.Name) string { return "{" + n.Space + "}" + n.Local }

func unclark(s string) xml.Name {
	space, local, _ := strings.Cut(strings.TrimPrefix(s, "{"), "}")
	return xml.Name{Space: space, Local: local}
}

var (
	pResourceType    = davxml.DAV("resourcetype")
	pDisplayName     = davxml.DAV("displayname")
	pETag            = davxml.DAV("getetag")
	pContentLength   = davxml.DAV("getcontentlength")
	pContentType     = davxml.DAV("getcontenttype")
	pLastModified    = davxml.DAV("getlastmodified")
	pCreationDate    = davxml.DAV("creationdate")
	pCurrentUser     = davxml.DAV("current-user-principal")
	pPrincipalURL    = davxml.DAV("principal-URL")
	pPrincipalColl   = davxml.DAV("principal-collection-set")
	pOwner           = davxml.DAV("owner")
	pPrivileges      = davxml.DAV("current-user-privilege-set")
	pReports         = davxml.DAV("supported-report-set")
	pSyncToken       = davxml.DAV("sync-token")
	pLockDiscovery   = davxml.DAV("lockdiscovery")
	pSupportedLock   = davxml.DAV("supportedlock")
	pGetCTag         = davxml.Name(davxml.NSCS, "getctag")
	pHomeSet         = davxml.CalDAV("calendar-home-set")
	pUserAddressSet  = davxml.CalDAV("calendar-user-address-set")
	pComponentSet    = davxml.CalDAV("supported-calendar-component-set")
	pSupportedData   = davxml.CalDAV("supported-calendar-data")
	pMaxResourceSize = davxml.CalDAV("max-resource-size")
	pCalendarData    = davxml.CalDAV("calendar-data")
)

// protected properties cannot be set by PROPPATCH.
var protected = map[xml.Name]bool{
	pResourceType: true, pETag: true, pContentLength: true, pContentType: true,
	pLastModified: true, pCurrentUser: true, pPrincipalURL: true, pPrincipalColl: true,
	pOwner: true, pPrivileges: true, pReports: true, pSyncToken: true, pGetCTag: true,
	pHomeSet: true, pUserAddressSet: true, pComponentSet: true, pSupportedData: true,
	pMaxResourceSize: true, pCalendarData: true, pLockDiscovery: true, pSupportedLock: true,
	pCreationDate: true,
}

// allProps are the live properties an allprop PROPFIND returns.
var allProps = []xml.Name{pResourceType, pETag, pContentLength, pContentType}

// liveNames are the live properties a propname PROPFIND lists (and
// getlastmodified and creationdate, see times.go).
var liveNames = []xml.Name{pResourceType, pETag, pContentLength, pContentType, pCurrentUser,
	pPrincipalURL, pPrincipalColl, pOwner, pPrivileges, pReports, pSyncToken, pGetCTag, pHomeSet,
	pUserAddressSet, pComponentSet, pSupportedData, pMaxResourceSize}

// live returns the value of a live property of res, or false if res does
// not have it.
func (r *request) live(res *resource, name xml.Name) (string, bool, error) {
	coll := res.isCollection()
	stored := res.kind == kHome || res.kind == kCollection
	switch name {
	case pResourceType:
		switch {
		case res.kind == kPrincipal:
			return "<D:collection/><D:principal/>", true, nil
		case res.calendar():
			return "<D:collection/><C:calendar/>", true, nil
		case coll:
			return "<D:collection/>", true, nil
		}
		return "", true, nil
	case pDisplayName:
		if res.kind == kPrincipal {
			return davxml.Text(res.owner), true, nil
		}
	case pLastModified, pCreationDate:
		if name == pLastModified && res.kind != kFile {
			break
		}
		s, ok, err := r.stamp(res, name == pCreationDate)
		if err != nil || !ok {
			return "", false, err
		}
		if name == pLastModified {
			return davxml.Text(httpTime(s.modified)), true, nil
		}
		return davxml.Text(isoTime(s.created)), true, nil
	case pETag:
		if res.kind == kFile {
			return davxml.Text(quote(res.etag)), true, nil
		}
	case pContentLength:
		if res.kind == kFile {
			return strconv.FormatInt(res.size, 10), true, nil
		}
	case pContentType:
		if res.kind == kFile {
			return davxml.Text(contentType(res)), true, nil
		}
	case pCurrentUser:
		return davxml.Href(principalHref(r.user)), true, nil
	case pPrincipalURL:
		if res.kind == kPrincipal {
			return davxml.Href(principalHref(res.owner)), true, nil
		}
	case pPrincipalColl:
		return davxml.Href("/" + principalsSeg + "/"), true, nil
	case pOwner:
		if res.owner != "" {
			return davxml.Href(principalHref(res.owner)), true, nil
		}
	case pPrivileges:
		return privileges(r.access(res), r.ownsProperties(res)), true, nil
	case pReports:
		if coll {
			var b strings.Builder
			for _, rep := range []xml.Name{davxml.CalDAV("calendar-multiget"), davxml.CalDAV("calendar-query"),
				davxml.CalDAV("free-busy-query"), davxml.DAV("sync-collection"), davxml.DAV("expand-property")} {
				b.WriteString("<D:supported-report><D:report>" + davxml.Elem(rep, "") + "</D:report></D:supported-report>")
			}
			return b.String(), true, nil
		}
	case pSyncToken:
		if stored {
			return davxml.Text(syncToken(r.snap.Version())), true, nil
		}
	case pGetCTag:
		if res.kind == kHome && res.owner != r.user {
			tag, err := r.sharedHomeTag(res)
			return davxml.Text(tag), err == nil, err
		}
		if stored {
			tag, err := r.snap.Digest(r.ctx, res.key)
			if errors.Is(err, kv.ErrNotFound) {
				tag, err = "empty", nil
			}
			return davxml.Text(tag), err == nil, err
		}
	case pHomeSet:
		if res.kind == kPrincipal {
			v := davxml.Href(homeHref(res.owner))
			if res.owner == r.user {
				for _, o := range r.sharedHomes(r.user) {
					v += davxml.Href(homeHref(o))
				}
			}
			return v, true, nil
		}
	case pUserAddressSet:
		if res.kind == kPrincipal {
			email := res.owner + "@caldav.invalid"
			if u := r.dir.User(res.owner); u != nil && u.Email != "" {
				email = u.Email
			}
			return davxml.Href("mailto:"+email) + davxml.Href(principalHref(res.owner)), true, nil
		}
	case pComponentSet:
		if res.calendar() {
			var b strings.Builder
			for _, c := range res.meta.CalendarComponents() {
				fmt.Fprintf(&b, `<C:comp name="%s"/>`, davxml.Text(c))
			}
			return b.String(), true, nil
		}
	case pSupportedData:
		if res.calendar() {
			return `<C:calendar-data content-type="text/calendar" version="2.0"/>`, true, nil
		}
	case pMaxResourceSize:
		if res.calendar() {
			return strconv.FormatInt(r.h.cfg.MaxResourceSize, 10), true, nil
		}
	}
	return "", false, nil
}

// privileges lists what access grants; ownProps says whether it
// includes changing the resource's properties (see ownsProperties).
func privileges(a access, ownProps bool) string {
	var privs []string
	switch {
	case a == writeAccess && ownProps:
		privs = []string{"read", "write", "write-properties", "write-content", "bind", "unbind", "read-current-user-privilege-set"}
	case a == writeAccess: // RFC 3744's write minus write-properties
		privs = []string{"read", "write-content", "bind", "unbind", "read-current-user-privilege-set"}
	case a == readAccess:
		privs = []string{"read", "read-current-user-privilege-set"}
	}
	var b strings.Builder
	for _, p := range privs {
		b.WriteString("<D:privilege><D:" + p + "/></D:privilege>")
	}
	return b.String()
}

func principalHref(user string) string { return hrefOf([]string{principalsSeg, user}, true) }
func homeHref(user string) string      { return hrefOf([]string{calendarsSeg, user}, true) }

func quote(etag string) string { return `"` + etag + `"` }

const syncPrefix = "https://quercus.dev/ns/sync/"

func syncToken(version string) string { return syncPrefix + version }

var extTypes = map[string]string{
	".ics": "text/calendar; charset=utf-8", ".txt": "text/plain", ".html": "text/html",
	".json": "application/json", ".xml": "application/xml", ".vcf": "text/vcard",
}

func contentType(res *resource) string {
	if res.inCalendar() {
		return "text/calendar; charset=utf-8"
	}
	if t, ok := extTypes[strings.ToLower(path.Ext(res.name()))]; ok {
		return t
	}
	return "application/octet-stream"
}

// propQuery is what a PROPFIND (or REPORT) asks for.
type propQuery struct {
	all     bool // allprop
	names   bool // propname
	props   []xml.Name
	include []xml.Name // allprop's include
	// data is the calendar-data request, if any (REPORTs).
	data *dataRequest
}

// parsePropQuery reads a DAV:prop, DAV:allprop or DAV:propname child of
// n.
func parsePropQuery(n *davxml.Node) (*propQuery, error) {
	q := &propQuery{}
	for _, c := range n.Children {
		switch {
		case c.Is(davxml.NSDAV, "allprop"):
			q.all = true
		case c.Is(davxml.NSDAV, "propname"):
			q.names = true
		case c.Is(davxml.NSDAV, "include"):
			for _, p := range c.Children {
				q.include = append(q.include, p.Name)
			}
		case c.Is(davxml.NSDAV, "prop"):
			for _, p := range c.Children {
				q.props = append(q.props, p.Name)
				if p.Name == pCalendarData {
					d, err := parseDataRequest(p)
					if err != nil {
						return nil, err
					}
					q.data = d
				}
			}
		}
	}
	return q, nil
}

// propstats answers q for res. body, if not nil, gives a calendar
// object's bytes for calendar-data.
func (r *request) propstats(res *resource, q *propQuery, body func() ([]byte, error)) ([]davxml.Propstat, error) {
	ok := davxml.Propstat{Status: http.StatusOK}
	missing := davxml.Propstat{Status: http.StatusNotFound}
	dead := r.deadProps(res)
	if q.names {
		for _, n := range liveNames {
			if _, has, err := r.live(res, n); err != nil {
				return nil, err
			} else if has {
				ok.Props = append(ok.Props, davxml.Prop{Name: n})
			}
		}
		if _, dated := stampKey(res); dated {
			if res.kind == kFile {
				ok.Props = append(ok.Props, davxml.Prop{Name: pLastModified})
			}
			ok.Props = append(ok.Props, davxml.Prop{Name: pCreationDate})
		}
		for _, k := range sortedKeys(dead) {
			ok.Props = append(ok.Props, davxml.Prop{Name: unclark(k)})
		}
		return []davxml.Propstat{ok}, nil
	}
	names := q.props
	if q.all {
		names = append(slices.Clone(allProps), q.include...)
		if res.kind == kPrincipal {
			names = append(names, pDisplayName)
		}
		for _, k := range sortedKeys(dead) {
			names = append(names, unclark(k))
		}
	}
	// One history walk finds both times; if both are asked for, take
	// both the first time.
	r.wantCreated = slices.Contains(names, pCreationDate)
	seen := map[xml.Name]bool{}
	for _, n := range names {
		if seen[n] {
			continue
		}
		seen[n] = true
		if n == pCalendarData && res.kind == kFile && body != nil {
			v, err := r.calendarData(res, q.data, body)
			if err != nil {
				return nil, err
			}
			ok.Props = append(ok.Props, davxml.Prop{Name: n, Value: v})
			continue
		}
		if v, has := dead[clark(n)]; has {
			ok.Props = append(ok.Props, davxml.Prop{Name: n, Value: v})
			continue
		}
		v, has, err := r.live(res, n)
		if err != nil {
			return nil, err
		}
		if has {
			ok.Props = append(ok.Props, davxml.Prop{Name: n, Value: v})
		} else if (!q.all || slices.Contains(q.include, n)) && !r.minimal() {
			missing.Props = append(missing.Props, davxml.Prop{Name: n})
		}
	}
	return []davxml.Propstat{ok, missing}, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// parseBody reads an XML request body; an empty body gives nil.
func (r *request) parseBody() (*davxml.Node, error) {
	if r.ContentLength == 0 {
		return nil, nil
	}
	n, err := davxml.Parse(r.Body, davxml.Limits{MaxBytes: r.h.cfg.MaxXMLSize})
	if err != nil {
		var de *davxml.Error
		if errors.As(err, &de) {
			if de.Reason == davxml.ErrEmpty.Error() {
				return nil, nil
			}
			if de.TooLarge {
				return nil, errorf(http.StatusRequestEntityTooLarge, "%v", err)
			}
			return nil, errorf(http.StatusBadRequest, "%v", err)
		}
		return nil, err
	}
	return n, nil
}

func (r *request) depth(def string) (string, error) {
	d := r.Header.Get("Depth")
	if d == "" {
		d = def
	}
	switch strings.ToLower(d) {
	case "0", "1":
		return d, nil
	case "infinity":
		return "infinity", nil
	}
	return "", errorf(http.StatusBadRequest, "bad Depth %q", d)
}

func (r *request) propfind() error {
	// RFC 4918 §9.1: no Depth header means infinity, which we refuse
	// with the RFC's precondition (as we do an explicit infinity). Every
	// client we know (DAVx5, Thunderbird, Apple, python-caldav, litmus)
	// sends a Depth; Radicale takes a missing one as 0, Xandikos as
	// infinity.
	depth, err := r.depth("infinity")
	if err != nil {
		return err
	}
	res, err := r.target(readAccess)
	if err != nil {
		return err
	}
	if res.kind == kMissing {
		return errorf(http.StatusNotFound, "not found")
	}
	if depth == "infinity" {
		if res.isCollection() {
			return precondition(http.StatusForbidden, davxml.NSDAV, "propfind-finite-depth", "", "Depth: infinity is not supported")
		}
		depth = "0" // a file has no members
	}
	body, err := r.parseBody()
	if err != nil {
		return err
	}
	q := &propQuery{all: true}
	if body != nil {
		if !body.Is(davxml.NSDAV, "propfind") {
			return errorf(http.StatusBadRequest, "body is not a DAV:propfind")
		}
		if q, err = parsePropQuery(body); err != nil {
			return err
		}
		if !q.all && !q.names && body.Child(davxml.NSDAV, "prop") == nil {
			return errorf(http.StatusBadRequest, "no prop, allprop or propname")
		}
	}
	ms := davxml.NewMultistatus()
	list := []*resource{res}
	if depth == "1" {
		children, err := r.children(res)
		if err != nil {
			return err
		}
		list = append(list, children...)
	}
	for _, c := range list {
		stats, err := r.propstats(c, q, nil)
		if err != nil {
			return err
		}
		ms.Response(c.href(), stats...)
	}
	return r.multistatus(ms)
}

func (r *request) multistatus(ms *davxml.Multistatus) error {
	b := ms.Bytes()
	if r.minimal() {
		r.w.Header().Set("Preference-Applied", "return=minimal")
	}
	r.w.Header().Add("Vary", "Brief, Prefer")
	r.w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	r.w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	r.w.WriteHeader(http.StatusMultiStatus)
	r.w.Write(b)
	return nil
}

// children lists the members of a collection the user may read.
func (r *request) children(res *resource) ([]*resource, error) {
	var out []*resource
	add := func(segs []string) error {
		c, err := r.resolve(segs)
		if err != nil {
			return err
		}
		if r.access(c) >= readAccess {
			out = append(out, c)
		}
		return nil
	}
	switch res.kind {
	case kRoot:
		return []*resource{{kind: kPrincipals, segs: []string{principalsSeg}}, {kind: kCalendars, segs: []string{calendarsSeg}}}, nil
	case kPrincipals:
		for _, u := range r.dir.Names() {
			out = append(out, &resource{kind: kPrincipal, segs: []string{principalsSeg, u}, owner: u})
		}
		return out, nil
	case kCalendars:
		return out, add([]string{calendarsSeg, r.user})
	case kHome, kCollection:
	default:
		return nil, nil
	}
	entries, err := r.snap.List(r.ctx, res.key)
	if err != nil {
		return nil, err
	}
	files, colls := members(entries, res.key)
	for _, c := range colls {
		if err := add(append(slices.Clone(res.segs), c)); err != nil {
			return nil, err
		}
	}
	if r.access(res) < writeAccess && res.kind == kHome {
		return out, nil // a shared home shows only the calendars shared
	}
	for _, f := range files {
		out = append(out, r.fileResource(res, f))
	}
	return out, nil
}

// fileResource is a member file of coll, from its listing entry.
func (r *request) fileResource(coll *resource, e kv.Entry) *resource {
	name := path.Base(e.Key)
	return &resource{kind: kFile, segs: append(slices.Clone(coll.segs), name), key: e.Key,
		owner: coll.owner, parent: coll.meta, etag: e.Digest, size: e.Size}
}

func escapeText(s string) string { return davxml.Text(s) }

// minimal reports whether the client asked (RFC 8144) to leave out the
// properties a resource does not have.
func (r *request) minimal() bool {
	for _, v := range r.Header.Values("Prefer") {
		for _, p := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(p), "return=minimal") {
				return true
			}
		}
	}
	return strings.EqualFold(r.Header.Get("Brief"), "t")
}
