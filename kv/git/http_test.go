package git_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/quercus-dev/quercus/internal/peer"
	"github.com/quercus-dev/quercus/kv"
	kvgit "github.com/quercus-dev/quercus/kv/git"
	"github.com/quercus-dev/quercus/kv/kvtest"
)

// TestConformanceHTTP runs the suite over smart HTTP against the real git
// http-backend; one server holds a fresh repository per subtest.
func TestConformanceHTTP(t *testing.T) {
	g := startGitHTTP(t)
	n := 0
	kvtest.Run(t, func(t *testing.T) kvtest.Opener {
		n++
		_, remote := g.newRepo(t, fmt.Sprintf("conf%d", n))
		auth := g.auth(t, remote)
		return func(t *testing.T) kv.Store { return openWith(t, remote, auth) }
	})
}

// TestHTTPRoundTrip: what a store pushes over HTTP is what git holds, and
// a second instance reads it back.
func TestHTTPRoundTrip(t *testing.T) {
	g := startGitHTTP(t)
	bare, remote := g.newRepo(t, "zones")
	s := openWith(t, remote, g.auth(t, remote))
	v := putFile(t, s, "example.org", "; zone over http\n")
	if got := headOf(t, bare); got != v {
		t.Errorf("remote main = %s, want the acknowledged %s", got, v)
	}
	if got := peer.Run(t, bare, "git", "show", "main:example.org"); got != "; zone over http\n" {
		t.Errorf("git show = %q", got)
	}
	s2 := openWith(t, remote, g.auth(t, remote))
	if b, err := s2.Get(ctx, "example.org"); err != nil || string(b) != "; zone over http\n" {
		t.Errorf("second instance Get = %q, %v", b, err)
	}
}

// TestHTTPAuth: the token from the environment opens the remote; no or a
// wrong credential is an unavailable remote; a password in the URL is
// refused before anything is sent.
func TestHTTPAuth(t *testing.T) {
	g := startGitHTTP(t)
	bare, remote := g.newRepo(t, "zones")
	tests := []struct {
		name string
		env  map[string]string
		ok   bool
	}{
		{"Token", map[string]string{kvgit.EnvToken: g.token}, true},
		{"UserAndPassword", map[string]string{kvgit.EnvUsername: "ann", kvgit.EnvPassword: g.token}, true},
		{"NoCredentials", nil, false},
		{"WrongToken", map[string]string{kvgit.EnvToken: "not-" + g.token}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			auth, err := kvgit.AuthFromEnv(remote, kvgit.SSH{}, envOf(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			s, err := kvgit.Open(ctx, kvgit.Config{Remote: remote, Auth: auth, Timeout: 20 * time.Second})
			if !tc.ok {
				if !errors.Is(err, kv.ErrUnavailable) {
					t.Errorf("Open: %v, want an error wrapping ErrUnavailable", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer s.Close()
			putFile(t, s, "by-"+strings.ToLower(tc.name), "x")
		})
	}
	if got := peer.Run(t, bare, "git", "ls-tree", "--name-only", "main"); got != "by-token\nby-userandpassword\n" {
		t.Errorf("remote holds %q, want exactly the authenticated writes", got)
	}

	t.Run("PasswordInURL", func(t *testing.T) {
		withPw := strings.Replace(remote, "http://", "http://quercus:"+g.token+"@", 1)
		_, err := kvgit.AuthFromEnv(withPw, kvgit.SSH{}, envOf(nil))
		if err == nil {
			t.Fatal("AuthFromEnv accepted a URL carrying a password")
		}
		if strings.Contains(err.Error(), g.token) {
			t.Errorf("error leaks the password: %v", err)
		}
	})
}
