package caldav

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/quercus-dev/quercus/kv"
)

// discoveryStep is one request of a client's discovery, with what the
// answer must hold.
type discoveryStep struct {
	method, path, depth, body string
	code                      int
	want                      []string // in the body, or "DAV: x" / "Location: x" headers
	not                       []string
}

// TestClientDiscovery replays how DAVx5, Thunderbird and Apple Calendar
// find a user's calendars (the requests as those clients send them:
// DAVx5's DavResourceFinder and ServiceDetectionUtils, Thunderbird's
// CalDavDetector, Apple Calendar as logged against CalendarServer), for
// alice, who owns "work", and for bob, with whom alice shares "team"
// read-only.
func TestClientDiscovery(t *testing.T) {
	store := newStore(t)
	srv := serve(t, store)
	mk := `<?xml version="1.0" encoding="UTF-8"?><B:mkcalendar xmlns:B="urn:ietf:params:xml:ns:caldav"><A:set xmlns:A="DAV:"><A:prop>` +
		`<D:calendar-color xmlns:D="http://apple.com/ns/ical/" symbolic-color="purple">#711A76FF</D:calendar-color><A:displayname>Work</A:displayname></A:prop></A:set></B:mkcalendar>`
	if code, body := do(t, srv.URL, "MKCALENDAR", "/calendars/alice/work/", mk, "Content-Type", "application/xml"); code != 201 {
		t.Fatalf("MKCALENDAR: %d %s", code, body)
	}
	do(t, srv.URL, "MKCALENDAR", "/calendars/alice/team/", "")
	code, body := do(t, srv.URL, "PROPPATCH", "/calendars/alice/team/", `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>Team</D:displayname></D:prop></D:set></D:propertyupdate>`)
	if code != 207 {
		t.Fatalf("PROPPATCH: %d %s", code, body)
	}
	share(t, store, "calendars/alice/team", "user:bob", "read")

	const (
		dav    = `<?xml version='1.0' encoding='UTF-8' ?><propfind xmlns="DAV:"><prop>`
		davEnd = `</prop></propfind>`
		tb     = `<?xml version="1.0" encoding="UTF-8"?><D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:A="http://apple.com/ns/ical/" xmlns:CS="http://calendarserver.org/ns/"><D:prop>`
		tbEnd  = `</D:prop></D:propfind>`
		apple  = `<?xml version="1.0" encoding="UTF-8"?><A:propfind xmlns:A="DAV:"><A:prop>`
		appEnd = `</A:prop></A:propfind>`
	)
	clients := []struct {
		name  string
		user  string
		steps []discoveryStep
	}{
		{"DAVx5", "alice", []discoveryStep{
			// The URL the user typed: is it a calendar, a home, a principal?
			{"PROPFIND", "/", "0", dav + `<resourcetype /><displayname /><calendar-color xmlns="http://apple.com/ns/ical/" /><calendar-description xmlns="urn:ietf:params:xml:ns:caldav" /><calendar-timezone xmlns="urn:ietf:params:xml:ns:caldav" /><current-user-privilege-set /><supported-calendar-component-set xmlns="urn:ietf:params:xml:ns:caldav" /><calendar-home-set xmlns="urn:ietf:params:xml:ns:caldav" /><current-user-principal />` + davEnd,
				207, []string{`<D:current-user-principal><D:href>/principals/alice/</D:href>`}, nil},
			// Does the principal provide CalDAV?
			{"OPTIONS", "/principals/alice/", "", "", 200, []string{"calendar-access"}, nil},
			{"PROPFIND", "/principals/alice/", "0", dav + `<calendar-user-address-set xmlns="urn:ietf:params:xml:ns:caldav" />` + davEnd,
				207, []string{`<D:href>mailto:alice@caldav.invalid</D:href>`}, nil},
			{"PROPFIND", "/principals/alice/", "0", dav + `<calendar-home-set xmlns="urn:ietf:params:xml:ns:caldav" /><displayname /><group-membership />` + davEnd,
				207, []string{`<C:calendar-home-set><D:href>/calendars/alice/</D:href></C:calendar-home-set>`, `<D:displayname>alice</D:displayname>`}, nil},
			{"PROPFIND", "/calendars/alice/", "1", dav + `<current-user-privilege-set /><displayname /><owner /><resourcetype /><push-transports xmlns="https://bitfire.at/webdav-push" /><topic xmlns="https://bitfire.at/webdav-push" /><calendar-color xmlns="http://apple.com/ns/ical/" /><calendar-description xmlns="urn:ietf:params:xml:ns:caldav" /><calendar-timezone xmlns="urn:ietf:params:xml:ns:caldav" /><calendar-timezone-id xmlns="urn:ietf:params:xml:ns:caldav" /><supported-calendar-component-set xmlns="urn:ietf:params:xml:ns:caldav" /><source xmlns="http://calendarserver.org/ns/" />` + davEnd,
				207, []string{`<D:href>/calendars/alice/work/</D:href>`, `<D:displayname>Work</D:displayname>`, `#711A76FF`, `<C:calendar/>`,
					`<D:owner><D:href>/principals/alice/</D:href></D:owner>`, `<D:privilege><D:write/></D:privilege>`, `<C:comp name="VEVENT"/>`}, nil},
		}},
		{"Thunderbird", "alice", []discoveryStep{
			{"PROPFIND", "/.well-known/caldav", "0", "", 301, []string{"Location: /"}, nil},
			{"PROPFIND", "/", "0", tb + `<D:resourcetype/><D:owner/><D:displayname/><D:current-user-principal/><D:current-user-privilege-set/><A:calendar-color/><C:calendar-home-set/>` + tbEnd,
				207, []string{`<D:current-user-principal><D:href>/principals/alice/</D:href>`}, []string{"<C:calendar/>", "<D:principal/>"}},
			{"PROPFIND", "/principals/alice/", "0", tb + `<D:resourcetype/><C:calendar-home-set/>` + tbEnd,
				207, []string{`<D:principal/>`, `<C:calendar-home-set><D:href>/calendars/alice/</D:href></C:calendar-home-set>`}, nil},
			{"PROPFIND", "/calendars/alice/", "1", tb + `<D:resourcetype/><D:displayname/><D:current-user-privilege-set/><A:calendar-color/>` + tbEnd,
				207, []string{`<D:href>/calendars/alice/work/</D:href>`, `<D:displayname>Work</D:displayname>`, `#711A76FF`, `<D:privilege><D:write/></D:privilege>`}, nil},
		}},
		{"Thunderbird, sharee", "bob", []discoveryStep{
			{"PROPFIND", "/principals/bob/", "0", tb + `<D:resourcetype/><C:calendar-home-set/>` + tbEnd,
				207, []string{`<C:calendar-home-set><D:href>/calendars/bob/</D:href><D:href>/calendars/alice/</D:href></C:calendar-home-set>`}, nil},
			{"PROPFIND", "/calendars/alice/", "1", tb + `<D:resourcetype/><D:displayname/><D:current-user-privilege-set/><A:calendar-color/>` + tbEnd,
				207, []string{`<D:href>/calendars/alice/team/</D:href>`, `<D:displayname>Team</D:displayname>`, `<D:privilege><D:read/></D:privilege>`},
				[]string{`/calendars/alice/work/`, `<D:write/>`}},
		}},
		{"Apple Calendar", "alice", []discoveryStep{
			{"PROPFIND", "/.well-known/caldav", "0", "", 301, []string{"Location: /"}, nil},
			{"PROPFIND", "/", "0", apple + `<A:current-user-principal/><A:principal-URL/><A:resourcetype/>` + appEnd,
				207, []string{`<D:current-user-principal><D:href>/principals/alice/</D:href>`}, nil},
			{"OPTIONS", "/principals/alice/", "", "", 200, []string{"calendar-access"}, nil},
			{"PROPFIND", "/principals/alice/", "0", `<?xml version="1.0" encoding="UTF-8"?><A:propfind xmlns:A="DAV:" xmlns:B="urn:ietf:params:xml:ns:caldav" xmlns:C="http://calendarserver.org/ns/"><A:prop>` +
				`<B:calendar-home-set/><B:calendar-user-address-set/><A:current-user-principal/><A:displayname/><C:dropbox-home-URL/><C:email-address-set/><C:notification-URL/><A:principal-collection-set/><A:principal-URL/><A:resource-id/><B:schedule-inbox-URL/><B:schedule-outbox-URL/><A:supported-report-set/>` + appEnd,
				207, []string{`<C:calendar-home-set><D:href>/calendars/alice/</D:href>`, `<D:href>mailto:alice@caldav.invalid</D:href>`, `<D:displayname>alice</D:displayname>`,
					`<D:principal-collection-set><D:href>/principals/</D:href>`, `<D:principal-URL><D:href>/principals/alice/</D:href>`}, nil},
			{"PROPFIND", "/calendars/alice/", "1", `<?xml version="1.0" encoding="UTF-8"?><A:propfind xmlns:A="DAV:" xmlns:B="http://calendarserver.org/ns/" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:D="http://apple.com/ns/ical/"><A:prop>` +
				`<A:add-member/><B:allowed-sharing-modes/><D:calendar-color/><C:calendar-description/><C:calendar-free-busy-set/><D:calendar-order/><C:calendar-timezone/><A:current-user-privilege-set/><C:default-alarm-vevent-date/><C:default-alarm-vevent-datetime/><A:displayname/><B:getctag/><B:invite/><A:owner/><B:push-transports/><B:pushkey/><A:quota-available-bytes/><A:quota-used-bytes/><A:resource-id/><A:resourcetype/><C:schedule-calendar-transp/><B:source/><C:supported-calendar-component-set/><A:supported-report-set/><A:sync-token/>` + appEnd,
				207, []string{`<D:href>/calendars/alice/work/</D:href>`, `<CS:getctag>`, `<D:sync-token>`, `<C:calendar-multiget/>`, `<D:sync-collection/>`, `#711A76FF`, `<D:displayname>Work</D:displayname>`}, nil},
		}},
	}
	for _, c := range clients {
		for i, s := range c.steps {
			req, err := http.NewRequest(s.method, srv.URL+s.path, strings.NewReader(s.body))
			if err != nil {
				t.Fatal(err)
			}
			req.SetBasicAuth(c.user, testUsers[c.user])
			if s.depth != "" {
				req.Header.Set("Depth", s.depth)
			}
			if s.body != "" {
				req.Header.Set("Content-Type", "application/xml; charset=utf-8")
			}
			resp, err := http.DefaultTransport.RoundTrip(req) // redirects are steps of their own
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, h := range []string{"DAV", "Location"} {
				if v := resp.Header.Get(h); v != "" {
					b.WriteString(h + ": " + v + "\n")
				}
			}
			buf := make([]byte, 64<<10)
			for {
				n, err := resp.Body.Read(buf)
				b.Write(buf[:n])
				if err != nil {
					break
				}
			}
			resp.Body.Close()
			got := b.String()
			if resp.StatusCode != s.code {
				t.Errorf("%s step %d, %s %s: %d, want %d\n%s", c.name, i+1, s.method, s.path, resp.StatusCode, s.code, got)
				continue
			}
			for _, w := range s.want {
				if !strings.Contains(got, w) {
					t.Errorf("%s step %d, %s %s lacks %s:\n%s", c.name, i+1, s.method, s.path, w, got)
				}
			}
			for _, w := range s.not {
				if strings.Contains(got, w) {
					t.Errorf("%s step %d, %s %s has %s:\n%s", c.name, i+1, s.method, s.path, w, got)
				}
			}
		}
	}
}

// share grants access to the collection at folder, as quercus share
// does.
func share(t *testing.T, store kv.Store, folder, grantee, access string) {
	t.Helper()
	_, err := store.Batch(context.Background(), kv.Commit{Message: "share"}, func(tx kv.Txn) error {
		m, _, err := readMeta(tx.Get, folder)
		if err != nil {
			return err
		}
		if m.Share == nil {
			m.Share = map[string]string{}
		}
		m.Share[grantee] = access
		return writeMeta(tx, folder, m)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestExpandProperty: expand-property (RFC 3253 §3.8) on a principal,
// as Apple Calendar asks for its delegates and InfCloud for the homes.
func TestExpandProperty(t *testing.T) {
	srv := serve(t, newStore(t))
	body := `<?xml version="1.0" encoding="UTF-8"?><A:expand-property xmlns:A="DAV:">` +
		`<A:property name="calendar-proxy-write-for" namespace="http://calendarserver.org/ns/"><A:property name="displayname"/></A:property>` +
		`<A:property name="current-user-principal"><A:property name="displayname"/><A:property name="calendar-home-set" namespace="urn:ietf:params:xml:ns:caldav"/></A:property>` +
		`<A:property name="calendar-user-address-set" namespace="urn:ietf:params:xml:ns:caldav"><A:property name="displayname"/></A:property>` +
		`<A:property name="principal-URL"/>` +
		`</A:expand-property>`
	code, got := do(t, srv.URL, "REPORT", "/principals/alice/", body, "Depth", "0")
	if code != 207 {
		t.Fatalf("expand-property: %d %s", code, got)
	}
	for _, want := range []string{
		`<D:current-user-principal><D:response><D:href>/principals/alice/</D:href><D:propstat><D:prop><D:displayname>alice</D:displayname><C:calendar-home-set><D:href>/calendars/alice/</D:href></C:calendar-home-set></D:prop>`,
		`<C:calendar-user-address-set><D:response><D:href>mailto:alice@caldav.invalid</D:href><D:status>HTTP/1.1 404 Not Found</D:status></D:response><D:response><D:href>/principals/alice/</D:href>`,
		`<D:principal-URL><D:href>/principals/alice/</D:href></D:principal-URL>`,
		`<CS:calendar-proxy-write-for/></D:prop><D:status>HTTP/1.1 404 Not Found`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("expand-property lacks %s:\n%s", want, got)
		}
	}
}

// TestExpandPropertyBounded: expand-property's work grows with the
// hrefs it follows times the properties asked of each; past
// maxExpandProps property lookups the request is refused (507) rather
// than answered with a multistatus many times the request's size.
func TestExpandPropertyBounded(t *testing.T) {
	store := newStore(t)
	srv := serve(t, store)
	for _, u := range []string{"bob", "test"} {
		if code, body := asUser(t, srv.URL, u, "MKCALENDAR", "/calendars/"+u+"/c/", ""); code != 201 {
			t.Fatalf("MKCALENDAR: %d %s", code, body)
		}
		share(t, store, "calendars/"+u+"/c", "user:alice", "read")
	}
	// Three homes, their owners, the owners' homes (alice's three, one
	// each for the others): leaves are looked up on five homes.
	chain := func(leaves int) string {
		return `<A:expand-property xmlns:A="DAV:"><A:property name="calendar-home-set" namespace="urn:ietf:params:xml:ns:caldav">` +
			`<A:property name="owner"><A:property name="calendar-home-set" namespace="urn:ietf:params:xml:ns:caldav">` +
			strings.Repeat(`<A:property name="displayname"/>`, leaves) +
			`</A:property></A:property></A:property></A:expand-property>`
	}
	code, got := do(t, srv.URL, "REPORT", "/principals/alice/", chain(2), "Depth", "0")
	if code != 207 || strings.Count(got, "<D:href>/calendars/bob/</D:href>") != 3 || strings.Count(got, "<D:href>/calendars/alice/</D:href>") != 2 {
		t.Errorf("a small expansion: %d\n%s", code, got)
	}
	if code, got := do(t, srv.URL, "REPORT", "/principals/alice/", chain(maxExpandProps/5+1), "Depth", "0"); code != http.StatusInsufficientStorage {
		t.Errorf("an expansion of more than %d lookups: %d, %d bytes", maxExpandProps, code, len(got))
	}
}
