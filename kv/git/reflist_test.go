package git_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/quercus-dev/quercus/internal/peer"
)

// TestLocalRefListingIsGits: a local remote advertises the refs git
// advertises for the same folder (git ls-remote): HEAD, loose and packed
// refs, a loose ref winning over its packed line, an annotated tag whose
// packed line is followed by its peeled one; and not what git skips
// while it walks refs/: a <ref>.lock, a folder whose name ends in .lock
// and names that start with a dot.
func TestLocalRefListingIsGits(t *testing.T) {
	peer.Require(t, "git")
	bare := bareRepo(t)
	work := filepath.Join(t.TempDir(), "work")
	peer.Run(t, "", "git", "init", "-q", "--initial-branch=main", work)
	git := func(args ...string) string {
		return strings.TrimSpace(peer.Run(t, work, "git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.org"}, args...)...))
	}
	git("commit", "-q", "--allow-empty", "-m", "one")
	one := git("rev-parse", "HEAD")
	git("tag", "-a", "-m", "annotated", "v1")
	git("commit", "-q", "--allow-empty", "-m", "two")
	two := git("rev-parse", "HEAD")
	git("push", "-q", bare, "main", "v1", one+":refs/heads/old")
	peer.Run(t, bare, "git", "pack-refs", "--all")
	// refs/heads/old is packed at one and loose at two: the loose wins.
	write := func(name, content string) {
		p := filepath.Join(bare, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("refs/heads/old", two+"\n")
	write("refs/heads/main.lock", "")
	write("refs/heads/dir.lock/inside", two+"\n")
	write("refs/heads/.hidden/inside", two+"\n")
	write("refs/heads/.dotted", two+"\n")
	write("refs/heads/sub/branch", one+"\n")
	write("refs/heads/alias", "ref: refs/heads/sub/branch\n")
	write("refs/heads/dangling", "ref: refs/heads/nowhere\n")

	var want []string
	for line := range strings.Lines(peer.Run(t, "", "git", "ls-remote", bare)) {
		if f := strings.Fields(line); len(f) == 2 && !strings.HasSuffix(f[1], "^{}") {
			want = append(want, f[1]+" "+f[0])
		}
	}
	remote := gogit.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: "origin", URLs: []string{"file://" + bare}})
	refs, err := remote.List(&gogit.ListOptions{})
	if err != nil {
		t.Fatalf("listing the local remote: %v", err)
	}
	var got []string
	for _, r := range refs {
		h := r.Hash()
		if r.Name() == "HEAD" && h.IsZero() {
			continue // symbolic, resolved below
		}
		got = append(got, r.Name().String()+" "+h.String())
	}
	if head := peer.Run(t, bare, "git", "rev-parse", "HEAD"); !slices.Contains(got, "HEAD "+strings.TrimSpace(head)) {
		got = append(got, "HEAD "+strings.TrimSpace(head))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("the local remote lists\n%s\ngit ls-remote lists\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestNonBareLocalRemote: a local remote that is a work tree, not a
// bare repository, is read from its .git folder, as git reads it; its
// refs and objects were looked for in the work tree itself.
func TestNonBareLocalRemote(t *testing.T) {
	peer.Require(t, "git")
	work := filepath.Join(t.TempDir(), "work")
	peer.Run(t, "", "git", "init", "-q", "--initial-branch=main", work)
	if err := os.WriteFile(filepath.Join(work, "a"), []byte("from git\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	peer.Run(t, work, "git", "add", "a")
	peer.Run(t, work, "git", "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "-m", "a")
	s := open(t, work)
	if b, err := s.Get(ctx, "a"); err != nil || string(b) != "from git\n" {
		t.Errorf("Get(a) from a work tree's repository = %q, %v", b, err)
	}
}
