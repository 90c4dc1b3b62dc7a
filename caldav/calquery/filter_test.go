package calquery

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"

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
