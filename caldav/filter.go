package caldav

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-ical"

	"github.com/quercus-dev/quercus/caldav/calquery"
	"github.com/quercus-dev/quercus/caldav/davxml"
)

func parseFilter(n *davxml.Node) (*calquery.Filter, error) {
	if n == nil {
		return nil, precondition(http.StatusForbidden, davxml.NSCalDAV, "valid-filter", "", "calendar-query needs a filter")
	}
	f, err := calquery.Parse(n)
	var qe *calquery.Error
	if errors.As(err, &qe) {
		return nil, precondition(http.StatusForbidden, davxml.NSCalDAV, qe.Cond, "", qe.Msg)
	}
	return f, err
}

// dataRequest is a calendar-data element of a REPORT's prop: which parts
// of the objects to return (RFC 4791 §9.6).
type dataRequest struct {
	expand *calquery.TimeRange
	// limitRecur keeps only the overridden instances in its range
	// (limit-recurrence-set); limitFB only the busy periods in its range
	// (limit-freebusy-set).
	limitRecur, limitFB *calquery.TimeRange
	comp                *compSelect // nil: everything
}

// changes reports whether d asks for anything but the stored bytes.
func (d *dataRequest) changes() bool {
	return d != nil && (d.expand != nil || d.limitRecur != nil || d.limitFB != nil || d.comp != nil)
}

// compSelect is a CALDAV:comp selection.
type compSelect struct {
	name     string
	allProps bool
	props    map[string]bool
	allComps bool
	comps    []*compSelect
}

func parseDataRequest(n *davxml.Node) (*dataRequest, error) {
	d := &dataRequest{}
	for _, c := range n.Children {
		switch {
		case c.Is(davxml.NSCalDAV, "expand"), c.Is(davxml.NSCalDAV, "limit-recurrence-set"), c.Is(davxml.NSCalDAV, "limit-freebusy-set"):
			tr, err := calquery.ParseTimeRange(c)
			if err != nil || tr.Start.IsZero() || tr.End.IsZero() {
				return nil, precondition(http.StatusForbidden, davxml.NSCalDAV, "valid-filter", "", c.Name.Local+" needs a start and an end")
			}
			switch c.Name.Local {
			case "expand":
				d.expand = tr
			case "limit-recurrence-set":
				d.limitRecur = tr
			default:
				d.limitFB = tr
			}
		case c.Is(davxml.NSCalDAV, "comp"):
			d.comp = parseCompSelect(c)
		}
	}
	return d, nil
}

func parseCompSelect(n *davxml.Node) *compSelect {
	name, _ := n.Attribute("name")
	s := &compSelect{name: strings.ToUpper(name), props: map[string]bool{}}
	hasProp, hasComp := false, false
	for _, c := range n.Children {
		switch {
		case c.Is(davxml.NSCalDAV, "allprop"):
			s.allProps = true
		case c.Is(davxml.NSCalDAV, "allcomp"):
			s.allComps = true
		case c.Is(davxml.NSCalDAV, "prop"):
			hasProp = true
			if pn, ok := c.Attribute("name"); ok {
				s.props[strings.ToUpper(pn)] = true
			}
		case c.Is(davxml.NSCalDAV, "comp"):
			hasComp = true
			s.comps = append(s.comps, parseCompSelect(c))
		}
	}
	// A comp with neither prop nor comp children selects them all.
	if !hasProp {
		s.allProps = true
	}
	if !hasComp {
		s.allComps = true
	}
	return s
}

// calendarData returns the encoded calendar-data value of a file: its
// bytes as stored, or the parts and expansion asked for.
func (r *request) calendarData(res *resource, d *dataRequest, body func() ([]byte, error)) (string, error) {
	if !d.changes() {
		b, err := body()
		if err != nil {
			return "", err
		}
		return davxml.Text(string(b)), nil
	}
	o, err := r.object(res.key, res.etag)
	if err == nil {
		o, err = r.full(res.key, o)
	}
	if err != nil {
		b, err := body()
		return davxml.Text(string(b)), err
	}
	cal, ok := d.apply(o.cal.Component, o.comp, &r.expandLeft)
	if !ok {
		return "", r.tooManyInstances()
	}
	var buf bytes.Buffer
	encode(&buf, cal)
	return davxml.Text(buf.String()), nil
}

// apply returns what d asks for of cal, an object whose component is
// kind: expanded or with its recurrences limited (expand wins), its busy
// periods limited, the components and properties selected. An
// expansion makes at most *left instances, counted off; ok is false if
// it needs more.
func (d *dataRequest) apply(cal *ical.Component, kind string, left *int) (_ *ical.Component, ok bool) {
	switch {
	case d.expand != nil:
		if cal, ok = expand(cal, kind, d.expand, left); !ok {
			return nil, false
		}
	case d.limitRecur != nil:
		cal = limitRecurrences(cal, d.limitRecur)
	}
	if d.limitFB != nil {
		cal = limitFreeBusy(cal, d.limitFB)
	}
	if d.comp != nil {
		cal = d.comp.apply(cal)
	}
	return cal, true
}

// encode writes c as iCalendar text. Unlike go-ical's encoder it does not
// insist on the properties a partial retrieval may have left out.
func encode(b *bytes.Buffer, c *ical.Component) {
	line := func(s string) {
		// Fold at 75 octets, not inside a UTF-8 sequence.
		for len(s) > 75 {
			n := 75
			for n > 0 && s[n]&0xC0 == 0x80 {
				n--
			}
			b.WriteString(s[:n] + "\r\n ")
			s = s[n:]
		}
		b.WriteString(s + "\r\n")
	}
	line("BEGIN:" + c.Name)
	for _, name := range sortedKeys(c.Props) {
		for _, p := range c.Props[name] {
			var l strings.Builder
			l.WriteString(p.Name)
			for _, k := range sortedKeys(p.Params) {
				l.WriteString(";" + k + "=")
				for i, v := range p.Params[k] {
					if i > 0 {
						l.WriteByte(',')
					}
					if strings.ContainsAny(v, ";:,") {
						v = `"` + v + `"`
					}
					l.WriteString(v)
				}
			}
			l.WriteString(":" + p.Value)
			line(l.String())
		}
	}
	for _, child := range c.Children {
		encode(b, child)
	}
	line("END:" + c.Name)
}

func (s *compSelect) apply(c *ical.Component) *ical.Component {
	out := &ical.Component{Name: c.Name, Props: ical.Props{}}
	for name, ps := range c.Props {
		if s.allProps || s.props[name] {
			out.Props[name] = ps
		}
	}
	for _, child := range c.Children {
		if s.allComps {
			out.Children = append(out.Children, child)
			continue
		}
		for _, cs := range s.comps {
			if cs.name == child.Name {
				out.Children = append(out.Children, cs.apply(child))
				break
			}
		}
	}
	return out
}

// expand replaces recurring components of kind by their instances in tr,
// in UTC, as RFC 4791 §9.6.5 asks: at most *left of them, counted off,
// or ok is false.
func expand(cal *ical.Component, kind string, tr *calquery.TimeRange, left *int) (_ *ical.Component, ok bool) {
	out := &ical.Component{Name: cal.Name, Props: cal.Props}
	for _, c := range cal.Children {
		if c.Name != kind && c.Name != ical.CompTimezone {
			out.Children = append(out.Children, c)
		}
	}
	// One more than is left tells a full budget from one exceeded.
	instances, complete := calquery.InstancesUpTo(cal, kind, tr, *left+1)
	if !complete || len(instances) > *left {
		return nil, false
	}
	*left -= len(instances)
	for _, in := range instances {
		c := &ical.Component{Name: kind, Props: ical.Props{}, Children: in.Comp.Children}
		for name, ps := range in.Comp.Props {
			switch name {
			case ical.PropRecurrenceRule, ical.PropRecurrenceDates, ical.PropExceptionDates,
				ical.PropDateTimeStart, ical.PropDateTimeEnd, ical.PropDuration, ical.PropRecurrenceID:
				continue
			}
			c.Props[name] = ps
		}
		if !in.Start.IsZero() {
			setUTC(c, ical.PropDateTimeStart, in.Start)
			if in.End.After(in.Start) {
				setUTC(c, ical.PropDateTimeEnd, in.End)
			}
		}
		if !in.RecurrenceID.IsZero() {
			setUTC(c, ical.PropRecurrenceID, in.RecurrenceID)
		}
		out.Children = append(out.Children, c)
	}
	return out, true
}

func setUTC(c *ical.Component, name string, t time.Time) {
	p := ical.NewProp(name)
	p.SetDateTime(t.UTC())
	c.Props.Set(p)
}

// tooManyInstances refuses a request whose recurrence instances,
// expanded or listed as free-busy periods, would be more than
// Config.MaxExpandInstances.
func (r *request) tooManyInstances() error {
	limit := strconv.Itoa(r.h.cfg.MaxExpandInstances)
	return precondition(http.StatusForbidden, davxml.NSCalDAV, "max-instances", limit,
		"the answer would hold more than "+limit+" recurrence instances; ask for a shorter range")
}

// freeBusy answers a free-busy-query (RFC 4791 §7.10) with one VFREEBUSY
// listing the busy periods of the calendar's events in the range.
func (r *request) freeBusy(coll *resource, n *davxml.Node) error {
	if !coll.calendar() {
		return precondition(http.StatusForbidden, davxml.NSCalDAV, "calendar-collection-location-ok", "",
			"free-busy-query runs on a calendar collection")
	}
	trNode := n.Child(davxml.NSCalDAV, "time-range")
	if trNode == nil {
		return precondition(http.StatusForbidden, davxml.NSCalDAV, "valid-filter", "", "free-busy-query needs a time-range")
	}
	tr, err := calquery.ParseTimeRange(trNode)
	if err != nil || tr.Start.IsZero() || tr.End.IsZero() {
		return precondition(http.StatusForbidden, davxml.NSCalDAV, "valid-filter", "", "free-busy-query needs a start and an end")
	}
	entries, err := r.snap.List(r.ctx, coll.key)
	if err != nil {
		return err
	}
	files, _ := members(entries, coll.key)
	fb := ical.NewComponent(ical.CompFreeBusy)
	fb.Props.SetText(ical.PropUID, "freebusy-"+r.snap.Version())
	setUTC(fb, ical.PropDateTimeStamp, r.h.cfg.Now())
	setUTC(fb, ical.PropDateTimeStart, tr.Start)
	setUTC(fb, ical.PropDateTimeEnd, tr.End)
	for _, e := range files {
		o, err := r.object(e.Key, e.Digest)
		if err != nil || o.comp != ical.CompEvent {
			continue
		}
		if o.single && !o.always && !tr.Overlaps(o.start, o.end) {
			continue
		}
		if o, err = r.full(e.Key, o); err != nil {
			continue
		}
		// Each instance is a period of the answer: they spend the
		// request's budget as expand's do.
		instances, complete := calquery.InstancesUpTo(o.cal.Component, ical.CompEvent, tr, r.expandLeft+1)
		if !complete || len(instances) > r.expandLeft {
			return r.tooManyInstances()
		}
		r.expandLeft -= len(instances)
		for _, in := range instances {
			if in.Start.IsZero() || !in.End.After(in.Start) {
				continue
			}
			transp, _ := in.Comp.Props.Text(ical.PropTransparency)
			status, _ := in.Comp.Props.Text(ical.PropStatus)
			if strings.EqualFold(transp, "TRANSPARENT") || strings.EqualFold(status, "CANCELLED") {
				continue
			}
			s, end := in.Start, in.End
			if s.Before(tr.Start) {
				s = tr.Start
			}
			if end.After(tr.End) {
				end = tr.End
			}
			p := ical.NewProp(ical.PropFreeBusy)
			p.Value = s.UTC().Format("20060102T150405Z") + "/" + end.UTC().Format("20060102T150405Z")
			if strings.EqualFold(status, "TENTATIVE") {
				p.Params.Set("FBTYPE", "BUSY-TENTATIVE")
			}
			fb.Props.Add(p)
		}
	}
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Props.SetText(ical.PropProductID, "-//quercus//caldav//EN")
	cal.Children = append(cal.Children, fb)
	var buf bytes.Buffer
	if err := ical.NewEncoder(&buf).Encode(cal); err != nil {
		return err
	}
	r.w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	r.w.WriteHeader(http.StatusOK)
	r.w.Write(buf.Bytes())
	return nil
}

// limitRecurrences keeps the master components of cal and those
// overridden instances (RFC 4791 §9.6.6) whose RECURRENCE-ID or own
// time span overlaps tr, or that change every instance after one
// (RANGE=THISANDFUTURE) before tr ends.
func limitRecurrences(cal *ical.Component, tr *calquery.TimeRange) *ical.Component {
	out := &ical.Component{Name: cal.Name, Props: cal.Props}
	for _, c := range cal.Children {
		rid := c.Props.Get(ical.PropRecurrenceID)
		if rid == nil || keepOverride(c, rid, tr) {
			out.Children = append(out.Children, c)
		}
	}
	return out
}

func keepOverride(c *ical.Component, rid *ical.Prop, tr *calquery.TimeRange) bool {
	at, _, err := calquery.DateTime(rid)
	if err != nil {
		return true // cannot tell: keep it rather than lose it
	}
	if strings.EqualFold(rid.Params.Get("RANGE"), "THISANDFUTURE") && at.Before(tr.End) {
		return true
	}
	if !at.Before(tr.Start) && at.Before(tr.End) {
		return true
	}
	// The instance may have been moved into the range.
	moved := &ical.Component{Name: c.Name, Props: ical.Props{}}
	for name, ps := range c.Props {
		if name != ical.PropRecurrenceID {
			moved.Props[name] = ps
		}
	}
	start, end, always, ok := calquery.Single(&ical.Component{Name: ical.CompCalendar, Children: []*ical.Component{moved}}, c.Name)
	return always || (ok && tr.Overlaps(start, end))
}

// limitFreeBusy keeps, in the VFREEBUSY components of cal, only the
// FREEBUSY periods that overlap tr (RFC 4791 §9.6.7).
func limitFreeBusy(cal *ical.Component, tr *calquery.TimeRange) *ical.Component {
	out := &ical.Component{Name: cal.Name, Props: cal.Props}
	for _, c := range cal.Children {
		if c.Name != ical.CompFreeBusy {
			out.Children = append(out.Children, c)
			continue
		}
		fb := &ical.Component{Name: c.Name, Props: ical.Props{}, Children: c.Children}
		for name, ps := range c.Props {
			if name != ical.PropFreeBusy {
				fb.Props[name] = ps
				continue
			}
			for _, p := range ps {
				var kept []string
				for _, period := range strings.Split(p.Value, ",") {
					s, e, ok := parsePeriod(period)
					if !ok || tr.Overlaps(s, e) {
						kept = append(kept, period)
					}
				}
				if len(kept) > 0 {
					q := p
					q.Value = strings.Join(kept, ",")
					fb.Props.Add(&q)
				}
			}
		}
		out.Children = append(out.Children, fb)
	}
	return out
}

// parsePeriod reads an iCalendar PERIOD in UTC: start/end or
// start/duration (RFC 5545 §3.3.9).
func parsePeriod(v string) (start, end time.Time, ok bool) {
	a, b, found := strings.Cut(strings.TrimSpace(v), "/")
	if !found {
		return start, end, false
	}
	start, err := time.Parse("20060102T150405Z", a)
	if err != nil {
		return start, end, false
	}
	if end, err = time.Parse("20060102T150405Z", b); err == nil {
		return start, end, end.After(start)
	}
	p := ical.NewProp(ical.PropDuration)
	p.Value = b
	dur, err := p.Duration()
	if err != nil || dur <= 0 {
		return start, end, false
	}
	return start, start.Add(dur), true
}
