package caldav

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-ical"

	"github.com/quercus-dev/quercus/caldav/calquery"
	"github.com/quercus-dev/quercus/caldav/davxml"
)

// object is a parsed calendar object resource. The cache keeps objects
// that do not recur without cal, as a summary of their one instance, and
// parses them again when a filter needs more.
type object struct {
	uid  string
	comp string // VEVENT, VTODO, VJOURNAL or VFREEBUSY
	cal  *ical.Calendar
	// single: the object is one instance, from start to end (or always,
	// for a VTODO without times).
	single, always bool
	start, end     time.Time
}

// objectKinds are the components a calendar object may hold.
var objectKinds = []string{"VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY"}

// parseObject parses and checks a calendar object resource (RFC 4791
// §4.1); its errors are preconditions.
func parseObject(b []byte) (*object, error) {
	invalidData := func(msg string) error {
		return precondition(http.StatusForbidden, davxml.NSCalDAV, "valid-calendar-data", "", "invalid iCalendar: "+msg)
	}
	invalidObject := func(msg string) error {
		return precondition(http.StatusForbidden, davxml.NSCalDAV, "valid-calendar-object-resource", "", msg)
	}
	cal, err := decode(b)
	if err != nil {
		return nil, invalidData(err.Error())
	}
	if cal.Name != ical.CompCalendar {
		return nil, invalidData("not a VCALENDAR")
	}
	if cal.Props.Get(ical.PropMethod) != nil {
		return nil, invalidObject("a calendar object resource carries no METHOD")
	}
	o := &object{cal: cal}
	for _, c := range cal.Children {
		switch {
		case c.Name == ical.CompTimezone:
			continue
		case !slices.Contains(objectKinds, c.Name):
			if strings.HasPrefix(c.Name, "X-") {
				continue
			}
			return nil, invalidObject("unexpected component " + c.Name)
		}
		uidProp := c.Props.Get(ical.PropUID)
		if uidProp == nil || strings.TrimSpace(uidProp.Value) == "" {
			return nil, invalidObject(c.Name + " has no UID")
		}
		if o.comp == "" {
			o.comp, o.uid = c.Name, uidProp.Value
			continue
		}
		if c.Name != o.comp {
			return nil, invalidObject("components of more than one type")
		}
		if uidProp.Value != o.uid {
			return nil, invalidObject("components with different UIDs")
		}
	}
	if o.comp == "" {
		return nil, invalidObject("no VEVENT, VTODO, VJOURNAL or VFREEBUSY")
	}
	o.start, o.end, o.always, o.single = calquery.Single(cal.Component, o.comp)
	return o, nil
}

// checkCalendarObject checks a body PUT (or copied) into a calendar
// collection: valid data, a supported component, no other resource in
// the collection with its UID (but moving, the key of a resource being
// moved there).
func (r *request) checkCalendarObject(res *resource, body []byte, moving string) error {
	o, err := parseObject(body)
	if err != nil {
		return err
	}
	if !slices.Contains(res.parent.CalendarComponents(), o.comp) {
		return precondition(http.StatusForbidden, davxml.NSCalDAV, "supported-calendar-component", "",
			"this calendar does not take "+o.comp)
	}
	holder, err := r.uidOwner(res.parentKey(), o.uid)
	if err != nil {
		return err
	}
	folder := res.parentKey()
	if holder != "" && holder != res.name() && folder+"/"+holder != moving {
		href := hrefOf(append(slices.Clone(res.segs[:len(res.segs)-1]), holder), false)
		return precondition(http.StatusForbidden, davxml.NSCalDAV, "no-uid-conflict", davxml.Href(href),
			"UID "+o.uid+" is already used by "+href)
	}
	return nil
}

// object returns the object stored at key with digest, from the cache
// or the snapshot; its cal may be nil (see full).
func (r *request) object(key, digest string) (*object, error) {
	if o := r.h.cache.get(digest); o != nil {
		return o, nil
	}
	b, err := r.snap.Get(r.ctx, key)
	if err != nil {
		return nil, err
	}
	o, err := parseObject(b)
	if err != nil {
		return nil, err
	}
	r.h.cache.put(digest, o)
	return o, nil
}

// full returns o with its parsed calendar.
func (r *request) full(key string, o *object) (*object, error) {
	if o.cal != nil {
		return o, nil
	}
	b, err := r.snap.Get(r.ctx, key)
	if err != nil {
		return nil, err
	}
	return parseObject(b)
}

// objectCache keeps parsed objects by digest, so a query does not parse
// the same bytes again. It is bounded by dropping everything when full.
type objectCache struct {
	mu sync.Mutex
	m  map[string]*object
}

const maxCachedObjects = 50000

func (c *objectCache) get(digest string) *object {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[digest]
}

func (c *objectCache) put(digest string, o *object) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedObjects {
		c.m = map[string]*object{}
	}
	if o.single {
		summary := *o
		summary.cal = nil
		o = &summary
	}
	c.m[digest] = o
}

// decode parses exactly one VCALENDAR. go-ical panics on some malformed
// lines (a parameter with no value at the end of a line); that is bad
// input like any other.
func decode(b []byte) (cal *ical.Calendar, err error) {
	defer func() {
		if p := recover(); p != nil {
			cal, err = nil, fmt.Errorf("malformed content line")
		}
	}()
	dec := ical.NewDecoder(bytes.NewReader(b))
	if cal, err = dec.Decode(); err != nil {
		return nil, err
	}
	if _, err := dec.Decode(); err != io.EOF {
		return nil, fmt.Errorf("more than one VCALENDAR")
	}
	return cal, nil
}
