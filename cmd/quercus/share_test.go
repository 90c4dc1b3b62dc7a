package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/quercus-dev/quercus/caldav"
	kvgit "github.com/quercus-dev/quercus/kv/git"
)

// TestShareCommands: a calendar shared with quercus share is found by
// its sharees through discovery with the privileges granted; a
// read-only sharee cannot write, and a removed share is gone.
func TestShareCommands(t *testing.T) {
	remote := filepath.Join(t.TempDir(), "cal.git")
	if out, err := exec.Command("git", "init", "-q", "--bare", "--initial-branch=main", remote).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v %s", err, out)
	}
	pw := map[string]string{"QUERCUS_PASSWORD": "pw"}
	for _, args := range [][]string{{"alice"}, {"bob", "--groups", "staff"}, {"carol"}} {
		if r := quercus(t, pw, append([]string{"user", "add", "--remote", remote}, args...)...); r.code != 0 {
			t.Fatalf("user add %v: %+v", args, r)
		}
	}
	store, err := kvgit.Open(context.Background(), kvgit.Config{Remote: remote, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	h, err := caldav.New(caldav.Config{Store: store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	as := func(user, method, path, body string, hdr ...string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.SetBasicAuth(user, "pw")
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, cal := range []string{"team", "private"} {
		if code, body := as("alice", "MKCALENDAR", "/calendars/alice/"+cal+"/", ""); code != 201 {
			t.Fatalf("MKCALENDAR %s: %d %s", cal, code, body)
		}
	}

	steps := []struct {
		args []string
		code int
	}{
		{[]string{"share", "add", "--write", "alice/team", "@staff"}, exitOK},
		{[]string{"share", "add", "alice/team", "carol"}, exitOK},
		{[]string{"share", "add", "alice/nothing", "carol"}, exitFail},    // no such calendar
		{[]string{"share", "add", "alice/team", "dave"}, exitFail},        // no such user
		{[]string{"share", "add", "alice/team", "@nobody"}, exitFail},     // no such group
		{[]string{"share", "add", "alice/team", "alice"}, exitFail},       // the owner
		{[]string{"share", "add", "alice/team", "group:"}, exitUsage},     // bad grantee
		{[]string{"share", "add", "alice", "carol"}, exitUsage},           // no calendar named
		{[]string{"share", "remove", "alice/private", "carol"}, exitFail}, // not shared
		{[]string{"share", "list", "a/b/c"}, exitUsage},
	}
	for _, s := range steps {
		if r := quercus(t, nil, append(s.args, "--remote", remote)...); r.code != s.code {
			t.Errorf("%v: %+v, want status %d", s.args, r, s.code)
		}
	}
	if r := quercus(t, nil, "share", "list", "--remote", remote); r.stdout != "alice/team\tgroup:staff\twrite\nalice/team\tuser:carol\tread\n" {
		t.Errorf("share list: %+v", r)
	}
	if _, err := store.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}

	homeSet := `<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-home-set/></D:prop></D:propfind>`
	privs := `<D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/><D:current-user-privilege-set/></D:prop></D:propfind>`
	response := regexp.MustCompile(`<D:response><D:href>([^<]*)</D:href>(.*?)</D:response>`)
	for _, sharee := range []struct {
		user  string
		write bool
	}{{"bob", true}, {"carol", false}} {
		_, body := as(sharee.user, "PROPFIND", "/principals/"+sharee.user+"/", homeSet, "Depth", "0")
		if !strings.Contains(body, "<D:href>/calendars/"+sharee.user+"/</D:href><D:href>/calendars/alice/</D:href>") {
			t.Errorf("%s's calendar-home-set lacks alice's home:\n%s", sharee.user, body)
		}
		_, body = as(sharee.user, "PROPFIND", "/calendars/alice/", privs, "Depth", "1")
		seen := map[string]string{}
		for _, m := range response.FindAllStringSubmatch(body, -1) {
			seen[m[1]] = m[2]
		}
		team, ok := seen["/calendars/alice/team/"]
		if !ok || seen["/calendars/alice/private/"] != "" {
			t.Errorf("%s sees in alice's home:\n%s", sharee.user, body)
		}
		// A write share grants the calendar's content (write-content, bind,
		// unbind), not its properties, so not the aggregate DAV:write.
		content := strings.Contains(team, "<D:privilege><D:write-content/></D:privilege>") && strings.Contains(team, "<D:privilege><D:bind/></D:privilege>")
		if content != sharee.write || strings.Contains(team, "<D:write/>") || !strings.Contains(team, "<D:read/>") {
			t.Errorf("%s's privileges on team (write %v):\n%s", sharee.user, sharee.write, team)
		}
	}
	const event = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nBEGIN:VEVENT\r\nUID:e\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260101T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	if code, body := as("bob", "PUT", "/calendars/alice/team/e.ics", event); code != 201 {
		t.Errorf("bob's PUT: %d %s", code, body)
	}
	if code, body := as("carol", "PUT", "/calendars/alice/team/f.ics", event); code != 403 || !strings.Contains(body, "need-privileges") {
		t.Errorf("carol's PUT: %d %s, want 403 need-privileges", code, body)
	}
	if code, _ := as("carol", "GET", "/calendars/alice/team/e.ics", ""); code != 200 {
		t.Errorf("carol's GET: %d", code)
	}

	if r := quercus(t, nil, "share", "remove", "--remote", remote, "alice/team", "user:carol", "@staff"); r.code != 0 {
		t.Fatalf("share remove: %+v", r)
	}
	if _, err := store.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code, _ := as("carol", "GET", "/calendars/alice/team/e.ics", ""); code != 404 {
		t.Errorf("carol's GET after the share is removed: %d", code)
	}
	if meta, _ := exec.Command("git", "-C", remote, "show", "main:calendars/alice/team/.props.json").CombinedOutput(); strings.Contains(string(meta), "share") {
		t.Errorf("an empty share is left in .props.json:\n%s", meta)
	}
	log, _ := exec.Command("git", "-C", remote, "log", "-3", "--format=%s").CombinedOutput()
	want := "quercus share remove alice/team user:carol group:staff\nPUT /calendars/alice/team/e.ics\nquercus share add alice/team user:carol (read)\n"
	if string(log) != want {
		t.Errorf("history:\n%s\nwant:\n%s", log, want)
	}
}
