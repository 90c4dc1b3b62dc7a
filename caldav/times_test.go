package caldav

import (
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestTimes: getlastmodified and creationdate come from the history,
// the same whether a server recorded them as it wrote or walked the
// history for them; a deleted and re-created file is new again.
func TestTimes(t *testing.T) {
	store := newStore(t)
	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	at := func(minutes int) {
		mu.Lock()
		defer mu.Unlock()
		now = time.Date(2026, 3, 1, 10, minutes, 0, 0, time.UTC)
	}
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	server := func() string {
		h, err := New(Config{Store: store, Now: clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return srv.URL
	}
	first := server()
	at(1)
	do(t, first, "MKCALENDAR", "/calendars/alice/cal/", "")
	at(2)
	do(t, first, "PUT", "/calendars/alice/cal/a.ics", event)
	at(3)
	do(t, first, "PUT", "/calendars/alice/cal/a.ics", strings.Replace(event, "SUMMARY:x", "SUMMARY:y", 1))
	at(4)
	do(t, first, "PUT", "/calendars/alice/cal/b.ics", strings.Replace(event, "UID:u1", "UID:u2", 1))
	at(5)
	do(t, first, "DELETE", "/calendars/alice/cal/b.ics", "")
	at(6)
	do(t, first, "PUT", "/calendars/alice/cal/b.ics", strings.Replace(event, "UID:u1", "UID:u2", 1))
	at(30)

	ask := `<D:propfind xmlns:D="DAV:"><D:prop><D:getlastmodified/><D:creationdate/></D:prop></D:propfind>`
	want := map[string]string{
		"/calendars/alice/cal/":      "<D:creationdate>2026-03-01T10:01:00Z</D:creationdate>",
		"/calendars/alice/cal/a.ics": "<D:getlastmodified>Sun, 01 Mar 2026 10:03:00 GMT</D:getlastmodified><D:creationdate>2026-03-01T10:02:00Z</D:creationdate>",
		"/calendars/alice/cal/b.ics": "<D:getlastmodified>Sun, 01 Mar 2026 10:06:00 GMT</D:getlastmodified><D:creationdate>2026-03-01T10:06:00Z</D:creationdate>",
	}
	// The server that wrote them, then a new one that walks the history.
	for name, base := range map[string]string{"writer": first, "fresh": server()} {
		for path, w := range want {
			if code, got := do(t, base, "PROPFIND", path, ask, "Depth", "0"); code != 207 || !strings.Contains(got, w) {
				t.Errorf("%s server, %s: %d\n%s\nwant %s", name, path, code, got, w)
			}
		}
	}
	// One at a time: the last change alone needs less of the history.
	fresh := server()
	alone := map[string]string{
		"getlastmodified": "<D:getlastmodified>Sun, 01 Mar 2026 10:03:00 GMT</D:getlastmodified>",
		"creationdate":    "<D:creationdate>2026-03-01T10:02:00Z</D:creationdate>",
	}
	for _, p := range []string{"getlastmodified", "creationdate", "getlastmodified"} {
		_, got := do(t, fresh, "PROPFIND", "/calendars/alice/cal/a.ics", `<D:propfind xmlns:D="DAV:"><D:prop><D:`+p+`/></D:prop></D:propfind>`, "Depth", "0")
		if !strings.Contains(got, alone[p]) {
			t.Errorf("%s alone:\n%s\nwant %s", p, got, alone[p])
		}
	}
	if _, got := do(t, first, "PROPFIND", "/calendars/alice/cal/", ask, "Depth", "0"); !strings.Contains(got, "<D:getlastmodified/></D:prop><D:status>HTTP/1.1 404") {
		t.Errorf("a collection's getlastmodified:\n%s", got)
	}
	code, got := do(t, first, "PROPFIND", "/calendars/alice/cal/a.ics", "", "Depth", "0")
	if code != 207 || strings.Contains(got, "getlastmodified") || strings.Contains(got, "creationdate") {
		t.Errorf("allprop includes the history's times:\n%s", got)
	}
	_, got = do(t, first, "PROPFIND", "/calendars/alice/cal/a.ics", `<D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>`, "Depth", "0")
	if !strings.Contains(got, "<D:getlastmodified/>") || !strings.Contains(got, "<D:creationdate/>") {
		t.Errorf("propname lacks the history's times:\n%s", got)
	}
	if code, _ := do(t, first, "GET", "/calendars/alice/cal/a.ics", "", "If-None-Match", "x"); code != 200 {
		t.Errorf("GET: %d", code)
	}
}

// TestTimesBudget: one request walks the history for at most
// historyWalks members; a later one finds the rest.
func TestTimesBudget(t *testing.T) {
	store := newStore(t)
	writer := serve(t, store)
	do(t, writer.URL, "MKCALENDAR", "/calendars/alice/cal/", "")
	n := historyWalks + 4
	for i := range n {
		do(t, writer.URL, "PUT", fmt.Sprintf("/calendars/alice/cal/%d.ics", i), strings.Replace(event, "UID:u1", fmt.Sprintf("UID:u%d", i), 1))
	}
	fresh := serve(t, store) // knows no times yet
	ask := `<D:propfind xmlns:D="DAV:"><D:prop><D:getlastmodified/></D:prop></D:propfind>`
	_, got := do(t, fresh.URL, "PROPFIND", "/calendars/alice/cal/", ask, "Depth", "1")
	if c := strings.Count(got, "<D:getlastmodified>"); c != historyWalks {
		t.Errorf("first listing dates %d members, want %d", c, historyWalks)
	}
	_, got = do(t, fresh.URL, "PROPFIND", "/calendars/alice/cal/", ask, "Depth", "1")
	if c := strings.Count(got, "<D:getlastmodified>"); c != n {
		t.Errorf("second listing dates %d members, want %d", c, n)
	}
}

// TestTimesOutOfTime: with kv/git, whose walks heed their context, a
// request whose history time is spent dates nothing more (404) and
// fails nothing; with time enough the same listing dates every member.
// (kv/mem's walks ignore the context, so TestTimesBudget cannot show it.)
func TestTimesOutOfTime(t *testing.T) {
	store, _ := newGitStore(t)
	writer := serve(t, store)
	do(t, writer.URL, "MKCALENDAR", "/calendars/alice/cal/", "")
	for i := range 3 {
		do(t, writer.URL, "PUT", fmt.Sprintf("/calendars/alice/cal/%d.ics", i), strings.Replace(event, "UID:u1", fmt.Sprintf("UID:u%d", i), 1))
	}
	ask := `<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><D:getlastmodified/></D:prop></D:propfind>`
	for _, tt := range []struct {
		budget time.Duration
		dated  int
	}{{0, 0}, {time.Hour, 3}} {
		h, err := New(Config{Store: store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		h.historyTime = tt.budget
		srv := httptest.NewServer(h)
		code, got := do(t, srv.URL, "PROPFIND", "/calendars/alice/cal/", ask, "Depth", "1")
		srv.Close()
		if c := strings.Count(got, "<D:getlastmodified>"); code != 207 || c != tt.dated || strings.Count(got, "<D:getetag>") != 3 {
			t.Errorf("history time %v: %d, %d members dated, want %d\n%s", tt.budget, code, c, tt.dated, got)
		}
	}
}
