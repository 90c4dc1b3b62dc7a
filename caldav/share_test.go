package caldav

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/quercus-dev/quercus/kv"
)

// TestShare: a calendar shared in its .props.json grants read or write
// to the users and groups it names, and nothing to others.
func TestShare(t *testing.T) {
	store := newStore(t)
	srv := serve(t, store)
	_, err := store.Batch(context.Background(), kv.Commit{Message: "share"}, func(tx kv.Txn) error {
		if err := writeMeta(tx, "calendars/test/team", &meta{Calendar: true, Share: map[string]string{"group:staff": "write"}}); err != nil {
			return err
		}
		return writeMeta(tx, "calendars/test/news", &meta{Calendar: true, Share: map[string]string{"user:alice": "read"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	as := func(user, method, path, body string) int {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		if body != "" {
			req, _ = http.NewRequest(method, srv.URL+path, stringsReader(body))
		}
		req.SetBasicAuth(user, testUsers[user])
		req.Header.Set("Depth", "0")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	tests := []struct {
		user, method, path string
		want               int
	}{
		{"bob", "PUT", "/calendars/test/team/e.ics", 201}, // bob is in staff
		{"bob", "PROPFIND", "/calendars/test/team/", 207},
		{"alice", "PROPFIND", "/calendars/test/team/", 404}, // not in staff
		{"alice", "PROPFIND", "/calendars/test/news/", 207},
		{"alice", "PUT", "/calendars/test/news/e.ics", 403}, // read only
		{"bob", "GET", "/calendars/test/news/", 404},
		{"alice", "PROPFIND", "/calendars/test/", 207}, // a home with a calendar shared with her
		{"alice", "PUT", "/calendars/test/x.ics", 404}, // files in the home itself are not shared
	}
	for _, tt := range tests {
		body := ""
		if tt.method == "PUT" {
			body = event
		}
		if got := as(tt.user, tt.method, tt.path, body); got != tt.want {
			t.Errorf("%s %s %s: %d, want %d", tt.user, tt.method, tt.path, got, tt.want)
		}
	}
}

// TestShareDiscovery: a user finds calendars shared with them through
// their principal's calendar-home-set and the owner's home.
func TestShareDiscovery(t *testing.T) {
	store := newStore(t)
	srv := serve(t, store)
	_, err := store.Batch(context.Background(), kv.Commit{Message: "share"}, func(tx kv.Txn) error {
		if err := writeMeta(tx, "calendars/test/team", &meta{Calendar: true, Share: map[string]string{"group:staff": "write"}}); err != nil {
			return err
		}
		return writeMeta(tx, "calendars/test/private", &meta{Calendar: true})
	})
	if err != nil {
		t.Fatal(err)
	}
	propfind := func(user, path, depth, body string) string {
		req, _ := http.NewRequest("PROPFIND", srv.URL+path, stringsReader(body))
		req.SetBasicAuth(user, testUsers[user])
		req.Header.Set("Depth", depth)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	homes := propfind("bob", "/principals/bob/", "0", `<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-home-set/></D:prop></D:propfind>`)
	if !strings.Contains(homes, "<D:href>/calendars/bob/</D:href><D:href>/calendars/test/</D:href>") {
		t.Errorf("bob's calendar-home-set lacks test's home:\n%s", homes)
	}
	list := propfind("bob", "/calendars/test/", "1", "")
	if !strings.Contains(list, "/calendars/test/team/") || strings.Contains(list, "/calendars/test/private/") {
		t.Errorf("bob sees in test's home:\n%s", list)
	}
	if homes := propfind("alice", "/principals/alice/", "0", `<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-home-set/></D:prop></D:propfind>`); strings.Contains(homes, "/calendars/test/") {
		t.Errorf("alice is offered test's home:\n%s", homes)
	}
}
