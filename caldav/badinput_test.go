package caldav

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/quercus-dev/quercus/caldav/users"
	"github.com/quercus-dev/quercus/kv"
	"github.com/quercus-dev/quercus/kv/mem"
)

const event = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:u1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260101T100000Z\r\nSUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"

// do sends one request as user alice and returns the status and body.
func do(t *testing.T, base, method, path, body string, hdr ...string) (int, string) {
	t.Helper()
	return asUser(t, base, "alice", method, path, body, hdr...)
}

// TestBadInput: each bad request gets a clear 4xx (with the precondition
// element where CalDAV names one), stores nothing, and the server goes
// on serving.
func TestBadInput(t *testing.T) {
	store := newStore(t)
	srv := serve(t, store)
	if code, _ := do(t, srv.URL, "MKCALENDAR", "/calendars/alice/cal/", ""); code != http.StatusCreated {
		t.Fatalf("MKCALENDAR: %d", code)
	}
	if code, _ := do(t, srv.URL, "PUT", "/calendars/alice/cal/a.ics", event); code != http.StatusCreated {
		t.Fatalf("PUT: %d", code)
	}
	nested := strings.Repeat("<D:prop>", 100) + strings.Repeat("</D:prop>", 100)
	billion := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><D:propfind xmlns:D="DAV:"><D:prop>&lol2;</D:prop></D:propfind>`
	tests := []struct {
		name, method, path, body string
		hdr                      []string
		code                     int
		cond                     string // precondition element expected in the body
	}{
		{"invalid iCalendar", "PUT", "/calendars/alice/cal/b.ics", "BEGIN:VCALENDAR\r\nnot ical\r\n", nil, 403, "valid-calendar-data"},
		{"no UID", "PUT", "/calendars/alice/cal/b.ics", strings.Replace(event, "UID:u1\r\n", "", 1), nil, 403, "valid-calendar-object-resource"},
		{"two UIDs", "PUT", "/calendars/alice/cal/b.ics", strings.Replace(event, "END:VCALENDAR", "BEGIN:VEVENT\r\nUID:u2\r\nDTSTART:20260101T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR", 1), nil, 403, "valid-calendar-object-resource"},
		{"METHOD", "PUT", "/calendars/alice/cal/b.ics", strings.Replace(event, "VERSION:2.0", "VERSION:2.0\r\nMETHOD:REQUEST", 1), nil, 403, "valid-calendar-object-resource"},
		{"UID conflict", "PUT", "/calendars/alice/cal/b.ics", event, nil, 403, "no-uid-conflict"},
		{"oversized", "PUT", "/calendars/alice/cal/b.ics", strings.Repeat("x", 2<<20), nil, 413, "max-resource-size"},
		{"entity expansion", "PROPFIND", "/calendars/alice/", billion, []string{"Depth", "0"}, 400, ""},
		{"deep nesting", "PROPFIND", "/calendars/alice/", `<D:propfind xmlns:D="DAV:">` + nested + `</D:propfind>`, []string{"Depth", "0"}, 400, ""},
		{"oversized XML", "PROPFIND", "/calendars/alice/", `<D:propfind xmlns:D="DAV:"><D:prop><D:x>` + strings.Repeat("x", 2<<20) + `</D:x></D:prop></D:propfind>`, []string{"Depth", "0"}, 413, ""},
		{"Depth infinity", "PROPFIND", "/calendars/alice/", "", []string{"Depth", "infinity"}, 403, "propfind-finite-depth"},
		{"dot-dot", "PUT", "/calendars/alice/cal/../../bob/x.ics", event, nil, 400, ""},
		{"meta file", "PUT", "/calendars/alice/cal/.props.json", "{}", nil, 403, ""},
		{"other user's home", "PUT", "/calendars/bob/x.ics", event, nil, 404, ""},
		{"other user's calendar", "PROPFIND", "/calendars/bob/", "", []string{"Depth", "1"}, 403, "need-privileges"},
		{"outside the homes", "PUT", "/users/alice.json", "{}", nil, 404, ""},
		{"unknown principal", "PROPFIND", "/principals/nobody/", "", []string{"Depth", "0"}, 404, ""},
		{"stale If-Match", "PUT", "/calendars/alice/cal/a.ics", event, []string{"If-Match", `"nope"`}, 412, ""},
		{"collection in a calendar", "MKCOL", "/calendars/alice/cal/sub/", "", nil, 403, "calendar-collection-location-ok"},
		{"bad filter", "REPORT", "/calendars/alice/cal/", `<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><C:filter><C:comp-filter name="VEVENT"/></C:filter></C:calendar-query>`, []string{"Depth", "1"}, 403, "valid-filter"},
		{"bad collation", "REPORT", "/calendars/alice/cal/", `<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="SUMMARY"><C:text-match collation="x;nope">a</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`, []string{"Depth", "1"}, 403, "supported-collation"},
		{"bad sync token", "REPORT", "/calendars/alice/cal/", `<D:sync-collection xmlns:D="DAV:"><D:sync-token>https://quercus.dev/ns/sync/0123</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`, nil, 403, "valid-sync-token"},
	}
	before := store.Version()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := do(t, srv.URL, tt.method, tt.path, tt.body, tt.hdr...)
			if code != tt.code {
				t.Errorf("status %d, want %d: %s", code, tt.code, body)
			}
			if tt.cond != "" && !strings.Contains(body, ":"+tt.cond) {
				t.Errorf("body lacks %s:\n%s", tt.cond, body)
			}
		})
	}
	if v := store.Version(); v != before {
		t.Errorf("bad input changed the store")
	}
	if code, body := do(t, srv.URL, "GET", "/calendars/alice/cal/a.ics", ""); code != 200 || body != event {
		t.Errorf("the server no longer serves: %d %q", code, body)
	}
}

// TestFailedPush: a write the store cannot make durable answers 503 and
// changes nothing.
func TestFailedPush(t *testing.T) {
	store := mem.New()
	seed(t, store)
	srv := serve(t, store)
	do(t, srv.URL, "MKCALENDAR", "/calendars/alice/cal/", "")
	store.FailWrites(kv.ErrUnavailable)
	if code, _ := do(t, srv.URL, "PUT", "/calendars/alice/cal/a.ics", event); code != http.StatusServiceUnavailable {
		t.Errorf("PUT during a failing push: %d, want 503", code)
	}
	store.FailWrites(nil)
	if _, err := store.Get(context.Background(), "calendars/alice/cal/a.ics"); !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("the failed PUT was stored: %v", err)
	}
}

// TestLoginRateLimit: after too many failures a client is refused before
// its password is checked, even a right one.
func TestLoginRateLimit(t *testing.T) {
	h, err := New(Config{Store: newStore(t), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Limiter: &users.Limiter{Max: 3}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	for i := 0; i < 3; i++ {
		req, _ := http.NewRequest("PROPFIND", srv.URL+"/", nil)
		req.SetBasicAuth("alice", "wrong")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, resp.StatusCode)
		}
	}
	if code, _ := do(t, srv.URL, "PROPFIND", "/", "", "Depth", "0"); code != http.StatusTooManyRequests {
		t.Errorf("after 3 failures: %d, want 429", code)
	}
}

func stringsReader(s string) io.Reader { return strings.NewReader(s) }

// TestFailedPushGit: with the git remote gone, a PUT answers 503 and
// neither the served data nor the remote changes; once it is back, writes
// go through.
func TestFailedPushGit(t *testing.T) {
	store, remote := newGitStore(t)
	srv := serve(t, store)
	if code, _ := do(t, srv.URL, "MKCALENDAR", "/calendars/alice/cal/", ""); code != 201 {
		t.Fatalf("MKCALENDAR: %d", code)
	}
	before := store.Version()
	if err := os.Rename(remote, remote+".away"); err != nil {
		t.Fatal(err)
	}
	if code, _ := do(t, srv.URL, "PUT", "/calendars/alice/cal/a.ics", event); code != http.StatusServiceUnavailable {
		t.Errorf("PUT with the remote gone: %d, want 503", code)
	}
	if code, _ := do(t, srv.URL, "GET", "/calendars/alice/cal/a.ics", ""); code != http.StatusNotFound {
		t.Errorf("the failed PUT is served: %d", code)
	}
	if store.Version() != before {
		t.Errorf("the failed PUT moved the store")
	}
	if err := os.Rename(remote+".away", remote); err != nil {
		t.Fatal(err)
	}
	if code, _ := do(t, srv.URL, "PUT", "/calendars/alice/cal/a.ics", event); code != http.StatusCreated {
		t.Errorf("PUT with the remote back: %d", code)
	}
}

// TestPutContentType: a calendar object PUT with a Content-Type must say
// text/calendar (any case, any parameters); anything else is refused
// with supported-calendar-data (RFC 4791 §5.3.2.1) and stores nothing.
// No Content-Type at all is taken as iCalendar; outside a calendar the
// type does not matter.
func TestPutContentType(t *testing.T) {
	store := newStore(t)
	srv := serve(t, store)
	do(t, srv.URL, "MKCALENDAR", "/calendars/alice/cal/", "")
	do(t, srv.URL, "MKCOL", "/calendars/alice/files/", "")
	tests := []struct {
		path, ctype string // ctype "-": no Content-Type header
		code        int
	}{
		{"/calendars/alice/cal/none.ics", "-", 201},
		{"/calendars/alice/cal/plain.ics", "text/calendar", 201},
		{"/calendars/alice/cal/charset.ics", "text/calendar; charset=utf-8", 201},
		{"/calendars/alice/cal/python.ics", `text/calendar; charset="utf-8"`, 201}, // python3-caldav
		{"/calendars/alice/cal/upper.ics", "Text/Calendar;Charset=UTF-8", 201},
		{"/calendars/alice/cal/badparam.ics", "text/calendar; charset", 201}, // the type is clear
		{"/calendars/alice/cal/text.ics", "text/plain", 403},
		{"/calendars/alice/cal/octets.ics", "application/octet-stream", 403},
		{"/calendars/alice/cal/xml.ics", "application/xml; charset=utf-8", 403},
		{"/calendars/alice/cal/prefix.ics", "text/calendarx", 403},
		{"/calendars/alice/cal/empty.ics", "", 201}, // as good as none
		{"/calendars/alice/cal/junk.ics", "/;", 403},
		{"/calendars/alice/files/note.ics", "text/plain", 201},
	}
	for i, tt := range tests {
		var hdr []string
		if tt.ctype != "-" {
			hdr = []string{"Content-Type", tt.ctype}
		}
		body := strings.Replace(event, "UID:u1", fmt.Sprintf("UID:u%d", i), 1)
		before := store.Version()
		code, got := do(t, srv.URL, "PUT", tt.path, body, hdr...)
		if code != tt.code {
			t.Errorf("PUT %s with Content-Type %q: %d, want %d\n%s", tt.path, tt.ctype, code, tt.code, got)
		}
		if tt.code == 403 {
			if !strings.Contains(got, "<C:supported-calendar-data") {
				t.Errorf("PUT with Content-Type %q: body lacks supported-calendar-data:\n%s", tt.ctype, got)
			}
			if store.Version() != before {
				t.Errorf("PUT with Content-Type %q changed the store", tt.ctype)
			}
		}
	}
}
