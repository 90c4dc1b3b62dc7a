package git_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quercus-dev/quercus/internal/peer"
	"github.com/quercus-dev/quercus/kv"
	kvgit "github.com/quercus-dev/quercus/kv/git"
	"github.com/quercus-dev/quercus/kv/kvtest"
)

var ctx = context.Background()

// bareRepo creates an empty bare repository with the git command.
func bareRepo(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "remote.git")
	peer.Run(t, "", "git", "init", "-q", "--bare", "--initial-branch=main", dir)
	return dir
}

func open(t testing.TB, remote string) *kvgit.Store {
	t.Helper()
	s, err := kvgit.Open(ctx, kvgit.Config{Remote: remote, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatalf("Open(%s): %v", remote, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformanceFileURL(t *testing.T) {
	peer.Require(t, "git")
	kvtest.Run(t, func(t *testing.T) kvtest.Opener {
		remote := "file://" + bareRepo(t)
		return func(t *testing.T) kv.Store { return open(t, remote) }
	})
}

func commit(name, msg string) kv.Commit {
	return kv.Commit{Author: kv.Signature{Name: name, Email: name + "@example.org"}, Message: msg}
}

func putFile(t *testing.T, s kv.Store, key, content string) string {
	t.Helper()
	v, err := s.Batch(ctx, commit("tester", "put "+key), func(tx kv.Txn) error { return tx.Put(key, []byte(content)) })
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
	return v
}

// TestInteropWithGit checks that git sees our commits as we made them, and
// that we see commits pushed by git.
func TestInteropWithGit(t *testing.T) {
	peer.Require(t, "git")
	bare := bareRepo(t)
	s := open(t, bare) // a plain path works as well as file://
	v := putFile(t, s, "zones/example.org", "; zone\n")

	log := peer.Run(t, bare, "git", "log", "--format=%H|%an|%ae|%s", "main")
	if want := v + "|tester|tester@example.org|put zones/example.org\n"; log != want {
		t.Errorf("git log = %q, want %q", log, want)
	}
	if got := peer.Run(t, bare, "git", "show", "main:zones/example.org"); got != "; zone\n" {
		t.Errorf("git show = %q", got)
	}
	peer.Run(t, bare, "git", "fsck", "--strict")

	// A human edits the repository with git and pushes.
	work := filepath.Join(t.TempDir(), "work")
	peer.Run(t, "", "git", "clone", "-q", bare, work)
	os.WriteFile(filepath.Join(work, "zones", "example.org"), []byte("; edited by a human\n"), 0o644)
	os.WriteFile(filepath.Join(work, "README"), []byte("hi\n"), 0o644)
	peer.Run(t, work, "git", "add", "-A")
	peer.Run(t, work, "git", "-c", "user.name=Human", "-c", "user.email=h@example.org", "commit", "-q", "-m", "by hand")
	peer.Run(t, work, "git", "push", "-q", "origin", "main")

	moved, err := s.Refresh(ctx)
	if err != nil || !moved {
		t.Fatalf("Refresh = %v, %v; want moved", moved, err)
	}
	if b, _ := s.Get(ctx, "zones/example.org"); string(b) != "; edited by a human\n" {
		t.Errorf("after refresh Get = %q", b)
	}
	hist, _ := s.History(ctx, "zones/example.org", 0)
	if len(hist) != 2 || hist[0].Author.Name != "Human" {
		t.Errorf("history = %+v", hist)
	}
	// And our next commit goes on top of the human's.
	putFile(t, s, "b", "b")
	if got := peer.Run(t, bare, "git", "log", "--format=%s", "main"); got != "put b\nby hand\nput zones/example.org\n" {
		t.Errorf("git log = %q", got)
	}
}

func TestBranchSelection(t *testing.T) {
	peer.Require(t, "git")
	bare := bareRepo(t)
	main := open(t, bare)
	putFile(t, main, "on-main", "m")
	dev := open(t, bare+"#dev")
	if dev.Branch() != "dev" || dev.Version() != "" {
		t.Fatalf("new branch dev: branch %q version %q", dev.Branch(), dev.Version())
	}
	putFile(t, dev, "on-dev", "d")
	if got := peer.Run(t, bare, "git", "ls-tree", "--name-only", "dev"); got != "on-dev\n" {
		t.Errorf("dev holds %q", got)
	}
	if got := peer.Run(t, bare, "git", "ls-tree", "--name-only", "main"); got != "on-main\n" {
		t.Errorf("main holds %q", got)
	}
	if open(t, bare).Branch() != "main" {
		t.Error("without #branch the remote's HEAD branch is used")
	}
}

// TestUnreachable: while the remote is gone a batch fails and changes
// nothing; once it is back the next batch succeeds.
func TestUnreachable(t *testing.T) {
	peer.Require(t, "git")
	bare := bareRepo(t)
	s := open(t, bare)
	v := putFile(t, s, "a", "1")
	if err := os.Rename(bare, bare+".away"); err != nil {
		t.Fatal(err)
	}
	_, err := s.Batch(ctx, commit("t", "lost"), func(tx kv.Txn) error { return tx.Put("a", []byte("2")) })
	if !errors.Is(err, kv.ErrUnavailable) {
		t.Fatalf("Batch with remote gone: %v, want ErrUnavailable", err)
	}
	var re *kvgit.RemoteError
	if !errors.As(err, &re) || re.Op != "push" {
		t.Errorf("error %v is not a push RemoteError", err)
	}
	if s.Version() != v {
		t.Error("failed batch moved the view")
	}
	if b, _ := s.Get(ctx, "a"); string(b) != "1" {
		t.Errorf("view shows %q after a failed batch", b)
	}
	if _, err := s.Refresh(ctx); !errors.Is(err, kv.ErrUnavailable) {
		t.Errorf("Refresh with remote gone: %v", err)
	}
	os.Rename(bare+".away", bare)
	putFile(t, s, "a", "3")
	if got := peer.Run(t, bare, "git", "log", "--format=%s", "main"); got != "put a\nput a\n" {
		t.Errorf("history = %q, want exactly the two acknowledged commits", got)
	}
}

func TestOpenErrors(t *testing.T) {
	for _, remote := range []string{"", "/nonexistent/repo.git"} {
		if _, err := kvgit.Open(ctx, kvgit.Config{Remote: remote, Timeout: 5 * time.Second}); err == nil {
			t.Errorf("Open(%q) succeeded", remote)
		}
	}
}

func TestAuthFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		remote  string
		env     map[string]string
		ssh     kvgit.SSH
		wantErr string
		want    string // the auth's String(), "" for none
	}{
		{remote: "/srv/git/zones.git"},
		{remote: "file:///srv/git/zones.git#main"},
		{remote: "https://git.example.org/zones.git"},
		{remote: "https://git.example.org/zones.git", env: map[string]string{kvgit.EnvToken: "s3cret"}, want: "http-basic-auth - quercus:*******"},
		{remote: "https://git.example.org/zones.git", env: map[string]string{kvgit.EnvUsername: "ann", kvgit.EnvPassword: "pw"}, want: "http-basic-auth - ann:*******"},
		{remote: "https://git.example.org/zones.git", env: map[string]string{kvgit.EnvPassword: "pw"}, wantErr: "QUERCUS_GIT_USERNAME"},
		{remote: "https://ann:pw@git.example.org/zones.git", wantErr: "carries a password"},
		{remote: "ssh://git@git.example.org/zones.git", wantErr: "--ssh-key"},
		{remote: "git@git.example.org:zones.git", wantErr: "--ssh-key"},
		{remote: "ftp://git.example.org/zones.git", wantErr: "unsupported protocol"},
	}
	for _, tc := range tests {
		auth, err := kvgit.AuthFromEnv(tc.remote, tc.ssh, env(tc.env))
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: error %v, want one mentioning %q", tc.remote, err, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "pw@") {
				t.Errorf("%s: error leaks the password: %v", tc.remote, err)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.remote, err)
		case tc.want == "" && auth != nil:
			t.Errorf("%s: auth %v, want none", tc.remote, auth)
		case tc.want != "" && (auth == nil || auth.String() != tc.want):
			t.Errorf("%s: auth %v, want %s", tc.remote, auth, tc.want)
		}
	}
}

// TestBatchHeedsContextWhileWaiting: a batch waiting behind another
// writer gives up when its context ends.
func TestBatchHeedsContextWhileWaiting(t *testing.T) {
	peer.Require(t, "git")
	s := open(t, bareRepo(t))
	inside, release, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		s.Batch(ctx, commit("slow", "slow"), func(tx kv.Txn) error {
			close(inside)
			<-release
			return tx.Put("slow", []byte("x"))
		})
		close(done)
	}()
	<-inside
	defer func() { close(release); <-done }()
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err := s.Batch(short, commit("waiter", "waiter"), func(tx kv.Txn) error { return tx.Put("w", []byte("x")) })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Batch behind a slow writer: %v, want the deadline", err)
	}
}

// TestRefLocksAreNotRefs: while a writer holds refs/heads/main.lock, as
// our pushes and git's do, a fetch from the local remote still works and
// does not list the lock as a branch, empty (just created) or not.
func TestRefLocksAreNotRefs(t *testing.T) {
	peer.Require(t, "git")
	bare := bareRepo(t)
	s := open(t, bare)
	v := putFile(t, s, "a", "1")
	lock := filepath.Join(bare, "refs", "heads", "main.lock")
	for _, content := range []string{"", v + "\n"} {
		if err := os.WriteFile(lock, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		other := open(t, bare)
		if other.Version() != v {
			t.Errorf("lock %q: a new store sees version %q, want %q", content, other.Version(), v)
		}
		if _, err := other.Refresh(ctx); err != nil {
			t.Errorf("lock %q: Refresh: %v", content, err)
		}
		if b := open(t, bare+"#main.lock"); b.Version() != "" {
			t.Errorf("lock %q: the lock is served as branch main.lock at %q", content, b.Version())
		}
	}
}
