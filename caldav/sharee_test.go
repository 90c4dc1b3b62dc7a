package caldav

import (
	"context"
	"net/http"
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
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp.StatusCode, b.String()
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
		for k, uid := range map[string]string{"calendars/test/team/e.ics": "t", "calendars/test/news/e.ics": "n", "calendars/alice/own/a.ics": "a"} {
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
