package git_test

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/quercus-dev/quercus/internal/peer"
	"github.com/quercus-dev/quercus/kv"
)

// BenchmarkWalkHistory: a walk through the history of a folder that
// grew one file a commit (a calendar's events, as caldav's times walk
// them), from the head back to the commit that added the first file.
// A commit costs the walk one version of the folder's tree, so the
// figure, ns/commit, grows with the folder.
func BenchmarkWalkHistory(b *testing.B) {
	peer.Require(b, "git")
	for _, commits := range []int{200, 2000} {
		b.Run(fmt.Sprint(commits), func(b *testing.B) {
			bare := initBare(b, filepath.Join(b.TempDir(), "log.git"))
			var in bytes.Buffer
			for i := range commits {
				fmt.Fprintf(&in, "commit refs/heads/main\ncommitter Bench <bench@example.org> %d +0000\ndata 2\nx\n", 1700000000+i)
				content := fmt.Sprintf("event %d\n", i)
				fmt.Fprintf(&in, "M 100644 inline cal/%05d.ics\ndata %d\n%s", i, len(content), content)
			}
			cmd := exec.Command("git", "fast-import", "--quiet")
			cmd.Dir, cmd.Stdin = bare, &in
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("git fast-import: %v\n%s", err, out)
			}
			s := openWith(b, "file://"+bare, nil)
			for b.Loop() {
				p, err := s.WalkHistory(ctx, "cal/00000.ics", kv.HistoryOptions{Limit: 1})
				if err != nil || p.Walked != commits || len(p.Revisions) != 1 {
					b.Fatalf("walked %d commits, %d revisions, %v; want %d, 1", p.Walked, len(p.Revisions), err, commits)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*commits), "ns/commit")
		})
	}
}
