package caldav

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/quercus-dev/quercus/caldav/davxml"
	"github.com/quercus-dev/quercus/kv"
)

func (r *request) get() error {
	res, err := r.target(readAccess)
	if err != nil {
		return err
	}
	switch res.kind {
	case kMissing:
		return errorf(http.StatusNotFound, "not found")
	case kFile:
	case kCollection:
		if res.calendar() {
			return r.exportCalendar(res)
		}
		fallthrough
	default:
		r.w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		r.w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			io.WriteString(r.w, "a WebDAV collection; use PROPFIND to list it\n")
		}
		return nil
	}
	etag := quote(res.etag)
	if inm := r.Header.Get("If-None-Match"); inm != "" && matchETag(inm, etag) {
		r.w.Header().Set("ETag", etag)
		r.w.WriteHeader(http.StatusNotModified)
		return nil
	}
	if im := r.Header.Get("If-Match"); im != "" && !matchETag(im, etag) {
		return errorf(http.StatusPreconditionFailed, "ETag does not match")
	}
	b, err := r.snap.Get(r.ctx, res.key)
	if err != nil {
		return err
	}
	h := r.w.Header()
	h.Set("ETag", etag)
	if s, ok := r.h.stamps.get(res.key, res.etag); ok {
		h.Set("Last-Modified", httpTime(s.modified)) // only if known: no history walk for a GET
	}
	h.Set("Content-Type", contentType(res))
	h.Set("Content-Length", strconv.Itoa(len(b)))
	r.w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		r.w.Write(b)
	}
	return nil
}

// matchETag reports whether an If-Match / If-None-Match list matches
// etag (quoted); "*" matches any.
func matchETag(list, etag string) bool {
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimSpace(t)
		t = strings.TrimPrefix(t, "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

// preconditions checks If-Match and If-None-Match against res as it is
// in the request's snapshot.
func (r *request) preconditions(res *resource) error {
	exists := res.kind != kMissing
	etag := ""
	if res.kind == kFile {
		etag = quote(res.etag)
	}
	if im := r.Header.Get("If-Match"); im != "" {
		if !exists || (strings.TrimSpace(im) != "*" && !matchETag(im, etag)) {
			return errorf(http.StatusPreconditionFailed, "If-Match does not match the current ETag")
		}
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && exists {
		if strings.TrimSpace(inm) == "*" || matchETag(inm, etag) {
			return errorf(http.StatusPreconditionFailed, "If-None-Match matches")
		}
	}
	return nil
}

// unchanged verifies inside a batch that the file at key still holds
// what the snapshot held (nil: it did not exist), so that a
// precondition checked on the snapshot still holds.
func unchanged(tx kv.Txn, key string, was []byte, existed bool) error {
	b, err := tx.Get(key)
	switch {
	case errors.Is(err, kv.ErrNotFound):
		if existed {
			return errorf(http.StatusPreconditionFailed, "the resource was deleted meanwhile")
		}
		return nil
	case err != nil:
		return err
	case !existed || !bytes.Equal(b, was):
		return errorf(http.StatusPreconditionFailed, "the resource changed meanwhile")
	}
	return nil
}

func (r *request) put() error {
	res, err := r.target(writeAccess)
	if err != nil {
		return err
	}
	if res.isCollection() {
		return errorf(http.StatusMethodNotAllowed, "cannot PUT to a collection")
	}
	if res.parent == nil {
		return errorf(http.StatusConflict, "the parent collection does not exist")
	}
	if err := r.preconditions(res); err != nil {
		return err
	}
	if res.inCalendar() {
		if err := calendarType(r.Header.Get("Content-Type")); err != nil {
			return err
		}
	}
	max := r.h.cfg.MaxResourceSize
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		return errorf(http.StatusBadRequest, "reading the body: %v", err)
	}
	if int64(len(body)) > max {
		return precondition(http.StatusRequestEntityTooLarge, davxml.NSCalDAV, "max-resource-size", "",
			"body larger than "+strconv.FormatInt(max, 10)+" bytes")
	}
	if res.inCalendar() {
		if err := r.checkCalendarObject(res, body, ""); err != nil {
			return err
		}
	}
	var was []byte
	guarded := r.Header.Get("If-Match") != "" || r.Header.Get("If-None-Match") != ""
	if guarded && res.kind == kFile {
		if was, err = r.snap.Get(r.ctx, res.key); err != nil {
			return err
		}
	}
	version, err := r.batch(func(tx kv.Txn) error {
		if guarded {
			if err := unchanged(tx, res.key, was, res.kind == kFile); err != nil {
				return err
			}
		}
		if _, ok, err := readMeta(tx.Get, res.parentKey()); err != nil {
			return err
		} else if !ok && len(res.segs) > 3 {
			return errorf(http.StatusConflict, "the parent collection was deleted meanwhile")
		}
		return tx.Put(res.key, body)
	})
	if err != nil {
		return err
	}
	if d := r.setETag(version, res.key); d != "" {
		r.h.stamps.wrote(res.key, res.etag, d, r.committed)
	}
	if res.kind == kMissing {
		r.w.WriteHeader(http.StatusCreated)
	} else {
		r.w.WriteHeader(http.StatusNoContent)
	}
	return nil
}

// calendarType checks the Content-Type of a calendar object PUT: it
// must be text/calendar (RFC 4791 §5.3.2.1), the only calendar data
// supported-calendar-data announces. Parameters (a charset) may follow;
// a type that is clear despite malformed parameters passes. An empty or
// missing type passes too: clients such as curl users leave it out, and
// the body is checked as iCalendar anyway.
func calendarType(ct string) error {
	if strings.TrimSpace(ct) == "" {
		return nil
	}
	t, _, err := mime.ParseMediaType(ct)
	if (err == nil || errors.Is(err, mime.ErrInvalidMediaParameter)) && t == "text/calendar" {
		return nil
	}
	return precondition(http.StatusForbidden, davxml.NSCalDAV, "supported-calendar-data", "",
		"Content-Type "+strconv.Quote(ct)+" is not text/calendar")
}

// setETag sets the ETag header to key's digest at version and returns
// it ("" if it cannot be read).
func (r *request) setETag(version, key string) string {
	if snap, err := r.h.store.At(r.ctx, version); err == nil {
		if d, err := snap.Digest(r.ctx, key); err == nil {
			r.w.Header().Set("ETag", quote(d))
			return d
		}
	}
	return ""
}

func (r *request) delete() error {
	res, err := r.target(writeAccess)
	if err != nil {
		return err
	}
	switch res.kind {
	case kMissing:
		return errorf(http.StatusNotFound, "not found")
	case kFile, kCollection:
	default:
		return errorf(http.StatusForbidden, "cannot delete %s", res.href())
	}
	if err := r.checkBind(res); err != nil {
		return err
	}
	if err := r.preconditions(res); err != nil {
		return err
	}
	var was []byte
	if res.kind == kFile && r.Header.Get("If-Match") != "" {
		if was, err = r.snap.Get(r.ctx, res.key); err != nil {
			return err
		}
	}
	_, err = r.batch(func(tx kv.Txn) error {
		if was != nil {
			if err := unchanged(tx, res.key, was, true); err != nil {
				return err
			}
		}
		return removeResource(tx, res)
	})
	if err != nil {
		return err
	}
	r.h.stamps.removed(res)
	r.w.WriteHeader(http.StatusNoContent)
	return nil
}

// removeResource deletes a file (and its dead properties) or a
// collection with all below it.
func removeResource(tx kv.Txn, res *resource) error {
	if res.kind == kCollection {
		entries, err := tx.List(res.key)
		if err != nil {
			return err
		}
		if len(entries) == 0 {
			return errorf(http.StatusNotFound, "the collection was deleted meanwhile")
		}
		for _, e := range entries {
			if err := tx.Delete(e.Key); err != nil {
				return err
			}
		}
		return nil
	}
	if _, err := tx.Get(res.key); errors.Is(err, kv.ErrNotFound) {
		return errorf(http.StatusNotFound, "the resource was deleted meanwhile")
	}
	if err := tx.Delete(res.key); err != nil {
		return err
	}
	return setMemberProps(tx, res.parentKey(), res.name(), nil)
}

// setMemberProps replaces the dead properties a collection keeps for
// its member name; nil removes them.
func setMemberProps(tx kv.Txn, folder, name string, props map[string]string) error {
	m, ok, err := readMeta(tx.Get, folder)
	if err != nil {
		return err
	}
	_, had := m.Members[name]
	if !had && len(props) == 0 {
		return nil
	}
	if len(props) == 0 {
		delete(m.Members, name)
	} else {
		if m.Members == nil {
			m.Members = map[string]map[string]string{}
		}
		m.Members[name] = props
	}
	if !ok && len(m.Members) == 0 && len(m.Props) == 0 {
		return nil
	}
	return writeMeta(tx, folder, m)
}

func (r *request) mkcol(calendar bool) error {
	res, err := r.target(writeAccess)
	if err != nil {
		return err
	}
	if res.kind != kMissing {
		return errorf(http.StatusMethodNotAllowed, "%s already exists", res.href())
	}
	if res.parent == nil {
		return errorf(http.StatusConflict, "the parent collection does not exist")
	}
	if res.parent.Calendar {
		return precondition(http.StatusForbidden, davxml.NSCalDAV, "calendar-collection-location-ok", "",
			"no collection inside a calendar collection")
	}
	m := &meta{Calendar: calendar}
	if r.ContentLength != 0 || r.Header.Get("Content-Type") != "" || len(r.TransferEncoding) > 0 {
		if err := r.mkcolBody(m, calendar); err != nil {
			return err
		}
	}
	_, err = r.batch(func(tx kv.Txn) error {
		if _, ok, err := readMeta(tx.Get, res.key); err != nil {
			return err
		} else if ok {
			return errorf(http.StatusMethodNotAllowed, "%s was created meanwhile", res.href())
		}
		if _, err := tx.Get(res.key); err == nil {
			return errorf(http.StatusMethodNotAllowed, "%s was created meanwhile", res.href())
		}
		return writeMeta(tx, res.key, m)
	})
	if err != nil {
		return err
	}
	r.w.Header().Set("Location", res.href()+"/")
	r.w.WriteHeader(http.StatusCreated)
	return nil
}

// mkcolBody applies an extended MKCOL (RFC 5689) or MKCALENDAR body.
func (r *request) mkcolBody(m *meta, calendar bool) error {
	ct := r.Header.Get("Content-Type")
	if !strings.Contains(ct, "xml") && !(calendar && ct == "") {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1))
		if len(body) == 0 && ct == "" {
			return nil
		}
		return errorf(http.StatusUnsupportedMediaType, "MKCOL takes no body but an extended-MKCOL XML one")
	}
	n, err := r.parseBody()
	if err != nil {
		if calendar {
			return err
		}
		return errorf(http.StatusUnsupportedMediaType, "%v", err)
	}
	if n == nil {
		return nil
	}
	root := "mkcol"
	ns := davxml.NSDAV
	if calendar {
		root, ns = "mkcalendar", davxml.NSCalDAV
	}
	if !n.Is(ns, root) {
		return errorf(http.StatusUnsupportedMediaType, "body is not a %s element", root)
	}
	for _, set := range n.Children {
		if !set.Is(davxml.NSDAV, "set") {
			continue
		}
		for _, prop := range set.Child(davxml.NSDAV, "prop").Elements() {
			switch prop.Name {
			case pResourceType:
				for _, t := range prop.Children {
					switch {
					case t.Is(davxml.NSDAV, "collection"):
					case t.Is(davxml.NSCalDAV, "calendar"):
						m.Calendar = true
					default:
						return precondition(http.StatusForbidden, davxml.NSDAV, "valid-resourcetype", "",
							"unsupported resource type "+clark(t.Name))
					}
				}
			case pComponentSet:
				m.Components = nil
				for _, c := range prop.Children {
					if name, ok := c.Attribute("name"); ok && c.Is(davxml.NSCalDAV, "comp") {
						name = strings.ToUpper(name)
						if !slices.Contains(objectKinds, name) {
							return precondition(http.StatusForbidden, davxml.NSCalDAV, "supported-calendar-component", "",
								"unsupported component "+name)
						}
						m.Components = append(m.Components, name)
					}
				}
			default:
				if protected[prop.Name] {
					return precondition(http.StatusForbidden, davxml.NSDAV, "cannot-modify-protected-property", "",
						"protected property "+clark(prop.Name))
				}
				if m.Props == nil {
					m.Props = map[string]string{}
				}
				m.Props[clark(prop.Name)] = prop.Inner
			}
		}
	}
	if !m.Calendar {
		m.Components = nil
	}
	return nil
}

func (r *request) proppatch() error {
	res, err := r.target(writeAccess)
	if err != nil {
		return err
	}
	switch res.kind {
	case kMissing:
		return errorf(http.StatusNotFound, "not found")
	case kFile, kCollection, kHome:
	default:
		return errorf(http.StatusForbidden, "properties of %s cannot be changed", res.href())
	}
	if !r.ownsProperties(res) {
		return precondition(http.StatusForbidden, "DAV:", "need-privileges", "", "a share does not grant changing properties")
	}
	n, err := r.parseBody()
	if err != nil {
		return err
	}
	if n == nil || !n.Is(davxml.NSDAV, "propertyupdate") {
		return errorf(http.StatusBadRequest, "body is not a DAV:propertyupdate")
	}
	type op struct {
		set  bool
		node *davxml.Node
	}
	var ops []op
	failed := false
	for _, c := range n.Children {
		set := c.Is(davxml.NSDAV, "set")
		if !set && !c.Is(davxml.NSDAV, "remove") {
			continue
		}
		for _, p := range c.Child(davxml.NSDAV, "prop").Elements() {
			ops = append(ops, op{set, p})
			if protected[p.Name] {
				failed = true
			}
		}
	}
	ms := davxml.NewMultistatus()
	if failed {
		bad := davxml.Propstat{Status: http.StatusForbidden, Error: "<D:cannot-modify-protected-property/>"}
		dep := davxml.Propstat{Status: http.StatusFailedDependency}
		for _, o := range ops {
			if protected[o.node.Name] {
				bad.Props = append(bad.Props, davxml.Prop{Name: o.node.Name})
			} else {
				dep.Props = append(dep.Props, davxml.Prop{Name: o.node.Name})
			}
		}
		ms.Response(res.href(), bad, dep)
		return r.multistatus(ms)
	}
	_, err = r.batch(func(tx kv.Txn) error {
		cur, err := resolve(tx.Get, res.segs)
		if err != nil {
			return err
		}
		if cur.kind != res.kind {
			return errorf(http.StatusConflict, "the resource changed meanwhile")
		}
		props := map[string]string{}
		for k, v := range cur.deadProps() {
			props[k] = v
		}
		for _, o := range ops {
			if o.set {
				props[clark(o.node.Name)] = o.node.Inner
			} else {
				delete(props, clark(o.node.Name))
			}
		}
		if cur.kind == kFile {
			return setMemberProps(tx, cur.parentKey(), cur.name(), props)
		}
		m := cur.meta.Clone()
		m.Props = props
		if len(props) == 0 {
			m.Props = nil
		}
		return writeMeta(tx, cur.key, m)
	})
	if err != nil {
		return err
	}
	ok := davxml.Propstat{Status: http.StatusOK}
	for _, o := range ops {
		ok.Props = append(ok.Props, davxml.Prop{Name: o.node.Name})
	}
	ms.Response(res.href(), ok)
	return r.multistatus(ms)
}

func (r *request) copyMove(move bool) error {
	need := readAccess
	if move {
		need = writeAccess
	}
	src, err := r.target(need)
	if err != nil {
		return err
	}
	switch src.kind {
	case kMissing:
		return errorf(http.StatusNotFound, "not found")
	case kFile, kCollection:
	default:
		return errorf(http.StatusForbidden, "cannot %s %s", r.Method, src.href())
	}
	destURL, err := url.Parse(r.Header.Get("Destination"))
	if err != nil || destURL.Path == "" {
		return errorf(http.StatusBadRequest, "bad or missing Destination")
	}
	segs, err := splitPath(destURL.Path)
	if err != nil {
		return err
	}
	dst, err := r.resolve(segs)
	if err != nil {
		if he, ok := err.(*httpError); ok && he.code == http.StatusNotFound {
			return errorf(http.StatusForbidden, "cannot %s there", r.Method)
		}
		return err
	}
	if err := r.check(dst, writeAccess); err != nil {
		return err
	}
	if err := r.checkBind(dst); err != nil {
		return err
	}
	if move {
		if err := r.checkBind(src); err != nil {
			return err
		}
	} else if dst.kind != kMissing && !r.ownsProperties(dst) {
		// RFC 3744 appendix B: a COPY onto an existing resource needs
		// write-properties on it, for it replaces its properties too.
		return precondition(http.StatusForbidden, "DAV:", "need-privileges", "", "a share does not grant changing properties")
	}
	if dst.kind != kMissing && dst.kind != kFile && dst.kind != kCollection {
		return errorf(http.StatusForbidden, "cannot overwrite %s", dst.href())
	}
	if dst.key == src.key || strings.HasPrefix(dst.key+"/", src.key+"/") {
		return errorf(http.StatusForbidden, "source and destination overlap")
	}
	if dst.parent == nil {
		return errorf(http.StatusConflict, "the destination's parent collection does not exist")
	}
	if src.kind == kCollection && dst.parent.Calendar {
		return precondition(http.StatusForbidden, davxml.NSCalDAV, "calendar-collection-location-ok", "",
			"no collection inside a calendar collection")
	}
	depth, err := r.depth("infinity")
	if err != nil {
		return err
	}
	if src.kind == kCollection && (depth == "1" || (move && depth != "infinity")) {
		return errorf(http.StatusBadRequest, "Depth must be infinity (or 0 for COPY)")
	}
	overwrite := strings.ToUpper(strings.TrimSpace(r.Header.Get("Overwrite")))
	if overwrite == "" {
		overwrite = "T"
	}
	if dst.kind != kMissing && overwrite == "F" {
		return errorf(http.StatusPreconditionFailed, "the destination exists and Overwrite is F")
	}
	if src.kind == kFile && dst.parent.Calendar {
		b, err := r.snap.Get(r.ctx, src.key)
		if err != nil {
			return err
		}
		moving := ""
		if move {
			moving = src.key
		}
		if err := r.checkCalendarObject(dst, b, moving); err != nil {
			return err
		}
	}
	_, err = r.batch(func(tx kv.Txn) error {
		cur, err := resolve(tx.Get, dst.segs)
		if err != nil {
			return err
		}
		if cur.kind != kMissing {
			if err := removeResource(tx, cur); err != nil {
				return err
			}
		}
		s, err := resolve(tx.Get, src.segs)
		if err != nil {
			return err
		}
		if s.kind != src.kind {
			return errorf(http.StatusConflict, "the source changed meanwhile")
		}
		if s.kind == kFile {
			b, err := tx.Get(s.key)
			if err != nil {
				return err
			}
			if err := tx.Put(dst.key, b); err != nil {
				return err
			}
			props := s.deadProps()
			if move {
				if err := removeResource(tx, s); err != nil {
					return err
				}
			}
			return setMemberProps(tx, dst.parentKey(), dst.name(), props)
		}
		// Shares are the operator's grants to one calendar of one owner:
		// a copy, or a collection moved to another home, has none.
		keepShares := move && dst.owner == src.owner
		if depth == "0" {
			m := s.meta.Clone()
			m.Members = nil
			if !keepShares {
				m.Share = nil
			}
			return writeMeta(tx, dst.key, m)
		}
		entries, err := tx.List(s.key)
		if err != nil {
			return err
		}
		for _, e := range entries {
			b, err := tx.Get(e.Key)
			if err != nil {
				return err
			}
			if err := tx.Put(dst.key+strings.TrimPrefix(e.Key, s.key), b); err != nil {
				return err
			}
			if move {
				if err := tx.Delete(e.Key); err != nil {
					return err
				}
			}
		}
		if m, _, err := readMeta(tx.Get, dst.key); err != nil {
			return err
		} else if len(m.Share) > 0 && !keepShares {
			m.Share = nil
			return writeMeta(tx, dst.key, m)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if move {
		r.h.stamps.removed(src)
	}
	if src.kind == kFile {
		r.h.stamps.wrote(dst.key, dst.etag, src.etag, r.committed)
	} else {
		// Its files are new, or replaced.
		r.h.stamps.removed(&resource{kind: kCollection, key: dst.key})
	}
	if dst.kind == kMissing {
		r.w.Header().Set("Location", dst.href())
		r.w.WriteHeader(http.StatusCreated)
	} else {
		r.w.WriteHeader(http.StatusNoContent)
	}
	return nil
}
