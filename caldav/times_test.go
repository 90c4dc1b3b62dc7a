package caldav

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quercus-dev/quercus/kv"
)

// TestTimes: getlastmodified and creationdate come from the history,
// the same whether a server recorded them as it wrote or walked the
// history for them; a deleted and re-created file is new again.
func TestTimes(t *testing.T) {
	store := newStore(t)
	at, clock := minuteClock()
	server := func() string { return serveWith(t, Config{Store: store, Now: clock}).URL }
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

// TestTimesNoBudget: a request whose budget of commits is spent dates
// nothing more (404) and fails nothing; with budget enough the same
// listing dates every member.
func TestTimesNoBudget(t *testing.T) {
	store, _ := newGitStore(t)
	writer := serve(t, store)
	do(t, writer.URL, "MKCALENDAR", "/calendars/alice/cal/", "")
	for i := range 3 {
		do(t, writer.URL, "PUT", fmt.Sprintf("/calendars/alice/cal/%d.ics", i), strings.Replace(event, "UID:u1", fmt.Sprintf("UID:u%d", i), 1))
	}
	ask := `<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><D:getlastmodified/></D:prop></D:propfind>`
	for _, tt := range []struct {
		versions, dated int
	}{{0, 0}, {historyVersions, 3}} {
		base := timesServer(t, store, nil, tt.versions)
		code, got := do(t, base, "PROPFIND", "/calendars/alice/cal/", ask, "Depth", "1")
		if c := strings.Count(got, "<D:getlastmodified>"); code != 207 || c != tt.dated || strings.Count(got, "<D:getetag>") != 3 {
			t.Errorf("%d commits: %d, %d members dated, want %d\n%s", tt.versions, code, c, tt.dated, got)
		}
	}
}

// TestTimesBound: a request's walks look at no more than
// historyVersions commits. Where the bound stops a walk, the stamp is
// not found yet (404), never a guess from the oldest commit seen; the
// next request goes on where the walk stopped, so each request dates
// the same members on every run, and enough requests date them all.
// A change made through the server meanwhile keeps the walk's place.
func TestTimesBound(t *testing.T) {
	// Six commits a request; what each listing dates: m is
	// getlastmodified, c creationdate (a collection has no m). The
	// commits by minute, newest first: old.ics edited (13), new.ics
	// (12), eight in another calendar (11..4) and its creation (3),
	// old.ics (2), the calendar (1).
	steps := []struct {
		why           string
		cal, nu, old  string
		editOldBefore bool
	}{
		{why: "the calendar's walk looks at commits 13..8 and stops"},
		{why: "it goes on with 7..2"},
		{why: "1 creates the calendar; new.ics takes 13, 12; old.ics 13, then 12, 11 towards its creation",
			cal: "c", nu: "mc", old: "m"},
		{why: "old.ics goes on with 10..5", cal: "c", nu: "mc", old: "m"},
		{why: "edited through the server at 10:20, old.ics goes on with 4..2, its creation",
			cal: "c", nu: "mc", old: "mc", editOldBefore: true},
	}
	run := func(t *testing.T, store kv.Store) (bodies []string) {
		at, clock := minuteClock()
		writer := timesServer(t, store, clock, historyVersions)
		at(1)
		do(t, writer, "MKCALENDAR", "/calendars/alice/cal/", "")
		at(2)
		do(t, writer, "PUT", "/calendars/alice/cal/old.ics", event)
		at(3)
		do(t, writer, "MKCALENDAR", "/calendars/alice/other/", "")
		for i := range 8 {
			at(4 + i)
			do(t, writer, "PUT", fmt.Sprintf("/calendars/alice/other/%d.ics", i), strings.Replace(event, "UID:u1", fmt.Sprintf("UID:o%d", i), 1))
		}
		at(12)
		do(t, writer, "PUT", "/calendars/alice/cal/new.ics", strings.Replace(event, "UID:u1", "UID:new", 1))
		at(13)
		do(t, writer, "PUT", "/calendars/alice/cal/old.ics", strings.Replace(event, "SUMMARY:x", "SUMMARY:y", 1))
		at(20)

		fresh := timesServer(t, store, clock, 6)
		ask := `<D:propfind xmlns:D="DAV:"><D:prop><D:getlastmodified/><D:creationdate/></D:prop></D:propfind>`
		for i, st := range steps {
			if st.editOldBefore {
				do(t, fresh, "PUT", "/calendars/alice/cal/old.ics", strings.Replace(event, "SUMMARY:x", "SUMMARY:z", 1))
			}
			_, got := do(t, fresh, "PROPFIND", "/calendars/alice/cal/", ask, "Depth", "1")
			want := map[string]string{"/calendars/alice/cal/": st.cal, "/calendars/alice/cal/new.ics": st.nu, "/calendars/alice/cal/old.ics": st.old}
			if d := datedProps(got); fmt.Sprint(d) != fmt.Sprint(want) {
				t.Errorf("request %d (%s): dated %v, want %v\n%s", i+1, st.why, d, want, got)
			}
			bodies = append(bodies, got)
			// GET answers Last-Modified once the last change is known,
			// not while a walk is still looking for it.
			if lm := lastModified(t, fresh, "/calendars/alice/cal/old.ics"); (lm != "") != strings.Contains(st.old, "m") {
				t.Errorf("request %d: GET old.ics: Last-Modified %q, want it if %q has m", i+1, lm, st.old)
			}
		}
		last := bodies[len(bodies)-1]
		for _, w := range []string{
			"<D:creationdate>2026-03-01T10:01:00Z</D:creationdate>",
			"<D:getlastmodified>Sun, 01 Mar 2026 10:12:00 GMT</D:getlastmodified><D:creationdate>2026-03-01T10:12:00Z</D:creationdate>",
			"<D:getlastmodified>Sun, 01 Mar 2026 10:20:00 GMT</D:getlastmodified><D:creationdate>2026-03-01T10:02:00Z</D:creationdate>",
		} {
			if !strings.Contains(last, w) {
				t.Errorf("the last listing lacks %s:\n%s", w, last)
			}
		}
		return bodies
	}
	t.Run("mem", func(t *testing.T) {
		// Two runs, the same answers: only the history and the
		// requests before decide what a request finds.
		first, second := run(t, newStore(t)), run(t, newStore(t))
		if !slices.Equal(first, second) {
			t.Errorf("two runs answer differently:\n%q\n%q", first, second)
		}
	})
	t.Run("git", func(t *testing.T) {
		s, _ := newGitStore(t)
		run(t, s)
	})
}

// minuteClock is a clock at 2026-03-01 10:00 UTC that at sets to the
// given minute of that hour.
func minuteClock() (at func(minute int), clock func() time.Time) {
	var mu sync.Mutex
	minute := 0
	at = func(m int) { mu.Lock(); defer mu.Unlock(); minute = m }
	clock = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return time.Date(2026, 3, 1, 10, minute, 0, 0, time.UTC)
	}
	return at, clock
}

// timesServer serves store with a budget of versions commits a
// request for the history walks; clock nil is time.Now.
func timesServer(t *testing.T, store kv.Store, clock func() time.Time, versions int) string {
	t.Helper()
	h, err := New(Config{Store: store, Now: clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h.historyVersions = versions
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// lastModified is the Last-Modified header of a GET of path.
func lastModified(t *testing.T, base, path string) string {
	t.Helper()
	req, err := http.NewRequest("GET", base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("alice", testUsers["alice"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	return resp.Header.Get("Last-Modified")
}

// datedProps maps each href of a multistatus to the history's times it
// has: "m" for getlastmodified, "c" for creationdate.
func datedProps(body string) map[string]string {
	out := map[string]string{}
	for _, r := range strings.Split(body, "<D:response>")[1:] {
		href, _, _ := strings.Cut(strings.TrimPrefix(r, "<D:href>"), "</D:href>")
		d := ""
		if strings.Contains(r, "<D:getlastmodified>") {
			d += "m"
		}
		if strings.Contains(r, "<D:creationdate>") {
			d += "c"
		}
		out[href] = d
	}
	return out
}

// TestTimesDeletedThenPushed: a file deleted through the server and
// created again by a push with the same content is new: its times are
// the push's, not those the server knew of the file it deleted, whose
// stamp matched the new content's digest.
func TestTimesDeletedThenPushed(t *testing.T) {
	for _, what := range []string{"DELETE", "MOVE"} {
		store := newStore(t)
		at, clock := minuteClock()
		base := timesServer(t, store, clock, historyVersions)
		ask := `<D:propfind xmlns:D="DAV:"><D:prop><D:getlastmodified/><D:creationdate/></D:prop></D:propfind>`
		at(1)
		do(t, base, "MKCALENDAR", "/calendars/alice/cal/", "")
		at(2)
		do(t, base, "PUT", "/calendars/alice/cal/a.ics", event)
		if _, got := do(t, base, "PROPFIND", "/calendars/alice/cal/a.ics", ask, "Depth", "0"); !strings.Contains(got, "<D:creationdate>2026-03-01T10:02:00Z</D:creationdate>") {
			t.Fatalf("%s: before: %s", what, got)
		}
		at(5)
		if what == "DELETE" {
			do(t, base, "DELETE", "/calendars/alice/cal/a.ics", "")
		} else {
			do(t, base, "MOVE", "/calendars/alice/cal/a.ics", "", "Destination", "/calendars/alice/cal/b.ics")
		}
		pushed := kv.Commit{Author: kv.Signature{Name: "git", Email: "git@example.org", Time: time.Date(2026, 3, 1, 10, 7, 0, 0, time.UTC)}, Message: "a is back"}
		if _, err := store.Batch(t.Context(), pushed, func(tx kv.Txn) error { return tx.Put("calendars/alice/cal/a.ics", []byte(event)) }); err != nil {
			t.Fatal(err)
		}
		want := "<D:getlastmodified>Sun, 01 Mar 2026 10:07:00 GMT</D:getlastmodified><D:creationdate>2026-03-01T10:07:00Z</D:creationdate>"
		if _, got := do(t, base, "PROPFIND", "/calendars/alice/cal/a.ics", ask, "Depth", "0"); !strings.Contains(got, want) {
			t.Errorf("%s, then pushed again: %s\nwant %s", what, got, want)
		}
	}
}
