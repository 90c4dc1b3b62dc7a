package git_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quercus-dev/quercus/internal/peer"
	"github.com/quercus-dev/quercus/kv"
	kvgit "github.com/quercus-dev/quercus/kv/git"
	"github.com/quercus-dev/quercus/kv/kvtest"
)

// TestConformanceSSH runs the suite against a real OpenSSH server; one
// sshd serves a fresh repository per subtest.
func TestConformanceSSH(t *testing.T) {
	d := peer.StartSSHD(t)
	kvtest.Run(t, func(t *testing.T) kvtest.Opener {
		remote := d.URL(initBare(t, filepath.Join(t.TempDir(), "remote.git")))
		auth := sshAuth(t, d, remote, d.KnownHosts)
		return func(t *testing.T) kv.Store { return openWith(t, remote, auth) }
	})
}

// TestSSHRoundTrip: what a store pushes over ssh is what git holds, and a
// second instance reads it back.
func TestSSHRoundTrip(t *testing.T) {
	d := peer.StartSSHD(t)
	bare := initBare(t, filepath.Join(t.TempDir(), "zones.git"))
	remote := d.URL(bare)
	auth := sshAuth(t, d, remote, d.KnownHosts)
	s := openWith(t, remote, auth)
	v := putFile(t, s, "example.org", "; zone over ssh\n")
	if got := headOf(t, bare); got != v {
		t.Errorf("remote main = %s, want the acknowledged %s", got, v)
	}
	if got := peer.Run(t, bare, "git", "show", "main:example.org"); got != "; zone over ssh\n" {
		t.Errorf("git show = %q", got)
	}
	s2 := openWith(t, remote, auth)
	if b, err := s2.Get(ctx, "example.org"); err != nil || string(b) != "; zone over ssh\n" {
		t.Errorf("second instance Get = %q, %v", b, err)
	}
}

// TestSSHHostKeyChecked: a server whose host key is not the pinned one is
// refused, and without a known_hosts file there is no ssh auth at all.
func TestSSHHostKeyChecked(t *testing.T) {
	d := peer.StartSSHD(t)
	bare := initBare(t, filepath.Join(t.TempDir(), "zones.git"))
	remote := d.URL(bare)

	t.Run("WrongHostKey", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "other")
		peer.Run(t, "", "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other)
		wrong := d.KnownHostsFor(t, other+".pub")
		_, err := kvgit.Open(ctx, kvgit.Config{Remote: remote, Auth: sshAuth(t, d, remote, wrong), Timeout: 20 * time.Second})
		if err == nil {
			t.Fatal("Open succeeded against a server with an unpinned host key")
		}
		if !errors.Is(err, kv.ErrUnavailable) || !strings.Contains(err.Error(), "key mismatch") {
			t.Errorf("Open: %v, want ErrUnavailable naming the key mismatch", err)
		}
	})
	t.Run("NoKnownHosts", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "known_hosts")
		_, err := kvgit.AuthFromEnv(remote, kvgit.SSH{KeyFile: d.Key, KnownHosts: missing}, envOf(nil))
		if err == nil || !strings.Contains(err.Error(), "known_hosts") {
			t.Errorf("AuthFromEnv without known_hosts: %v, want an error", err)
		}
	})
	t.Run("UnknownClientKey", func(t *testing.T) {
		stranger := filepath.Join(t.TempDir(), "stranger")
		peer.Run(t, "", "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", stranger)
		auth, err := kvgit.AuthFromEnv(remote, kvgit.SSH{KeyFile: stranger, KnownHosts: d.KnownHosts}, envOf(nil))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kvgit.Open(ctx, kvgit.Config{Remote: remote, Auth: auth, Timeout: 20 * time.Second}); !errors.Is(err, kv.ErrUnavailable) {
			t.Errorf("Open with a key the server does not know: %v, want ErrUnavailable", err)
		}
	})
}

// TestSSHPinnedEd25519WithOtherHostKeys: operators often pin just one host
// key (ssh-keyscan -t ed25519). OpenSSH's client then asks the server for
// that key type; a client that negotiates its own favourite type (ECDSA
// comes before Ed25519 in x/crypto/ssh) sees a key it cannot check.
func TestSSHPinnedEd25519WithOtherHostKeys(t *testing.T) {
	d := peer.StartSSHD(t, "ecdsa")
	bare := initBare(t, filepath.Join(t.TempDir(), "zones.git"))
	remote := d.URL(bare)
	s := openWith(t, remote, sshAuth(t, d, remote, d.KnownHosts))
	putFile(t, s, "a", "a")
}
