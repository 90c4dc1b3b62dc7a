package calquery

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-ical"
	"github.com/teambition/rrule-go"
)

// DateTime parses a DATE or DATE-TIME property and reports whether it
// is a DATE. A TZID the time zone database does not know is read as
// floating time (UTC), rather than failing the whole object.
func DateTime(p *ical.Prop) (time.Time, bool, error) {
	isDate := p.ValueType() == ical.ValueDate || (p.ValueType() == ical.ValueDefault && len(p.Value) == 8)
	tzid := p.Params.Get(ical.PropTimezoneID)
	if tzid == "" {
		t, err := p.DateTime(time.UTC)
		return t, isDate, err
	}
	// Parse without the TZID, in the location looked up once: go-ical
	// would call time.LoadLocation, which reads the zone file each time.
	q := ical.Prop{Name: p.Name, Value: p.Value, Params: ical.Params{}}
	if vt := p.Params.Get("VALUE"); vt != "" {
		q.Params.Set("VALUE", vt)
	}
	t, err := q.DateTime(location(tzid))
	return t, isDate, err
}

var (
	locations sync.Map // TZID -> *time.Location (UTC for unknown ones)
	nLocs     atomic.Int32
)

// location returns the IANA location tzid names, or UTC (floating time)
// for a TZID the database does not know, such as a VTIMEZONE's own name.
func location(tzid string) *time.Location {
	if l, ok := locations.Load(tzid); ok {
		return l.(*time.Location)
	}
	l, err := time.LoadLocation(strings.Trim(tzid, `"`))
	if err != nil {
		l = time.UTC
	}
	if len(tzid) <= 64 && nLocs.Add(1) <= 1000 { // bounded against made-up TZIDs
		locations.Store(tzid, l)
	}
	return l
}

// dateTimes parses a comma-separated DATE / DATE-TIME list (EXDATE,
// RDATE), skipping values it cannot read (periods).
func dateTimes(props []ical.Prop) []time.Time {
	var out []time.Time
	for _, p := range props {
		for _, v := range strings.Split(p.Value, ",") {
			q := ical.Prop{Name: p.Name, Value: v, Params: p.Params}
			if t, _, err := DateTime(&q); err == nil {
				out = append(out, t)
			}
		}
	}
	return out
}

// span is a component's own start and end (before recurrence).
func span(c *ical.Component) (start, end time.Time, ok bool) {
	startProp := c.Props.Get(ical.PropDateTimeStart)
	var isDate bool
	var err error
	if startProp != nil {
		if start, isDate, err = DateTime(startProp); err != nil {
			return start, end, false
		}
	}
	dur := func() (time.Duration, bool) {
		if p := c.Props.Get(ical.PropDuration); p != nil {
			if d, err := p.Duration(); err == nil {
				return d, true
			}
		}
		return 0, false
	}
	switch c.Name {
	case ical.CompEvent, ical.CompJournal, ical.CompFreeBusy:
		if startProp == nil {
			return start, end, false
		}
		if p := c.Props.Get(ical.PropDateTimeEnd); p != nil {
			if end, _, err = DateTime(p); err == nil {
				return start, end, true
			}
		}
		if d, ok := dur(); ok {
			return start, start.Add(d), true
		}
		if isDate {
			return start, start.AddDate(0, 0, 1), true
		}
		return start, start, true
	case ical.CompToDo:
		var due time.Time
		if p := c.Props.Get(ical.PropDue); p != nil {
			due, _, _ = DateTime(p)
		}
		switch {
		case startProp != nil && !due.IsZero():
			return start, due, true
		case startProp != nil:
			if d, ok := dur(); ok {
				return start, start.Add(d), true
			}
			return start, start, true
		case !due.IsZero():
			return due, due, true
		}
		for _, name := range []string{ical.PropCompleted, ical.PropCreated} {
			if p := c.Props.Get(name); p != nil {
				if t, _, err := DateTime(p); err == nil {
					return t, t, true
				}
			}
		}
	}
	return start, end, false
}

// alwaysOverlaps are components RFC 4791 §9.9 lets match any range when
// they carry no times (a VTODO with none).
func alwaysOverlaps(c *ical.Component) bool { return c.Name == ical.CompToDo }

// Instance is one occurrence of a component.
type Instance struct {
	Start, End time.Time
	// RecurrenceID is the occurrence's original start; zero for a
	// component that does not recur.
	RecurrenceID time.Time
	// Comp is the component that describes the occurrence: the master
	// or the override for that recurrence id.
	Comp *ical.Component
}

// maxInstances bounds an expansion, against rules like FREQ=SECONDLY.
const maxInstances = 10000

// Instances returns the occurrences of the components named kind in cal
// that overlap tr, overrides (RECURRENCE-ID) replacing the master's
// instances.
func Instances(cal *ical.Component, kind string, tr *TimeRange) []Instance {
	out, _ := InstancesUpTo(cal, kind, tr, 0)
	return out
}

// InstancesUpTo is Instances stopping at limit occurrences (0: no bound
// but the one on each rule); complete reports whether it found them
// all. Callers that answer with every instance bound their answer so.
func InstancesUpTo(cal *ical.Component, kind string, tr *TimeRange, limit int) (out []Instance, complete bool) {
	full := func() bool { return limit > 0 && len(out) >= limit }
	overridden := map[int64]bool{}
	var masters []*ical.Component
	for _, c := range cal.Children {
		if c.Name != kind {
			continue
		}
		if rid := c.Props.Get(ical.PropRecurrenceID); rid != nil {
			t, _, err := DateTime(rid)
			if err != nil {
				continue
			}
			overridden[t.Unix()] = true
			if s, e, ok := span(c); ok && tr.overlaps(s, e) {
				if full() {
					return out, false
				}
				out = append(out, Instance{Start: s, End: e, RecurrenceID: t, Comp: c})
			}
			continue
		}
		masters = append(masters, c)
	}
	for _, c := range masters {
		s, e, ok := span(c)
		if !ok {
			if alwaysOverlaps(c) {
				if full() {
					return out, false
				}
				out = append(out, Instance{Comp: c})
			}
			continue
		}
		d := e.Sub(s)
		from, to := tr.Start, tr.End
		if from.IsZero() {
			from = s
		} else {
			from = from.Add(-d)
		}
		set, err := recurrence(c, s, from)
		if err != nil || set == nil {
			if tr.overlaps(s, e) {
				if full() {
					return out, false
				}
				out = append(out, Instance{Start: s, End: e, Comp: c})
			}
			continue
		}
		if to.IsZero() {
			to = s.AddDate(100, 0, 0)
		}
		it := set.Iterator()
		for n := 0; n < maxInstances; n++ {
			t, ok := it()
			if !ok || !t.Before(to) {
				break
			}
			if t.Before(from) || overridden[t.Unix()] {
				continue
			}
			if tr.overlaps(t, t.Add(d)) {
				if full() {
					return out, false
				}
				out = append(out, Instance{Start: t, End: t.Add(d), RecurrenceID: t, Comp: c})
			}
		}
	}
	return out, true
}

// recurrence builds c's recurrence set, nil if it does not recur. Its
// rule may start later than start, but not after from (see fastForward):
// the set's instances from then on are the same.
func recurrence(c *ical.Component, start, from time.Time) (*rrule.Set, error) {
	opt, err := c.Props.RecurrenceRule()
	if err != nil {
		return nil, err
	}
	rdates := dateTimes(c.Props.Values(ical.PropRecurrenceDates))
	if opt == nil && len(rdates) == 0 {
		return nil, nil
	}
	set := &rrule.Set{}
	if opt != nil {
		opt.Dtstart = start
		fastForward(opt, from)
		rule, err := rrule.NewRRule(*opt)
		if err != nil {
			return nil, err
		}
		set.RRule(rule) // the set takes the rule's start
	} else {
		set.RDate(start)
		set.DTStart(start)
	}
	for _, t := range rdates {
		set.RDate(t)
	}
	for _, t := range dateTimes(c.Props.Values(ical.PropExceptionDates)) {
		set.ExDate(t)
	}
	return set, nil
}

// componentOverlaps reports whether c (with its recurrences and
// overrides in cal) overlaps tr.
func componentOverlaps(cal, c *ical.Component, tr *TimeRange) bool {
	switch c.Name {
	case ical.CompEvent, ical.CompToDo, ical.CompJournal, ical.CompFreeBusy:
	default:
		return true // VALARM and others: not evaluated
	}
	uid := c.Props.Get(ical.PropUID)
	// Evaluate c alone, with the overrides of its UID.
	tmp := &ical.Component{Name: cal.Name}
	for _, o := range cal.Children {
		if o == c || (o.Name == c.Name && c.Props.Get(ical.PropRecurrenceID) == nil && o.Props.Get(ical.PropRecurrenceID) != nil &&
			uid != nil && o.Props.Get(ical.PropUID) != nil && o.Props.Get(ical.PropUID).Value == uid.Value) {
			tmp.Children = append(tmp.Children, o)
		}
	}
	for _, in := range Instances(tmp, c.Name, tr) {
		if in.Comp == c {
			return true
		}
	}
	return false
}

// Single reports the one instance of a calendar object that does not
// recur: its component of kind, without RRULE, RDATE or overrides.
// always is set for a VTODO with no times, which overlaps any range.
func Single(cal *ical.Component, kind string) (start, end time.Time, always, ok bool) {
	var c *ical.Component
	for _, child := range cal.Children {
		if child.Name != kind {
			continue
		}
		if c != nil {
			return start, end, false, false
		}
		c = child
	}
	if c == nil || c.Props.Get(ical.PropRecurrenceRule) != nil || c.Props.Get(ical.PropRecurrenceDates) != nil ||
		c.Props.Get(ical.PropRecurrenceID) != nil {
		return start, end, false, false
	}
	start, end, ok = span(c)
	if !ok {
		return start, end, alwaysOverlaps(c), alwaysOverlaps(c)
	}
	return start, end, false, true
}

// fastForward moves the start of rule opt forward by whole periods of
// the rule (INTERVAL days, weeks, months or years), to the last period
// that begins before from, when that leaves its instances from then on
// unchanged. Instances are counted from the start, and their number is
// bounded (maxInstances): without this, a daily event begun 28 years
// before the asked range would have used its bound up before reaching
// it, and shown no instance there.
//
// It holds for a rule without COUNT (which counts from the first
// instance) whose parts are each a function of the period: the parts the
// rule leaves out and takes from its start (the weekday of a weekly
// rule, the day of a monthly one, the day and month of a yearly one) are
// written out first, and the new start keeps the old time of day. Rules
// of hours, minutes or seconds are left as they are.
func fastForward(opt *rrule.ROption, from time.Time) {
	start := opt.Dtstart
	if opt.Count != 0 || !from.After(start) {
		return
	}
	from = from.In(start.Location())
	interval := max(opt.Interval, 1)
	// periods is how many whole periods the new start is after the old.
	periods := func(elapsed int) int { return max(elapsed-1, 0) / interval * interval }
	y, m, d := start.Date()
	hh, mm, ss := start.Clock()
	noParts := len(opt.Byweekno) == 0 && len(opt.Byyearday) == 0 && len(opt.Bymonthday) == 0 &&
		len(opt.Byweekday) == 0 && len(opt.Byeaster) == 0
	// Calendar days between the two dates, in seconds: a Duration
	// would saturate at 292 years.
	days := int((time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, time.UTC).Unix() - time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix()) / 86400)
	switch opt.Freq {
	case rrule.DAILY:
		opt.Dtstart = start.AddDate(0, 0, periods(days))
	case rrule.WEEKLY:
		if noParts {
			opt.Byweekday = []rrule.Weekday{weekday(start.Weekday())}
		}
		opt.Dtstart = start.AddDate(0, 0, 7*periods(days/7))
	case rrule.MONTHLY:
		if noParts {
			opt.Bymonthday = []int{d}
		}
		months := (from.Year()-y)*12 + int(from.Month()-m)
		opt.Dtstart = time.Date(y, m+time.Month(periods(months)), 1, hh, mm, ss, 0, start.Location())
	case rrule.YEARLY:
		if noParts {
			if len(opt.Bymonth) == 0 {
				opt.Bymonth = []int{int(m)}
			}
			opt.Bymonthday = []int{d}
		}
		opt.Dtstart = time.Date(y+periods(from.Year()-y), 1, 1, hh, mm, ss, 0, start.Location())
	}
}

func weekday(d time.Weekday) rrule.Weekday {
	return [...]rrule.Weekday{rrule.SU, rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR, rrule.SA}[d]
}
