package caldav

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/quercus-dev/quercus/caldav/users"
	"github.com/quercus-dev/quercus/kv"
	kvgit "github.com/quercus-dev/quercus/kv/git"
	"github.com/quercus-dev/quercus/kv/mem"
)

// testUsers are the users every test server has: name -> password.
var testUsers = map[string]string{"alice": "alice-secret", "bob": "bob-secret", "test": "test-secret"}

// newStore returns a store holding the test users.
func newStore(t testing.TB) kv.Store {
	t.Helper()
	s := mem.New()
	seed(t, s)
	return s
}

// testUserFiles are the users/NAME.json files of testUsers, hashed once
// per test binary (argon2id is slow under the race detector).
var testUserFiles = sync.OnceValue(func() map[string][]byte {
	files := map[string][]byte{}
	s := mem.New()
	s.Batch(context.Background(), kv.Commit{}, func(tx kv.Txn) error {
		for name, pass := range testUsers {
			if err := users.Put(tx, name, pass, ""); err != nil {
				return err
			}
		}
		return nil
	})
	for name := range testUsers {
		files[name], _ = s.Get(context.Background(), users.UserKey(name))
	}
	return files
})

func seed(t testing.TB, s kv.Store) {
	t.Helper()
	_, err := s.Batch(context.Background(), kv.Commit{Author: kv.Signature{Name: "test"}, Message: "users"}, func(tx kv.Txn) error {
		for name, b := range testUserFiles() {
			if err := tx.Put(users.UserKey(name), b); err != nil {
				return err
			}
		}
		return users.SetGroups(tx, "bob", []string{"staff"})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// serve starts a test server on store.
func serve(t testing.TB, store kv.Store) *httptest.Server {
	t.Helper()
	return serveWith(t, Config{Store: store})
}

// serveWith starts a test server of cfg; with no Logger it is quiet.
func serveWith(t testing.TB, cfg Config) *httptest.Server {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// newGitStore returns a kv/git store on a fresh bare repository holding
// the test users, and the repository's path.
func newGitStore(t testing.TB) (*kvgit.Store, string) {
	t.Helper()
	remote := filepath.Join(t.TempDir(), "cal.git")
	if out, err := exec.Command("git", "init", "--quiet", "--bare", "--initial-branch=main", remote).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v: %s", err, out)
	}
	s, err := kvgit.Open(context.Background(), kvgit.Config{Remote: remote, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	seed(t, s)
	return s, remote
}
