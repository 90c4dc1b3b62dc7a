package caldav

import (
	"strings"
	"testing"
)

const weeklyEvent = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nBEGIN:VEVENT\r\nUID:w\r\nDTSTAMP:20260101T000000Z\r\n" +
	"DTSTART;TZID=Europe/Berlin:20260302T100000\r\nDTEND;TZID=Europe/Berlin:20260302T110000\r\n" +
	"RRULE:FREQ=WEEKLY;COUNT=4\r\nSUMMARY:Standup\r\nLOCATION:Room 1\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"

// TestCalendarData: calendar-data as stored, expanded into instances in
// UTC, and with only the parts asked for.
func TestCalendarData(t *testing.T) {
	srv := serve(t, newStore(t))
	do(t, srv.URL, "MKCALENDAR", "/calendars/alice/cal/", "")
	if code, b := do(t, srv.URL, "PUT", "/calendars/alice/cal/w.ics", weeklyEvent); code != 201 {
		t.Fatalf("PUT: %d %s", code, b)
	}
	query := func(data string) string {
		t.Helper()
		code, body := do(t, srv.URL, "REPORT", "/calendars/alice/cal/", `<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop>`+data+
			`</D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="20260309T000000Z" end="20260317T000000Z"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`,
			"Depth", "1")
		if code != 207 {
			t.Fatalf("REPORT: %d %s", code, body)
		}
		return strings.ReplaceAll(body, "&#xD;", "")
	}
	if got := query(`<C:calendar-data/>`); !strings.Contains(got, "RRULE:FREQ=WEEKLY;COUNT=4") {
		t.Errorf("plain calendar-data is not the stored object:\n%s", got)
	}
	got := query(`<C:calendar-data><C:expand start="20260309T000000Z" end="20260317T000000Z"/></C:calendar-data>`)
	for _, want := range []string{"RECURRENCE-ID:20260309T090000Z", "DTSTART:20260309T090000Z", "RECURRENCE-ID:20260316T090000Z"} {
		if !strings.Contains(got, want) {
			t.Errorf("expanded data lacks %s:\n%s", want, got)
		}
	}
	if strings.Contains(got, "RRULE") || strings.Contains(got, "20260302") {
		t.Errorf("expanded data keeps the rule or an instance outside the range:\n%s", got)
	}
	got = query(`<C:calendar-data><C:comp name="VCALENDAR"><C:prop name="VERSION"/><C:comp name="VEVENT"><C:prop name="UID"/><C:prop name="SUMMARY"/></C:comp></C:comp></C:calendar-data>`)
	if !strings.Contains(got, "SUMMARY:Standup") || strings.Contains(got, "LOCATION") || strings.Contains(got, "PRODID") {
		t.Errorf("partial data:\n%s", got)
	}
}

// TestExportCalendar: a GET of a calendar is every object in one
// VCALENDAR, each time zone once, with the CTag as ETag.
func TestExportCalendar(t *testing.T) {
	srv := serve(t, newStore(t))
	do(t, srv.URL, "MKCALENDAR", "/calendars/alice/cal/", `<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:displayname>Work &amp; play</D:displayname></D:prop></D:set></C:mkcalendar>`,
		"Content-Type", "application/xml")
	zone := "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
	withZone := func(uid string) string {
		return strings.Replace(strings.Replace(weeklyEvent, "UID:w", "UID:"+uid, 1), "PRODID:t\r\n", "PRODID:t\r\n"+zone, 1)
	}
	do(t, srv.URL, "PUT", "/calendars/alice/cal/a.ics", withZone("a"))
	do(t, srv.URL, "PUT", "/calendars/alice/cal/b.ics", withZone("b"))
	do(t, srv.URL, "PUT", "/calendars/alice/cal/c.ics", event)
	code, got := do(t, srv.URL, "GET", "/calendars/alice/cal/", "")
	if code != 200 {
		t.Fatalf("GET: %d %s", code, got)
	}
	counts := map[string]int{"BEGIN:VCALENDAR": 1, "BEGIN:VTIMEZONE": 1, "BEGIN:VEVENT": 3, "UID:a\r": 1, "UID:b\r": 1, "UID:u1\r": 1, "X-WR-CALNAME:Work & play": 1}
	for s, n := range counts {
		if c := strings.Count(got, s); c != n {
			t.Errorf("export has %q %d times, want %d:\n%s", s, c, n, got)
		}
	}
	_, prop := do(t, srv.URL, "PROPFIND", "/calendars/alice/cal/", `<D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/"><D:prop><CS:getctag/></D:prop></D:propfind>`, "Depth", "0")
	ctag := prop[strings.Index(prop, "<CS:getctag>")+len("<CS:getctag>") : strings.Index(prop, "</CS:getctag>")]
	if code, _ := do(t, srv.URL, "GET", "/calendars/alice/cal/", "", "If-None-Match", `"`+ctag+`"`); code != 304 {
		t.Errorf("GET with the CTag as If-None-Match: %d, want 304", code)
	}
}

// TestExpandBounded: calendar-data's expand in a calendar-query or
// multiget produces at most Config.MaxExpandInstances instances in all
// the response; past that the request is refused with max-instances
// (as Apple's CalendarServer does) instead of answering an unbounded
// rule's every instance, and the server goes on serving.
func TestExpandBounded(t *testing.T) {
	srv := serveWith(t, Config{Store: newStore(t), MaxExpandInstances: 5})
	do(t, srv.URL, "MKCALENDAR", "/calendars/alice/cal/", "")
	daily := func(uid string) string {
		return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nBEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20260101T000000Z\r\n" +
			"DTSTART:20260301T100000Z\r\nDURATION:PT1H\r\nRRULE:FREQ=DAILY\r\nSUMMARY:daily\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	}
	for _, uid := range []string{"a", "b"} {
		if code, got := do(t, srv.URL, "PUT", "/calendars/alice/cal/"+uid+".ics", daily(uid)); code != 201 {
			t.Fatalf("PUT: %d %s", code, got)
		}
	}
	data := func(start, end string) string {
		return `<D:prop><D:getetag/><C:calendar-data><C:expand start="` + start + `" end="` + end + `"/></C:calendar-data></D:prop>`
	}
	query := func(start, end string) string {
		return `<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">` + data(start, end) +
			`<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter></C:filter></C:calendar-query>`
	}
	multiget := func(start, end string, names ...string) string {
		var b strings.Builder
		for _, n := range names {
			b.WriteString("<D:href>/calendars/alice/cal/" + n + "</D:href>")
		}
		return `<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">` + data(start, end) + b.String() + `</C:calendar-multiget>`
	}
	tests := []struct {
		name, body string
		code       int
		instances  int
	}{
		{"query, 2 objects x 2 days", query("20260301T000000Z", "20260303T000000Z"), 207, 4},
		{"query, 2 objects x 3 days", query("20260301T000000Z", "20260304T000000Z"), 403, 0},
		{"query, a year of an endless rule", query("20260301T000000Z", "20270301T000000Z"), 403, 0},
		{"multiget, 1 object x 5 days", multiget("20260301T000000Z", "20260306T000000Z", "a.ics"), 207, 5},
		{"multiget, 1 object x 6 days", multiget("20260301T000000Z", "20260307T000000Z", "a.ics"), 403, 0},
		{"multiget, 2 objects x 3 days", multiget("20260301T000000Z", "20260304T000000Z", "a.ics", "b.ics"), 403, 0},
	}
	for _, tt := range tests {
		code, got := do(t, srv.URL, "REPORT", "/calendars/alice/cal/", tt.body, "Depth", "1")
		if code != tt.code {
			t.Errorf("%s: %d, want %d\n%s", tt.name, code, tt.code, got)
			continue
		}
		if n := strings.Count(got, "RECURRENCE-ID:"); code == 207 && n != tt.instances {
			t.Errorf("%s: %d instances, want %d\n%s", tt.name, n, tt.instances, got)
		}
		if code == 403 && !strings.Contains(got, "<C:max-instances>5</C:max-instances>") {
			t.Errorf("%s: no max-instances precondition:\n%s", tt.name, got)
		}
	}
	if code, got := do(t, srv.URL, "REPORT", "/calendars/alice/cal/", query("20260301T000000Z", "20260302T000000Z"), "Depth", "1"); code != 207 || !strings.Contains(got, "RECURRENCE-ID:20260301T100000Z") {
		t.Errorf("after the refusals: %d\n%s", code, got)
	}
}
