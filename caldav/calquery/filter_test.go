package calquery

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
	"github.com/teambition/rrule-go"

	"github.com/quercus-dev/quercus/caldav/davxml"
)

const weekly = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nBEGIN:VEVENT\r\nUID:w\r\nDTSTAMP:20260101T000000Z\r\n" +
	"DTSTART;TZID=Europe/Berlin:20260302T100000\r\nDTEND;TZID=Europe/Berlin:20260302T110000\r\n" +
	"RRULE:FREQ=WEEKLY;COUNT=4\r\nEXDATE;TZID=Europe/Berlin:20260309T100000\r\nSUMMARY:Standup\r\nEND:VEVENT\r\n" +
	"BEGIN:VEVENT\r\nUID:w\r\nDTSTAMP:20260101T000000Z\r\nRECURRENCE-ID;TZID=Europe/Berlin:20260316T100000\r\n" +
	"DTSTART;TZID=Europe/Berlin:20260601T100000\r\nDTEND;TZID=Europe/Berlin:20260601T110000\r\nSUMMARY:Moved\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"

func filter(inner string) string {
	return `<C:filter xmlns:C="urn:ietf:params:xml:ns:caldav"><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">` + inner + `</C:comp-filter></C:comp-filter></C:filter>`
}

func TestMatch(t *testing.T) {
	cal, err := ical.NewDecoder(strings.NewReader(weekly)).Decode()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, filter string
		want         bool
	}{
		{"first instance", filter(`<C:time-range start="20260302T080000Z" end="20260302T100000Z"/>`), true},
		{"excluded instance", filter(`<C:time-range start="20260309T000000Z" end="20260310T000000Z"/>`), false},
		{"overridden instance moved away", filter(`<C:time-range start="20260316T000000Z" end="20260317T000000Z"/>`), false},
		{"override's new time", filter(`<C:time-range start="20260601T000000Z" end="20260602T000000Z"/>`), true},
		{"last instance", filter(`<C:time-range start="20260323T000000Z" end="20260324T000000Z"/>`), true},
		{"after the count", filter(`<C:time-range start="20260330T000000Z" end="20260331T000000Z"/>`), false},
		{"open end", filter(`<C:time-range start="20260320T000000Z"/>`), true},
		{"text ascii-casemap", filter(`<C:prop-filter name="SUMMARY"><C:text-match>standUP</C:text-match></C:prop-filter>`), true},
		{"text octet", filter(`<C:prop-filter name="SUMMARY"><C:text-match collation="i;octet">standup</C:text-match></C:prop-filter>`), false},
		{"text negated", filter(`<C:prop-filter name="SUMMARY"><C:text-match negate-condition="yes">Lunch</C:text-match></C:prop-filter>`), true},
		{"param filter", filter(`<C:prop-filter name="DTSTART"><C:param-filter name="TZID"><C:text-match>Berlin</C:text-match></C:param-filter></C:prop-filter>`), true},
		{"prop not defined", filter(`<C:prop-filter name="LOCATION"><C:is-not-defined/></C:prop-filter>`), true},
		{"prop missing", filter(`<C:prop-filter name="LOCATION"/>`), false},
		{"no VTODO", `<C:filter xmlns:C="urn:ietf:params:xml:ns:caldav"><C:comp-filter name="VCALENDAR"><C:comp-filter name="VTODO"/></C:comp-filter></C:filter>`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := davxml.Parse(strings.NewReader(tt.filter), davxml.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			f, err := Parse(n)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Match(cal); got != tt.want {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
		})
	}
}

// FuzzMatch: any calendar and filter evaluate without panicking.
func FuzzMatch(f *testing.F) {
	f.Add(weekly, filter(`<C:time-range start="20260302T080000Z" end="20260302T100000Z"/>`))
	f.Add(weekly, filter(`<C:prop-filter name="SUMMARY"><C:text-match>x</C:text-match></C:prop-filter>`))
	f.Fuzz(func(t *testing.T, calText, filterText string) {
		cal, err := decode(calText)
		if err != nil {
			return
		}
		n, err := davxml.Parse(strings.NewReader(filterText), davxml.Limits{MaxBytes: 1 << 14})
		if err != nil {
			return
		}
		flt, err := Parse(n)
		if err != nil {
			return
		}
		flt.Match(cal)
	})
}

// decode parses like the server does, where go-ical's panics on
// malformed lines are refused input.
func decode(text string) (cal *ical.Calendar, err error) {
	defer func() {
		if recover() != nil {
			cal, err = nil, errors.New("malformed")
		}
	}()
	return ical.NewDecoder(strings.NewReader(text)).Decode()
}

// TestInstancesUpTo: the weekly event has three instances in March (one
// excluded, one moved to June); a limit below what is there stops the
// expansion and says it did.
func TestInstancesUpTo(t *testing.T) {
	cal, err := ical.NewDecoder(strings.NewReader(weekly)).Decode()
	if err != nil {
		t.Fatal(err)
	}
	march := &TimeRange{Start: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)}
	tests := []struct {
		limit, want int
		complete    bool
	}{
		{0, 2, true},
		{2, 2, true},
		{3, 2, true},
		{1, 1, false},
	}
	for _, tt := range tests {
		got, complete := InstancesUpTo(cal.Component, ical.CompEvent, march, tt.limit)
		if len(got) != tt.want || complete != tt.complete {
			t.Errorf("limit %d: %d instances, complete %v; want %d, %v", tt.limit, len(got), complete, tt.want, tt.complete)
		}
	}
}

// TestInstancesLongAgo: a rule begun long before the asked range has
// its instances there, as many as the rule alone gives (rrule-go's
// Between, which walks from the first instance without a bound, but ends
// every rule 292 years after its start), though more than maxInstances
// came before.
func TestInstancesLongAgo(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone database")
	}
	event := func(start, rule string) string {
		return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nBEGIN:VEVENT\r\nUID:u\r\nDTSTAMP:20260101T000000Z\r\n" +
			"DTSTART;TZID=Europe/Berlin:" + start + "\r\nDURATION:PT1H\r\nRRULE:" + rule + "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	}
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, berlin) }
	tests := []struct {
		start, rule string
		from, to    time.Time
		atLeast     int // instances the range must hold, so that the test says something
	}{
		{"19900101T100000", "FREQ=DAILY", day(2026, 3, 25), day(2026, 4, 2), 8}, // across the DST change
		{"19900103T100000", "FREQ=DAILY;INTERVAL=3", day(2026, 3, 1), day(2026, 4, 1), 10},
		{"18000106T100000", "FREQ=WEEKLY;INTERVAL=2", day(2026, 1, 1), day(2026, 3, 1), 4},
		{"18000106T100000", "FREQ=WEEKLY;BYDAY=MO,WE,FR;WKST=SU", day(2026, 1, 1), day(2026, 2, 1), 13},
		{"18000131T100000", "FREQ=MONTHLY", day(2026, 1, 1), day(2027, 1, 1), 7}, // months with a 31st only
		{"18000110T100000", "FREQ=MONTHLY;INTERVAL=5;BYDAY=2TU", day(2026, 1, 1), day(2028, 1, 1), 4},
		{"18000101T100000", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", day(2026, 1, 1), day(2026, 7, 1), 6},
		{"18040229T100000", "FREQ=YEARLY", day(2020, 1, 1), day(2033, 1, 1), 3}, // leap days only
		{"17400101T100000", "FREQ=DAILY", day(2026, 1, 1), day(2026, 1, 3), 2},
		{"19000101T100000", "FREQ=DAILY;UNTIL=20260102T000000Z", day(2025, 12, 30), day(2026, 1, 5), 3},
	}
	for _, tt := range tests {
		cal, err := ical.NewDecoder(strings.NewReader(event(tt.start, tt.rule))).Decode()
		if err != nil {
			t.Fatal(err)
		}
		c := cal.Children[0]
		s, _, _ := span(c)
		opt, _ := c.Props.RecurrenceRule()
		opt.Dtstart = s
		rule, err := rrule.NewRRule(*opt)
		if err != nil {
			t.Fatal(err)
		}
		want := rule.Between(tt.from.Add(-time.Hour), tt.to, false)
		got, complete := InstancesUpTo(cal.Component, ical.CompEvent, &TimeRange{Start: tt.from, End: tt.to}, 0)
		var starts []time.Time
		for _, in := range got {
			starts = append(starts, in.Start)
		}
		if !complete || len(starts) != len(want) || len(want) < tt.atLeast || !slices.EqualFunc(starts, want, time.Time.Equal) {
			t.Errorf("%s from %s, %s to %s:\n got %v\nwant %v (at least %d)", tt.rule, tt.start, tt.from.Format(time.DateOnly), tt.to.Format(time.DateOnly), starts, want, tt.atLeast)
		}
	}

	// COUNT counts from the first instance: a rule that ended long ago
	// must not be moved on into the range.
	cal, _ := ical.NewDecoder(strings.NewReader(event("19900101T100000", "FREQ=DAILY;COUNT=100"))).Decode()
	if got, _ := InstancesUpTo(cal.Component, ical.CompEvent, &TimeRange{Start: day(2026, 3, 1), End: day(2026, 3, 2)}, 0); len(got) != 0 {
		t.Errorf("a rule of 100 days from 1990 has %d instances in 2026", len(got))
	}
}

// FuzzFastForward holds the instances of a rule moved on (fastForward)
// to those of the rule as written, over random rules, starts and ranges.
func FuzzFastForward(f *testing.F) {
	f.Add(uint8(0), uint8(1), uint16(10000), uint16(30), uint8(0), int8(0), uint8(0))
	f.Add(uint8(2), uint8(2), uint16(30000), uint16(400), uint8(0), int8(31), uint8(0))
	f.Add(uint8(1), uint8(3), uint16(50000), uint16(60), uint8(0b0010101), int8(0), uint8(1))
	f.Add(uint8(3), uint8(1), uint16(60000), uint16(3000), uint8(0), int8(-1), uint8(2))
	freqs := []rrule.Frequency{rrule.DAILY, rrule.WEEKLY, rrule.MONTHLY, rrule.YEARLY}
	days := []rrule.Weekday{rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR, rrule.SA, rrule.SU}
	f.Fuzz(func(t *testing.T, freq, interval uint8, ago, span uint16, byday uint8, monthday int8, setpos uint8) {
		loc, err := time.LoadLocation("America/New_York")
		if err != nil {
			t.Skip("no time zone database")
		}
		from := time.Date(2026, 3, 1, 0, 0, 0, 0, loc)
		opt := rrule.ROption{
			Freq:     freqs[int(freq)%len(freqs)],
			Interval: 1 + int(interval)%7,
			Dtstart:  from.AddDate(0, 0, -int(ago)).Add(90 * time.Minute),
		}
		for i, d := range days {
			if byday&(1<<i) != 0 {
				opt.Byweekday = append(opt.Byweekday, d)
			}
		}
		if monthday%32 != 0 && opt.Freq >= rrule.MONTHLY {
			opt.Bymonthday = []int{int(monthday % 32)}
		}
		if setpos%3 != 0 && len(opt.Byweekday) > 1 && opt.Freq == rrule.MONTHLY {
			opt.Bysetpos = []int{[]int{0, 1, -1}[setpos%3]}
		}
		to := from.AddDate(0, 0, int(span)%4000+1)
		rule, err := rrule.NewRRule(opt)
		if err != nil {
			return
		}
		want := rule.Between(from, to, true)
		moved := opt
		fastForward(&moved, from)
		mrule, err := rrule.NewRRule(moved)
		if err != nil {
			t.Fatalf("%+v moved on to %+v: %v", opt, moved, err)
		}
		if got := mrule.Between(from, to, true); !slices.EqualFunc(got, want, time.Time.Equal) {
			t.Fatalf("%+v moved on to start %s:\n got %v\nwant %v", opt, moved.Dtstart, got, want)
		}
	})
}
