package caldav

import (
	"context"
	"net/http"
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
