package git_test

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quercus-dev/quercus/internal/peer"
	"github.com/quercus-dev/quercus/kv"
	kvgit "github.com/quercus-dev/quercus/kv/git"
	"github.com/quercus-dev/quercus/sandbox"
)

// gcChildEnv names, in TestGCSandboxed's child, the remote to write to.
const gcChildEnv = "QUERCUS_GC_CHILD_REMOTE"

// TestGCSandboxed: a collection runs inside the sandbox the services
// apply (caldav's policy, the remote's folder writable): its system
// calls are all allowed, so it packs the loose objects instead of
// killing the process. The child writes past a small threshold.
func TestGCSandboxed(t *testing.T) {
	if remote := os.Getenv(gcChildEnv); remote != "" {
		gcChild(remote)
		return
	}
	peer.Require(t, "git")
	if !sandbox.SeccompSupported() {
		t.Skip("this kernel has no seccomp filters")
	}
	bare := bareRepo(t)
	putFile(t, open(t, bare), "first", "1") // the branch exists before the sandbox
	cmd := exec.Command(os.Args[0], "-test.run=^TestGCSandboxed$")
	cmd.Env = append(os.Environ(), gcChildEnv+"="+bare)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "collected\n") {
		t.Fatalf("child said:\n%s", out)
	}
	packs, _ := filepath.Glob(filepath.Join(bare, "objects", "pack", "*.pack"))
	loose := 0
	filepath.WalkDir(filepath.Join(bare, "objects"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && len(d.Name()) == 38 {
			loose++
		}
		return nil
	})
	// Every push stores fewer than 100 objects, loose: only a collection
	// makes a pack. How many stay loose depends on where the last
	// collection fell, and on its sampled estimate of the loose objects.
	if len(packs) == 0 {
		t.Errorf("after the sandboxed child: no pack, %d loose objects; want a collection to have packed them", loose)
	}
	peer.Run(t, bare, "git", "fsck", "--strict")
	if got := peer.Run(t, bare, "git", "rev-list", "--count", "main"); got != "41\n" {
		t.Errorf("the remote holds %s commits, want 41", got)
	}
}

func gcChild(remote string) {
	restore := kvgit.SetGC(20, 0)
	defer restore()
	s, err := kvgit.Open(ctx, kvgit.Config{Remote: remote, Timeout: 20 * time.Second})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	p := sandbox.CalDAV.With(sandbox.Policy{ReadWrite: []string{remote}})
	if _, err := sandbox.Apply(p, sandbox.On, nil); err != nil {
		fmt.Println("sandbox:", err)
		os.Exit(1)
	}
	for i := range 40 {
		if _, err := s.Batch(ctx, commit("child", "put"), func(tx kv.Txn) error {
			return tx.Put(fmt.Sprintf("cal/%d.ics", i), []byte(fmt.Sprint(i)))
		}); err != nil {
			fmt.Println("batch:", err)
			os.Exit(1)
		}
	}
	kvgit.WaitGC()
	fmt.Println("collected")
	os.Exit(0)
}
