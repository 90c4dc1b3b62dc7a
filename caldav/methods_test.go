package caldav

import (
	"net/http"
	"strings"
	"testing"
)

// TestCalendarCopyMove: a calendar object moves within and between
// calendars; a copy beside itself would duplicate its UID.
func TestCalendarCopyMove(t *testing.T) {
	srv := serve(t, newStore(t))
	do(t, srv.URL, "MKCALENDAR", "/calendars/alice/a/", "")
	do(t, srv.URL, "MKCALENDAR", "/calendars/alice/b/", "")
	do(t, srv.URL, "MKCOL", "/calendars/alice/files/", "")
	if code, body := do(t, srv.URL, "PUT", "/calendars/alice/a/1.ics", event); code != 201 {
		t.Fatalf("PUT: %d %s", code, body)
	}
	dest := func(p string) []string { return []string{"Destination", srv.URL + p} }
	steps := []struct {
		method, path string
		hdr          []string
		code         int
		cond         string
	}{
		{"MOVE", "/calendars/alice/a/1.ics", dest("/calendars/alice/a/2.ics"), 201, ""}, // rename
		{"COPY", "/calendars/alice/a/2.ics", dest("/calendars/alice/a/3.ics"), 403, "no-uid-conflict"},
		{"COPY", "/calendars/alice/a/2.ics", dest("/calendars/alice/b/2.ics"), 201, ""},
		{"MOVE", "/calendars/alice/b/2.ics", dest("/calendars/alice/a/4.ics"), 403, "no-uid-conflict"},
		{"COPY", "/calendars/alice/a/", dest("/calendars/alice/b/sub/"), 403, "calendar-collection-location-ok"},
		{"PUT", "/calendars/alice/files/notes.txt", nil, 201, ""},
		{"COPY", "/calendars/alice/files/notes.txt", dest("/calendars/alice/a/notes.ics"), 403, "valid-calendar-data"},
		{"MOVE", "/calendars/alice/a/", dest("/calendars/alice/c/"), 201, ""},
		{"GET", "/calendars/alice/c/2.ics", nil, 200, ""},
	}
	for _, s := range steps {
		body := ""
		if s.method == "PUT" {
			body = "just text"
		}
		code, got := do(t, srv.URL, s.method, s.path, body, s.hdr...)
		if code != s.code || (s.cond != "" && !strings.Contains(got, s.cond)) {
			t.Errorf("%s %s %v: %d %s, want %d %s", s.method, s.path, s.hdr, code, got, s.code, s.cond)
		}
	}
}

// TestDiscoveryProperties: what DAVx5, Thunderbird and Apple Calendar read
// while finding the calendars.
func TestDiscoveryProperties(t *testing.T) {
	srv := serve(t, newStore(t))
	do(t, srv.URL, "MKCALENDAR", "/calendars/alice/cal/", `<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:displayname>Work</D:displayname><C:supported-calendar-component-set><C:comp name="VTODO"/></C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>`,
		"Content-Type", "application/xml")
	req, _ := http.NewRequest("PROPFIND", srv.URL+"/.well-known/caldav", nil)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/" {
		t.Errorf("well-known: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	code, _ := do(t, srv.URL, "OPTIONS", "/", "")
	if code != 200 {
		t.Errorf("OPTIONS: %d", code)
	}
	checks := []struct {
		path, depth, props string
		want               []string
	}{
		{"/", "0", `<D:current-user-principal/>`, []string{`<D:current-user-principal><D:href>/principals/alice/</D:href>`}},
		{"/principals/alice/", "0", `<C:calendar-home-set/><C:calendar-user-address-set/><D:resourcetype/>`,
			[]string{`<C:calendar-home-set><D:href>/calendars/alice/</D:href></C:calendar-home-set>`, `mailto:alice@caldav.invalid`, `<D:principal/>`}},
		{"/calendars/alice/", "1", `<D:resourcetype/><D:displayname/><C:supported-calendar-component-set/><CS:getctag/><D:sync-token/><D:current-user-privilege-set/><C:max-resource-size/>`,
			[]string{`<D:href>/calendars/alice/cal/</D:href>`, `<C:calendar/>`, `<D:displayname>Work</D:displayname>`, `<C:comp name="VTODO"/>`,
				`<CS:getctag>`, `<D:sync-token>https://quercus.dev/ns/sync/`, `<D:write/>`, `<C:max-resource-size>1048576</C:max-resource-size>`}},
	}
	for _, c := range checks {
		code, body := do(t, srv.URL, "PROPFIND", c.path, `<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CS="http://calendarserver.org/ns/"><D:prop>`+c.props+`</D:prop></D:propfind>`, "Depth", c.depth)
		if code != 207 {
			t.Errorf("PROPFIND %s: %d", c.path, code)
		}
		for _, w := range c.want {
			if !strings.Contains(body, w) {
				t.Errorf("PROPFIND %s lacks %s:\n%s", c.path, w, body)
			}
		}
	}
	// A VEVENT does not go into a VTODO calendar.
	if code, body := do(t, srv.URL, "PUT", "/calendars/alice/cal/e.ics", event); code != 403 || !strings.Contains(body, "supported-calendar-component") {
		t.Errorf("VEVENT into a VTODO calendar: %d %s", code, body)
	}
	// Protected properties cannot be set; the request changes nothing.
	code, body := do(t, srv.URL, "PROPPATCH", "/calendars/alice/cal/", `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:getetag>x</D:getetag><D:displayname>New</D:displayname></D:prop></D:set></D:propertyupdate>`)
	if code != 207 || !strings.Contains(body, "403 Forbidden") || !strings.Contains(body, "424 Failed Dependency") {
		t.Errorf("PROPPATCH of a protected property: %d %s", code, body)
	}
}

// TestPreferMinimal: Prefer: return=minimal leaves out the 404 propstat.
func TestPreferMinimal(t *testing.T) {
	srv := serve(t, newStore(t))
	body := `<D:propfind xmlns:D="DAV:"><D:prop><D:displayname/><D:resourcetype/></D:prop></D:propfind>`
	if _, got := do(t, srv.URL, "PROPFIND", "/calendars/alice/", body, "Depth", "0"); !strings.Contains(got, "404 Not Found") {
		t.Errorf("without Prefer the missing displayname is not listed:\n%s", got)
	}
	if _, got := do(t, srv.URL, "PROPFIND", "/calendars/alice/", body, "Depth", "0", "Prefer", "return=minimal"); strings.Contains(got, "404") || !strings.Contains(got, "<D:collection/>") {
		t.Errorf("with Prefer: return=minimal:\n%s", got)
	}
}

// TestUIDIndexFollowsHistory: the UID check sees deletions, moves and
// overwrites made since it last looked.
func TestUIDIndexFollowsHistory(t *testing.T) {
	srv := serve(t, newStore(t))
	do(t, srv.URL, "MKCALENDAR", "/calendars/alice/cal/", "")
	other := strings.Replace(event, "UID:u1", "UID:u2", 1)
	steps := []struct {
		method, path, body string
		hdr                []string
		code               int
	}{
		{"PUT", "/calendars/alice/cal/a.ics", event, nil, 201},
		{"PUT", "/calendars/alice/cal/b.ics", event, nil, 403}, // u1 is a's
		{"DELETE", "/calendars/alice/cal/a.ics", "", nil, 204},
		{"PUT", "/calendars/alice/cal/b.ics", event, nil, 201}, // free again
		{"MOVE", "/calendars/alice/cal/b.ics", "", []string{"Destination", srv.URL + "/calendars/alice/cal/c.ics"}, 201},
		{"PUT", "/calendars/alice/cal/b.ics", event, nil, 403}, // now c's
		{"PUT", "/calendars/alice/cal/c.ics", other, nil, 204}, // c becomes u2
		{"PUT", "/calendars/alice/cal/b.ics", event, nil, 201},
		{"PUT", "/calendars/alice/cal/d.ics", other, nil, 403}, // u2 is c's
	}
	for _, s := range steps {
		if code, body := do(t, srv.URL, s.method, s.path, s.body, s.hdr...); code != s.code {
			t.Errorf("%s %s: %d, want %d: %s", s.method, s.path, code, s.code, body)
		}
	}
}
