package caldav

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

var (
	tokenRE = regexp.MustCompile(`<D:sync-token>([^<]*)</D:sync-token>`)
	hrefRE  = regexp.MustCompile(`<D:response><D:href>([^<]*)</D:href>(?:<D:status>HTTP/1.1 (\d+))?`)
)

// syncReport runs one sync-collection and returns the hrefs it reported
// (with " 404" for deletions), whether it was truncated, and its token.
func syncReport(t *testing.T, base, token string, limit int) (hrefs []string, truncated bool, next string) {
	t.Helper()
	lim := ""
	if limit > 0 {
		lim = fmt.Sprintf("<D:limit><D:nresults>%d</D:nresults></D:limit>", limit)
	}
	code, body := do(t, base, "REPORT", "/calendars/alice/cal/", `<D:sync-collection xmlns:D="DAV:"><D:sync-token>`+token+
		`</D:sync-token><D:sync-level>1</D:sync-level>`+lim+`<D:prop><D:getetag/></D:prop></D:sync-collection>`)
	if code != 207 {
		t.Fatalf("sync: %d %s", code, body)
	}
	for _, m := range hrefRE.FindAllStringSubmatch(body, -1) {
		switch {
		case m[2] == "507":
			truncated = true
		case m[2] != "":
			hrefs = append(hrefs, strings.TrimPrefix(m[1], "/calendars/alice/cal/")+" "+m[2])
		default:
			hrefs = append(hrefs, strings.TrimPrefix(m[1], "/calendars/alice/cal/"))
		}
	}
	return hrefs, truncated, tokenRE.FindStringSubmatch(body)[1]
}

func TestSync(t *testing.T) {
	srv := serve(t, newStore(t))
	do(t, srv.URL, "MKCALENDAR", "/calendars/alice/cal/", "")
	put := func(name string) {
		t.Helper()
		if code, b := do(t, srv.URL, "PUT", "/calendars/alice/cal/"+name+".ics", strings.Replace(event, "UID:u1", "UID:"+name, 1)); code/100 != 2 {
			t.Fatalf("PUT %s: %d %s", name, code, b)
		}
	}
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		put(n)
	}
	// An initial sync limited to 2 comes in three truncated pieces.
	var all []string
	token := ""
	for i := 0; ; i++ {
		hrefs, truncated, next := syncReport(t, srv.URL, token, 2)
		all = append(all, hrefs...)
		token = next
		if !truncated {
			break
		}
		if i > 5 {
			t.Fatal("truncation does not end")
		}
	}
	if got := strings.Join(all, ","); got != "a.ics,b.ics,c.ics,d.ics,e.ics" {
		t.Errorf("initial sync in pieces: %s", got)
	}
	// Nothing changed: nothing reported.
	if hrefs, _, _ := syncReport(t, srv.URL, token, 0); len(hrefs) != 0 {
		t.Errorf("sync without changes: %v", hrefs)
	}
	// A change and a deletion.
	put("f")
	do(t, srv.URL, "DELETE", "/calendars/alice/cal/b.ics", "")
	hrefs, truncated, _ := syncReport(t, srv.URL, token, 0)
	if got := strings.Join(hrefs, ","); got != "b.ics 404,f.ics" || truncated {
		t.Errorf("sync after a PUT and a DELETE: %s (truncated %v)", got, truncated)
	}
}
