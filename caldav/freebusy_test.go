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
