package caldav

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/quercus-dev/quercus/internal/peer"
)

// TestPythonCaldav runs a scripted session with Debian's python3-caldav
// (testdata/session.py checks every step) against a git remote, then
// checks the repository's history commit by commit.
func TestPythonCaldav(t *testing.T) {
	python := peer.Require(t, "/usr/bin/python3", "git")[0]
	if out, err := exec.Command(python, "-c", "import caldav").CombinedOutput(); err != nil {
		t.Fatalf("python3-caldav is missing (make test installs it): %v\n%s", err, out)
	}
	store, remote := newGitStore(t)
	srv := serve(t, store)
	out, err := exec.Command(python, "testdata/session.py", srv.URL+"/", "test", testUsers["test"]).CombinedOutput()
	if err != nil {
		t.Fatalf("session failed: %v\n%s", err, out)
	}
	t.Logf("session:\n%s", out)

	log := peer.Run(t, remote, "git", "log", "--reverse", "--format=%an <%ae>|%s")
	got := strings.Split(strings.TrimSpace(log), "\n")[1:] // after the seeding commit
	const who = "test <test@caldav.invalid>|"
	want := []string{
		who + "MKCALENDAR /calendars/test/work/",
		who + "PUT /calendars/test/work/single-1.ics",
		who + "PUT /calendars/test/work/weekly-1.ics",
		who + "PUT /calendars/test/work/todo-1.ics",
		who + "PUT /calendars/test/work/single-1.ics", // If-Match update; the stale one made no commit
		who + "DELETE /calendars/test/work/todo-1.ics",
		who + "PUT /calendars/test/work/single-2.ics", // the event without UID made no commit
		who + "PROPPATCH /calendars/test/work/",
		who + "DELETE /calendars/test/work/single-1.ics",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("history:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Each object is stored exactly as sent, so its ETag stays valid.
	body := peer.Run(t, remote, "git", "show", "main:calendars/test/work/weekly-1.ics")
	if !strings.Contains(body, "RRULE:FREQ=WEEKLY;COUNT=10") || !strings.Contains(body, "DTSTART;TZID=Europe/Berlin:20260302T100000") {
		t.Errorf("weekly-1.ics not stored as sent:\n%s", body)
	}
	// The user agent is in each commit's message.
	if msg := peer.Run(t, remote, "git", "log", "-1", "--format=%B"); !strings.Contains(msg, "User-Agent: ") {
		t.Errorf("commit message lacks the user agent:\n%s", msg)
	}
}
