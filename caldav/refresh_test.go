package caldav

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/quercus-dev/quercus/caldav/users"
	"github.com/quercus-dev/quercus/kv"
	kvgit "github.com/quercus-dev/quercus/kv/git"
)

// TestUserAddedWithGit: a user pushed to the remote by someone else (as
// quercus user add does) can log in at once: the failed login fetches.
func TestUserAddedWithGit(t *testing.T) {
	store, remote := newGitStore(t)
	srv := serve(t, store)
	other, err := kvgit.Open(context.Background(), kvgit.Config{Remote: remote, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Batch(context.Background(), kv.Commit{Message: "add carol"}, func(tx kv.Txn) error {
		return users.Put(tx, "carol", "carol-pw", "")
	}); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("PROPFIND", srv.URL+"/calendars/carol/", nil)
	req.SetBasicAuth("carol", "carol-pw")
	req.Header.Set("Depth", "0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMultiStatus {
		t.Errorf("carol's first login: %d", resp.StatusCode)
	}
}
