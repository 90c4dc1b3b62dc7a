package caldav

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/quercus-dev/quercus/kv"
)

// asUser sends one request as user and returns the status and body.
func asUser(t *testing.T, base, user, method, path, body string, hdr ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(user, testUsers[user])
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body) // a body cut short is compared as far as it came
	return resp.StatusCode, string(b)
}

// TestShareeWrites: a read-only sharee changes nothing in the calendar;
// a read-write sharee changes its events but not the calendar itself:
// removing it from the owner's home or putting something in its place
// takes the right to change the home (RFC 3744's unbind and bind on the
// parent), which only its owner has.
func TestShareeWrites(t *testing.T) {
	store := newStore(t)
	srv := serve(t, store)
	_, err := store.Batch(context.Background(), kv.Commit{Message: "share"}, func(tx kv.Txn) error {
		for folder, m := range map[string]*meta{
			"calendars/test/team": {Calendar: true, Share: map[string]string{"group:staff": "write"}},
			"calendars/test/news": {Calendar: true, Share: map[string]string{"user:alice": "read"}},
			"calendars/bob/mine":  {Calendar: true},
			"calendars/alice/own": {Calendar: true},
		} {
			if err := writeMeta(tx, folder, m); err != nil {
				return err
			}
		}
		for k, uid := range map[string]string{"calendars/test/team/e.ics": "t", "calendars/test/news/e.ics": "n", "calendars/alice/own/a.ics": "a", "calendars/bob/mine/b.ics": "b"} {
			if err := tx.Put(k, []byte(strings.Replace(event, "UID:u1", "UID:"+uid, 1))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	dst := func(p string) []string { return []string{"Destination", srv.URL + p} }
	proppatch := `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>x</D:displayname></D:prop></D:set></D:propertyupdate>`
	tests := []struct {
		user, method, path, body string
		hdr                      []string
		want                     int
	}{
		// read-only
		{"alice", "PUT", "/calendars/test/news/n.ics", event, nil, 403},
		{"alice", "PUT", "/calendars/test/news/e.ics", event, nil, 403},
		{"alice", "DELETE", "/calendars/test/news/e.ics", "", nil, 403},
		{"alice", "DELETE", "/calendars/test/news/", "", nil, 403},
		{"alice", "PROPPATCH", "/calendars/test/news/", proppatch, nil, 403},
		{"alice", "PROPPATCH", "/calendars/test/news/e.ics", proppatch, nil, 403},
		{"alice", "MKCOL", "/calendars/test/news/sub/", "", nil, 403},
		{"alice", "MOVE", "/calendars/test/news/e.ics", "", dst("/calendars/alice/own/m.ics"), 403},
		{"alice", "COPY", "/calendars/alice/own/a.ics", "", dst("/calendars/test/news/c.ics"), 403},
		{"alice", "MOVE", "/calendars/alice/own/a.ics", "", dst("/calendars/test/news/c.ics"), 403},
		{"alice", "COPY", "/calendars/test/news/e.ics", "", dst("/calendars/alice/own/copied.ics"), 201}, // reading is allowed
		// read-write: the events, not the calendar
		{"bob", "DELETE", "/calendars/test/team/", "", nil, 403},
		{"bob", "MOVE", "/calendars/test/team/", "", dst("/calendars/bob/team/"), 403},
		{"bob", "COPY", "/calendars/bob/mine/", "", dst("/calendars/test/team/"), 403},
		{"bob", "MOVE", "/calendars/bob/mine/", "", dst("/calendars/test/team/"), 403},
		{"bob", "COPY", "/calendars/test/team/", "", dst("/calendars/bob/copy/"), 201},
		{"bob", "PUT", "/calendars/test/team/n.ics", strings.Replace(event, "UID:u1", "UID:n", 1), nil, 201},
		{"bob", "MOVE", "/calendars/test/team/n.ics", "", dst("/calendars/bob/mine/n.ics"), 201},
		// A COPY onto an existing event writes its properties too
		// (RFC 3744 appendix B: write-properties on the target), which
		// a share does not grant; onto a new name it binds.
		{"bob", "COPY", "/calendars/bob/mine/b.ics", "", dst("/calendars/test/team/e.ics"), 403},
		{"bob", "COPY", "/calendars/bob/mine/b.ics", "", dst("/calendars/test/team/b.ics"), 201},
		{"bob", "DELETE", "/calendars/test/team/e.ics", "", nil, 204},
	}
	for _, tt := range tests {
		if got, body := asUser(t, srv.URL, tt.user, tt.method, tt.path, tt.body, tt.hdr...); got != tt.want {
			t.Errorf("%s %s %s %v: %d, want %d\n%s", tt.user, tt.method, tt.path, tt.hdr, got, tt.want, body)
		}
	}
	for _, folder := range []string{"calendars/test/team", "calendars/test/news"} {
		if m, ok, err := readMeta(snapGetter(context.Background(), store), folder); err != nil || !ok || len(m.Share) != 1 {
			t.Errorf("%s after the sharees' requests: %+v %v %v", folder, m, ok, err)
		}
	}
}

// TestShareeSyncHome: a sharee's sync-collection of the owner's home at
// infinity reports what changed in the calendars shared with it, as if
// the others were not there (they neither take up nresults nor show in
// a truncation), reports as removed (404) what it could see before and
// can no longer (a shared calendar deleted, or no longer shared), and
// as new all of a calendar just shared with it.
func TestShareeSyncHome(t *testing.T) {
	store := newStore(t)
	srv := serve(t, store)
	ev := func(uid string) string { return strings.Replace(event, "UID:u1", "UID:"+uid, 1) }
	for _, c := range []string{"team", "news", "private", "extra"} {
		do(t, srv.URL, "MKCALENDAR", "/calendars/alice/"+c+"/", "")
		do(t, srv.URL, "PUT", "/calendars/alice/"+c+"/a.ics", ev(c+"a"))
	}
	share(t, store, "calendars/alice/team", "user:bob", "read")
	share(t, store, "calendars/alice/news", "user:bob", "read")
	share(t, store, "calendars/alice/extra", "user:bob", "read") // keeps alice's home readable to bob
	sync := func(token string, limit int) (string, string) {
		t.Helper()
		lim := ""
		if limit > 0 {
			lim = fmt.Sprintf("<D:limit><D:nresults>%d</D:nresults></D:limit>", limit)
		}
		code, body := asUser(t, srv.URL, "bob", "REPORT", "/calendars/alice/", `<D:sync-collection xmlns:D="DAV:"><D:sync-token>`+token+
			`</D:sync-token><D:sync-level>infinite</D:sync-level>`+lim+`<D:prop><D:getetag/></D:prop></D:sync-collection>`)
		if code != 207 {
			t.Fatalf("sync: %d %s", code, body)
		}
		var hrefs []string
		for _, m := range hrefRE.FindAllStringSubmatch(body, -1) {
			hrefs = append(hrefs, strings.TrimPrefix(m[1], "/calendars/alice/")+strings.TrimSuffix(" "+m[2], " "))
		}
		return strings.Join(hrefs, ","), tokenRE.FindStringSubmatch(body)[1]
	}
	got, token := sync("", 0)
	if got != "extra/a.ics,news/a.ics,team/a.ics" {
		t.Errorf("initial sync: %s", got)
	}
	do(t, srv.URL, "PUT", "/calendars/alice/private/b.ics", ev("pb"))
	do(t, srv.URL, "PUT", "/calendars/alice/private/c.ics", ev("pc"))
	do(t, srv.URL, "PUT", "/calendars/alice/team/d.ics", ev("td"))
	if got, token = sync(token, 1); got != "team/d.ics" {
		t.Errorf("sync with nresults 1 after changes in private and team: %s", got)
	}
	do(t, srv.URL, "DELETE", "/calendars/alice/team/", "")
	_, err := store.Batch(context.Background(), kv.Commit{Message: "unshare"}, func(tx kv.Txn) error {
		m, _, err := readMeta(tx.Get, "calendars/alice/news")
		if err != nil {
			return err
		}
		m.Share = nil
		return writeMeta(tx, "calendars/alice/news", m)
	})
	if err != nil {
		t.Fatal(err)
	}
	do(t, srv.URL, "PUT", "/calendars/alice/news/z.ics", ev("nz"))
	share(t, store, "calendars/alice/private", "group:staff", "read")
	if got, _ = sync(token, 0); got != "news/a.ics 404,private/a.ics,private/b.ics,private/c.ics,team/a.ics 404,team/d.ics 404" {
		t.Errorf("sync after team was deleted, news unshared and private shared: %s", got)
	}
}

// TestMultigetPathTricks: hrefs that climb, encode their dots or
// slashes, add a trailing dot or name another host reach nothing of
// another user's calendar: each answers 400 or 404, never its data or
// ETag.
func TestMultigetPathTricks(t *testing.T) {
	srv := serve(t, newStore(t))
	do(t, srv.URL, "MKCALENDAR", "/calendars/alice/priv/", "")
	do(t, srv.URL, "PUT", "/calendars/alice/priv/a.ics", event)
	if code, body := asUser(t, srv.URL, "bob", "MKCALENDAR", "/calendars/bob/c/", ""); code != 201 {
		t.Fatalf("MKCALENDAR: %d %s", code, body)
	}
	hrefs := []string{
		"/calendars/alice/priv/a.ics",
		"/calendars/bob/c/../../alice/priv/a.ics",
		"/calendars/bob/c/%2e%2e/%2E%2E/alice/priv/a.ics",
		"/calendars/bob%2F..%2F..%2Fcalendars%2Falice/priv/a.ics",
		"/calendars/alice%2Fpriv%2Fa.ics",
		"/calendars/alice/priv/a.ics.",
		"/calendars/alice/priv./a.ics",
		"/calendars/alice/priv/./a.ics",
		"http://elsewhere.invalid/calendars/alice/priv/a.ics",
		"//calendars/alice/priv/a.ics",
		"/calendars/./alice/priv/a.ics",
		"/calendars/bob/c/a.ics/../../../alice/priv/a.ics",
	}
	var b strings.Builder
	for _, h := range hrefs {
		b.WriteString("<D:href>" + h + "</D:href>")
	}
	code, got := asUser(t, srv.URL, "bob", "REPORT", "/calendars/bob/c/", `<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop>`+b.String()+`</C:calendar-multiget>`, "Depth", "1")
	if code != 207 || strings.Contains(got, "UID:u1") || strings.Contains(got, "<D:getetag>") || strings.Count(got, "<D:response>") != len(hrefs) {
		t.Errorf("bob's multiget of alice's event: %d\n%s", code, got)
	}
	for _, status := range regexp.MustCompile(`<D:status>HTTP/1.1 (\d+)`).FindAllStringSubmatch(got, -1) {
		if status[1] != "400" && status[1] != "404" {
			t.Errorf("an href answered %s:\n%s", status[1], got)
		}
	}
}

// TestShareeHomeCTag: the CTag a sharee sees on the owner's home follows
// the calendars shared with it only, so that it does not tell when the
// owner's other calendars change.
func TestShareeHomeCTag(t *testing.T) {
	store := newStore(t)
	srv := serve(t, store)
	do(t, srv.URL, "MKCALENDAR", "/calendars/alice/team/", "")
	do(t, srv.URL, "MKCALENDAR", "/calendars/alice/private/", "")
	share(t, store, "calendars/alice/team", "user:bob", "read")
	ctag := func() string {
		t.Helper()
		code, got := asUser(t, srv.URL, "bob", "PROPFIND", "/calendars/alice/", `<D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/"><D:prop><CS:getctag/></D:prop></D:propfind>`, "Depth", "0")
		m := regexp.MustCompile(`<CS:getctag>([^<]+)</CS:getctag>`).FindStringSubmatch(got)
		if code != 207 || m == nil {
			t.Fatalf("PROPFIND getctag: %d %s", code, got)
		}
		return m[1]
	}
	before := ctag()
	do(t, srv.URL, "PUT", "/calendars/alice/private/p.ics", event)
	if after := ctag(); after != before {
		t.Errorf("a change in alice's private calendar changed the CTag bob sees: %s -> %s", before, after)
	}
	do(t, srv.URL, "PUT", "/calendars/alice/team/t.ics", strings.Replace(event, "UID:u1", "UID:t", 1))
	if after := ctag(); after == before {
		t.Errorf("a change in the shared calendar left the CTag bob sees at %s", after)
	}
}

// TestCopyDropsShares: shares are granted by the operator to one
// calendar; a copy of it is a new calendar shared with no one, so that
// a sharee cannot copy a calendar to publish what it likes to the
// original's sharees. The owner's MOVE within the home keeps them.
func TestCopyDropsShares(t *testing.T) {
	store := newStore(t)
	srv := serve(t, store)
	do(t, srv.URL, "MKCALENDAR", "/calendars/alice/team/", "")
	do(t, srv.URL, "PUT", "/calendars/alice/team/a.ics", event)
	share(t, store, "calendars/alice/team", "user:bob", "read")
	share(t, store, "calendars/alice/team", "user:test", "read")
	dst := func(p string) []string { return []string{"Destination", srv.URL + p} }
	for _, tt := range []struct {
		user, method, from, to string
		depth                  string
		shared                 bool
	}{
		{"bob", "COPY", "/calendars/alice/team/", "/calendars/bob/team/", "infinity", false},
		{"bob", "COPY", "/calendars/alice/team/", "/calendars/bob/empty/", "0", false},
		{"alice", "COPY", "/calendars/alice/team/", "/calendars/alice/copy/", "infinity", false},
		{"alice", "MOVE", "/calendars/alice/team/", "/calendars/alice/renamed/", "infinity", true},
	} {
		if code, body := asUser(t, srv.URL, tt.user, tt.method, tt.from, "", append(dst(tt.to), "Depth", tt.depth)...); code != 201 {
			t.Fatalf("%s %s %s -> %s: %d %s", tt.user, tt.method, tt.from, tt.to, code, body)
		}
		want := 404
		if tt.shared {
			want = 207
		}
		if code, _ := asUser(t, srv.URL, "test", "PROPFIND", tt.to, "", "Depth", "0"); code != want {
			t.Errorf("after %s's %s to %s, test's PROPFIND of it: %d, want %d", tt.user, tt.method, tt.to, code, want)
		}
	}
}

// TestShareeProppatch: a share grants writing the calendar's contents
// (RFC 3744 write-content, bind, unbind), not its properties: a
// read-write sharee's PROPPATCH of the calendar or of an event in it is
// refused with need-privileges and stores nothing, and the privileges
// it is told of do not include write-properties (nor write, which
// aggregates it). The owner's PROPPATCH goes through.
func TestShareeProppatch(t *testing.T) {
	store := newStore(t)
	srv := serve(t, store)
	do(t, srv.URL, "MKCALENDAR", "/calendars/alice/team/", "")
	do(t, srv.URL, "PUT", "/calendars/alice/team/e.ics", event)
	share(t, store, "calendars/alice/team", "group:staff", "write")
	rename := `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>mine now</D:displayname></D:prop></D:set></D:propertyupdate>`
	remove := `<D:propertyupdate xmlns:D="DAV:"><D:remove><D:prop><D:displayname/></D:prop></D:remove></D:propertyupdate>`
	tests := []struct {
		user, path, body string
		code             int
	}{
		{"bob", "/calendars/alice/team/", rename, 403},
		{"bob", "/calendars/alice/team/", remove, 403},
		{"bob", "/calendars/alice/team/e.ics", rename, 403},
		{"alice", "/calendars/alice/team/", rename, 207},
	}
	for _, tt := range tests {
		before := store.Version()
		code, got := asUser(t, srv.URL, tt.user, "PROPPATCH", tt.path, tt.body)
		if code != tt.code {
			t.Errorf("%s PROPPATCH %s: %d, want %d\n%s", tt.user, tt.path, code, tt.code, got)
		}
		if tt.code == 403 && (!strings.Contains(got, "need-privileges") || store.Version() != before) {
			t.Errorf("%s PROPPATCH %s: no need-privileges or the store changed:\n%s", tt.user, tt.path, got)
		}
	}
	privs := `<D:propfind xmlns:D="DAV:"><D:prop><D:current-user-privilege-set/></D:prop></D:propfind>`
	for _, tt := range []struct {
		user, path string
		want, not  []string
	}{
		{"bob", "/calendars/alice/team/", []string{"<D:read/>", "<D:write-content/>", "<D:bind/>", "<D:unbind/>"}, []string{"<D:write-properties/>", "<D:write/>"}},
		{"bob", "/calendars/alice/team/e.ics", []string{"<D:read/>", "<D:write-content/>"}, []string{"<D:write-properties/>", "<D:write/>"}},
		{"alice", "/calendars/alice/team/", []string{"<D:write/>", "<D:write-properties/>", "<D:write-content/>"}, nil},
	} {
		code, got := asUser(t, srv.URL, tt.user, "PROPFIND", tt.path, privs, "Depth", "0")
		if code != 207 {
			t.Fatalf("%s PROPFIND %s: %d %s", tt.user, tt.path, code, got)
		}
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s's privileges on %s lack %s:\n%s", tt.user, tt.path, w, got)
			}
		}
		for _, w := range tt.not {
			if strings.Contains(got, w) {
				t.Errorf("%s's privileges on %s have %s:\n%s", tt.user, tt.path, w, got)
			}
		}
	}
}

// TestShareeDeadProperties: a sharee reads the dead properties of the
// calendars shared with it, but none of those the owner set on the
// home, which the sharee may list only for the shared calendars, nor of
// the owner's other calendars: not by name, allprop or propname, not in
// a Depth 1 listing, not through expand-property.
func TestShareeDeadProperties(t *testing.T) {
	store := newStore(t)
	srv := serve(t, store)
	set := func(path, value string) {
		t.Helper()
		body := `<D:propertyupdate xmlns:D="DAV:" xmlns:X="urn:x"><D:set><D:prop><D:displayname>` + value +
			`</D:displayname><X:secret>` + value + `</X:secret></D:prop></D:set></D:propertyupdate>`
		if code, got := do(t, srv.URL, "PROPPATCH", path, body); code != 207 {
			t.Fatalf("PROPPATCH %s: %d %s", path, code, got)
		}
	}
	do(t, srv.URL, "MKCALENDAR", "/calendars/alice/team/", "")
	do(t, srv.URL, "MKCALENDAR", "/calendars/alice/private/", "")
	set("/calendars/alice/", "home-value")
	set("/calendars/alice/private/", "private-value")
	set("/calendars/alice/team/", "team-value")
	share(t, store, "calendars/alice/team", "user:bob", "read")
	named := `<D:propfind xmlns:D="DAV:" xmlns:X="urn:x"><D:prop><D:displayname/><X:secret/></D:prop></D:propfind>`
	allprop := `<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`
	propname := `<D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>`
	expand := `<D:expand-property xmlns:D="DAV:"><D:property name="calendar-home-set" namespace="urn:ietf:params:xml:ns:caldav">` +
		`<D:property name="displayname"/><D:property name="secret" namespace="urn:x"/></D:property></D:expand-property>`
	tests := []struct {
		user, method, path, body, depth string
		code                            int
		want, not                       []string
	}{
		{"bob", "PROPFIND", "/calendars/alice/", named, "0", 207, nil, []string{"home-value"}},
		{"bob", "PROPFIND", "/calendars/alice/", allprop, "0", 207, nil, []string{"home-value", "secret"}},
		{"bob", "PROPFIND", "/calendars/alice/", propname, "0", 207, nil, []string{"secret", "displayname"}},
		{"bob", "PROPFIND", "/calendars/alice/", named, "1", 207, []string{"team-value"}, []string{"home-value", "private"}},
		{"bob", "PROPFIND", "/calendars/alice/", allprop, "1", 207, []string{"team-value"}, []string{"home-value", "private"}},
		{"bob", "PROPFIND", "/calendars/alice/private/", named, "0", 404, nil, []string{"private-value"}},
		{"bob", "REPORT", "/principals/bob/", expand, "0", 207, []string{"/calendars/alice/"}, []string{"home-value"}},
		{"alice", "PROPFIND", "/calendars/alice/", named, "1", 207, []string{"home-value", "private-value", "team-value"}, nil},
	}
	for _, tt := range tests {
		code, got := asUser(t, srv.URL, tt.user, tt.method, tt.path, tt.body, "Depth", tt.depth)
		if code != tt.code {
			t.Errorf("%s %s %s Depth %s: %d, want %d\n%s", tt.user, tt.method, tt.path, tt.depth, code, tt.code, got)
		}
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s %s %s Depth %s lacks %s:\n%s", tt.user, tt.method, tt.path, tt.depth, w, got)
			}
		}
		for _, w := range tt.not {
			if strings.Contains(got, w) {
				t.Errorf("%s %s %s Depth %s has %s:\n%s", tt.user, tt.method, tt.path, tt.depth, w, got)
			}
		}
	}
}
