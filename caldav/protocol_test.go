package caldav

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/quercus-dev/quercus/caldav/davxml"
)

// TestPropfindDepth: a PROPFIND without Depth means infinity (RFC 4918
// §9.1), refused like an explicit one with propfind-finite-depth.
func TestPropfindDepth(t *testing.T) {
	srv := serve(t, newStore(t))
	body := `<D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/></D:prop></D:propfind>`
	tests := []struct {
		depth []string
		code  int
		want  string
	}{
		{nil, 403, "propfind-finite-depth"},
		{[]string{"Depth", "infinity"}, 403, "propfind-finite-depth"},
		{[]string{"Depth", "Infinity"}, 403, "propfind-finite-depth"},
		{[]string{"Depth", "0"}, 207, "<D:collection/>"},
		{[]string{"Depth", "1"}, 207, "<D:collection/>"},
		{[]string{"Depth", "2"}, 400, ""},
	}
	for _, tt := range tests {
		code, got := do(t, srv.URL, "PROPFIND", "/calendars/alice/", body, tt.depth...)
		if code != tt.code || !strings.Contains(got, tt.want) {
			t.Errorf("Depth %v: %d %s, want %d %s", tt.depth, code, got, tt.code, tt.want)
		}
	}
	// A resource that is not a collection has no members: infinity
	// (named or implied) is its Depth 0 (RFC 4918 §9.1 defines
	// propfind-finite-depth for collections).
	do(t, srv.URL, "MKCALENDAR", "/calendars/alice/cal/", "")
	do(t, srv.URL, "PUT", "/calendars/alice/cal/a.ics", event)
	for _, depth := range [][]string{nil, {"Depth", "infinity"}} {
		code, got := do(t, srv.URL, "PROPFIND", "/calendars/alice/cal/a.ics", `<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>`, depth...)
		if code != 207 || strings.Count(got, "<D:response>") != 1 || !strings.Contains(got, "<D:getetag>") {
			t.Errorf("a file, Depth %v: %d %s", depth, code, got)
		}
	}
}

// TestSyncLevelInfinity: on a calendar, sync-level infinity answers as 1
// does (a calendar has no child collections); on a plain collection it
// also reports what changed in its child collections.
func TestSyncLevelInfinity(t *testing.T) {
	srv := serve(t, newStore(t))
	do(t, srv.URL, "MKCALENDAR", "/calendars/alice/cal/", "")
	do(t, srv.URL, "MKCOL", "/calendars/alice/files/", "")
	do(t, srv.URL, "MKCOL", "/calendars/alice/files/sub/", "")
	do(t, srv.URL, "PUT", "/calendars/alice/cal/a.ics", event)
	do(t, srv.URL, "PUT", "/calendars/alice/files/top.txt", "x")
	do(t, srv.URL, "PUT", "/calendars/alice/files/sub/deep.txt", "y")
	sync := func(path, level, token string) (string, string) {
		t.Helper()
		code, body := do(t, srv.URL, "REPORT", path, `<D:sync-collection xmlns:D="DAV:"><D:sync-token>`+token+
			`</D:sync-token><D:sync-level>`+level+`</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`)
		if code != 207 {
			t.Fatalf("sync %s level %s: %d %s", path, level, code, body)
		}
		var hrefs []string
		for _, m := range hrefRE.FindAllStringSubmatch(body, -1) {
			hrefs = append(hrefs, m[1]+strings.TrimSuffix(" "+m[2], " "))
		}
		return strings.Join(hrefs, ","), tokenRE.FindStringSubmatch(body)[1]
	}
	if got, _ := sync("/calendars/alice/cal/", "infinite", ""); got != "/calendars/alice/cal/a.ics" {
		t.Errorf("calendar, infinity: %s", got)
	}
	if got, _ := sync("/calendars/alice/files/", "1", ""); got != "/calendars/alice/files/top.txt" {
		t.Errorf("collection, level 1: %s", got)
	}
	got, token := sync("/calendars/alice/files/", "infinity", "")
	if got != "/calendars/alice/files/sub/deep.txt,/calendars/alice/files/top.txt" {
		t.Errorf("collection, infinity: %s", got)
	}
	do(t, srv.URL, "DELETE", "/calendars/alice/files/sub/", "")
	if got, _ := sync("/calendars/alice/files/", "infinity", token); got != "/calendars/alice/files/sub/deep.txt 404" {
		t.Errorf("collection, infinity, after deleting sub/: %s", got)
	}
	if code, _ := do(t, srv.URL, "REPORT", "/calendars/alice/cal/", `<D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>2</D:sync-level><D:prop/></D:sync-collection>`); code != 400 {
		t.Errorf("sync-level 2: %d, want 400", code)
	}
}

// TestLimitSets: calendar-data's limit-recurrence-set keeps the master
// and the overridden instances in the range; limit-freebusy-set keeps
// the busy periods in the range.
func TestLimitSets(t *testing.T) {
	srv := serve(t, newStore(t))
	do(t, srv.URL, "MKCALENDAR", "/calendars/alice/cal/", `<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><C:supported-calendar-component-set><C:comp name="VEVENT"/><C:comp name="VFREEBUSY"/></C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>`,
		"Content-Type", "application/xml")
	recurring := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\n" +
		"BEGIN:VEVENT\r\nUID:r\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260302T100000Z\r\nDURATION:PT1H\r\nRRULE:FREQ=WEEKLY;COUNT=6\r\nSUMMARY:master\r\nEND:VEVENT\r\n" +
		"BEGIN:VEVENT\r\nUID:r\r\nDTSTAMP:20260101T000000Z\r\nRECURRENCE-ID:20260309T100000Z\r\nDTSTART:20260309T120000Z\r\nDURATION:PT1H\r\nSUMMARY:early\r\nEND:VEVENT\r\n" +
		"BEGIN:VEVENT\r\nUID:r\r\nDTSTAMP:20260101T000000Z\r\nRECURRENCE-ID:20260323T100000Z\r\nDTSTART:20260323T120000Z\r\nDURATION:PT1H\r\nSUMMARY:inside\r\nEND:VEVENT\r\n" +
		"BEGIN:VEVENT\r\nUID:r\r\nDTSTAMP:20260101T000000Z\r\nRECURRENCE-ID:20260330T100000Z\r\nDTSTART:20260324T120000Z\r\nDURATION:PT1H\r\nSUMMARY:moved-in\r\nEND:VEVENT\r\n" +
		"BEGIN:VEVENT\r\nUID:r\r\nDTSTAMP:20260101T000000Z\r\nRECURRENCE-ID:20260406T100000Z\r\nDTSTART:20260406T120000Z\r\nDURATION:PT1H\r\nSUMMARY:late\r\nEND:VEVENT\r\n" +
		"END:VCALENDAR\r\n"
	freebusy := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nBEGIN:VFREEBUSY\r\nUID:fb\r\nDTSTAMP:20260101T000000Z\r\n" +
		"DTSTART:20260301T000000Z\r\nDTEND:20260401T000000Z\r\n" +
		"FREEBUSY:20260302T100000Z/20260302T110000Z,20260320T100000Z/PT1H\r\n" +
		"FREEBUSY;FBTYPE=BUSY-TENTATIVE:20260325T100000Z/20260325T110000Z\r\n" +
		"END:VFREEBUSY\r\nEND:VCALENDAR\r\n"
	for name, body := range map[string]string{"r.ics": recurring, "fb.ics": freebusy} {
		if code, b := do(t, srv.URL, "PUT", "/calendars/alice/cal/"+name, body); code != 201 {
			t.Fatalf("PUT %s: %d %s", name, code, b)
		}
	}
	get := func(name, data string) string {
		t.Helper()
		code, body := do(t, srv.URL, "REPORT", "/calendars/alice/cal/", `<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop>`+data+
			`</D:prop><D:href>/calendars/alice/cal/`+name+`</D:href></C:calendar-multiget>`, "Depth", "1")
		if code != 207 {
			t.Fatalf("REPORT: %d %s", code, body)
		}
		return strings.ReplaceAll(body, "&#xD;", "")
	}
	got := get("r.ics", `<C:calendar-data><C:limit-recurrence-set start="20260316T000000Z" end="20260330T000000Z"/></C:calendar-data>`)
	for _, want := range []string{"SUMMARY:master", "SUMMARY:inside", "SUMMARY:moved-in", "RRULE:FREQ=WEEKLY"} {
		if !strings.Contains(got, want) {
			t.Errorf("limit-recurrence-set lacks %s:\n%s", want, got)
		}
	}
	for _, unwanted := range []string{"SUMMARY:early", "SUMMARY:late"} {
		if strings.Contains(got, unwanted) {
			t.Errorf("limit-recurrence-set keeps %s:\n%s", unwanted, got)
		}
	}
	got = get("fb.ics", `<C:calendar-data><C:limit-freebusy-set start="20260315T000000Z" end="20260322T000000Z"/></C:calendar-data>`)
	if !strings.Contains(got, "FREEBUSY:20260320T100000Z/PT1H") || strings.Contains(got, "20260302T100000Z/") || strings.Contains(got, "BUSY-TENTATIVE") {
		t.Errorf("limit-freebusy-set:\n%s", got)
	}
	if code, body := do(t, srv.URL, "REPORT", "/calendars/alice/cal/", `<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-data><C:limit-recurrence-set start="20260316T000000Z"/></C:calendar-data></D:prop><D:href>/calendars/alice/cal/r.ics</D:href></C:calendar-multiget>`); code != 403 || !strings.Contains(body, "valid-filter") {
		t.Errorf("limit-recurrence-set without an end: %d %s", code, body)
	}
}

// FuzzParsePeriod: any text is a period or not, never a panic, and a
// period ends after it starts.
func FuzzParsePeriod(f *testing.F) {
	for _, s := range []string{"20260320T100000Z/PT1H", "20260302T100000Z/20260302T110000Z", "x/y", "20260302T100000Z/", "20260302T100000Z/-PT1H"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if start, end, ok := parsePeriod(s); ok && !end.After(start) {
			t.Errorf("parsePeriod(%q) = %v, %v: ends before it starts", s, start, end)
		}
	})
}

// FuzzDataRequest: any calendar-data element is refused or applied to a
// recurring object with overrides and to a VFREEBUSY, never a panic.
func FuzzDataRequest(f *testing.F) {
	for _, s := range []string{
		`<C:calendar-data xmlns:C="urn:ietf:params:xml:ns:caldav"><C:limit-recurrence-set start="20260316T000000Z" end="20260330T000000Z"/></C:calendar-data>`,
		`<C:calendar-data xmlns:C="urn:ietf:params:xml:ns:caldav"><C:limit-freebusy-set start="20260315T000000Z" end="20260322T000000Z"/></C:calendar-data>`,
		`<C:calendar-data xmlns:C="urn:ietf:params:xml:ns:caldav"><C:expand start="20260309T000000Z" end="20260317T000000Z"/><C:comp name="VCALENDAR"><C:comp name="VEVENT"><C:prop name="UID"/></C:comp></C:comp></C:calendar-data>`,
	} {
		f.Add(s)
	}
	objects := []string{weeklyEvent,
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nBEGIN:VEVENT\r\nUID:r\r\nDTSTAMP:20260101T000000Z\r\nRECURRENCE-ID;RANGE=THISANDFUTURE:20260309T100000Z\r\nDTSTART:20260309T120000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nBEGIN:VFREEBUSY\r\nUID:fb\r\nDTSTAMP:20260101T000000Z\r\nFREEBUSY:20260320T100000Z/PT1H,x\r\nEND:VFREEBUSY\r\nEND:VCALENDAR\r\n"}
	f.Fuzz(func(t *testing.T, data string) {
		n, err := davxml.Parse(strings.NewReader(data), davxml.Limits{})
		if err != nil || !n.Is(davxml.NSCalDAV, "calendar-data") {
			return
		}
		d, err := parseDataRequest(n)
		if err != nil {
			return
		}
		for _, body := range objects {
			o, err := parseObject([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			left := 10000
			if cal, ok := d.apply(o.cal.Component, o.comp, &left); ok {
				encode(&bytes.Buffer{}, cal)
			}
		}
	})
}

// TestSyncSharedHome: syncing another user's home at infinity reports
// only what is in the calendars shared with the user.
func TestSyncSharedHome(t *testing.T) {
	store := newStore(t)
	srv := serve(t, store)
	do(t, srv.URL, "MKCALENDAR", "/calendars/alice/team/", "")
	do(t, srv.URL, "MKCALENDAR", "/calendars/alice/private/", "")
	do(t, srv.URL, "PUT", "/calendars/alice/team/a.ics", event)
	do(t, srv.URL, "PUT", "/calendars/alice/private/b.ics", strings.Replace(event, "UID:u1", "UID:u2", 1))
	share(t, store, "calendars/alice/team", "user:bob", "read")
	req, _ := http.NewRequest("REPORT", srv.URL+"/calendars/alice/", strings.NewReader(`<D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>infinity</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`))
	req.SetBasicAuth("bob", testUsers["bob"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if got := string(b); resp.StatusCode != 207 || !strings.Contains(got, "/calendars/alice/team/a.ics") || strings.Contains(got, "private") {
		t.Errorf("bob's sync of alice's home: %d\n%s", resp.StatusCode, got)
	}
}
