package caldav

import (
	"strings"
	"testing"
)

func TestFreeBusy(t *testing.T) {
	srv := serve(t, newStore(t))
	do(t, srv.URL, "MKCALENDAR", "/calendars/alice/cal/", "")
	busy := strings.NewReplacer("DTSTART:20260101T100000Z", "DTSTART:20260105T100000Z\r\nDTEND:20260105T110000Z").Replace(event)
	free := strings.NewReplacer("UID:u1", "UID:u2", "DTSTART:20260101T100000Z", "DTSTART:20260106T100000Z\r\nDTEND:20260106T110000Z\r\nTRANSP:TRANSPARENT").Replace(event)
	for name, body := range map[string]string{"busy.ics": busy, "free.ics": free} {
		if code, b := do(t, srv.URL, "PUT", "/calendars/alice/cal/"+name, body); code != 201 {
			t.Fatalf("PUT %s: %d %s", name, code, b)
		}
	}
	code, body := do(t, srv.URL, "REPORT", "/calendars/alice/cal/",
		`<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:time-range start="20260101T000000Z" end="20260201T000000Z"/></C:free-busy-query>`,
		"Depth", "1")
	if code != 200 || !strings.Contains(body, "FREEBUSY:20260105T100000Z/20260105T110000Z") || strings.Contains(body, "20260106") {
		t.Errorf("free-busy: %d\n%s", code, body)
	}
}

// TestFreeBusyBounded: a free-busy-query expands recurrences as
// calendar-data's expand does, so it spends the same budget
// (Config.MaxExpandInstances, all objects together): past it the REPORT
// is refused with max-instances instead of listing an endless rule's
// every period for every object.
func TestFreeBusyBounded(t *testing.T) {
	srv := serveWith(t, Config{Store: newStore(t), MaxExpandInstances: 5})
	do(t, srv.URL, "MKCALENDAR", "/calendars/alice/cal/", "")
	for _, uid := range []string{"a", "b"} {
		daily := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nBEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTAMP:20260101T000000Z\r\n" +
			"DTSTART:20260301T100000Z\r\nDURATION:PT1H\r\nRRULE:FREQ=DAILY\r\nSUMMARY:daily\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
		if code, got := do(t, srv.URL, "PUT", "/calendars/alice/cal/"+uid+".ics", daily); code != 201 {
			t.Fatalf("PUT: %d %s", code, got)
		}
	}
	query := func(end string) string {
		return `<C:free-busy-query xmlns:C="urn:ietf:params:xml:ns:caldav"><C:time-range start="20260301T000000Z" end="` + end + `"/></C:free-busy-query>`
	}
	tests := []struct {
		name, end string
		code      int
		periods   int
	}{
		{"2 objects x 2 days", "20260303T000000Z", 200, 4},
		{"2 objects x 3 days", "20260304T000000Z", 403, 0},
		{"a year of two endless rules", "20270301T000000Z", 403, 0},
	}
	for _, tt := range tests {
		code, got := do(t, srv.URL, "REPORT", "/calendars/alice/cal/", query(tt.end), "Depth", "1")
		if code != tt.code {
			t.Errorf("%s: %d, want %d\n%s", tt.name, code, tt.code, got)
			continue
		}
		if n := strings.Count(got, "\nFREEBUSY:"); code == 200 && n != tt.periods {
			t.Errorf("%s: %d periods, want %d\n%s", tt.name, n, tt.periods, got)
		}
		if code == 403 && !strings.Contains(got, "<C:max-instances>5</C:max-instances>") {
			t.Errorf("%s: no max-instances precondition:\n%s", tt.name, got)
		}
	}
}
