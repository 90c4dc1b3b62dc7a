package git_test

// Benchmarks against real remotes. They need git, so like the interop
// tests they run only with QUERCUS_INTEROP=1:
//
//	QUERCUS_INTEROP=1 go test -run '^$' -bench . -benchtime 3x ./kv/git

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/quercus-dev/quercus/internal/peer"
	"github.com/quercus-dev/quercus/kv"
	kvgit "github.com/quercus-dev/quercus/kv/git"
)

// importRepo creates a bare repository whose main branch holds files small
// files in folders of 100.
func importRepo(b testing.TB, files int) string {
	return fastImport(b, "big.git", "10k files", files, func(i int) (string, string) {
		return fmt.Sprintf("zones/d%03d/f%05d", i/100, i), fmt.Sprintf("; file %d\n", i)
	})
}

// fastImport creates a bare repository named name whose main branch has
// one commit of files files, file(i) giving the i-th's path and content.
// git fast-import writes it: quick, and independent of the code under
// test.
func fastImport(b testing.TB, name, msg string, files int, file func(i int) (path, content string)) string {
	b.Helper()
	bare := initBare(b, filepath.Join(b.TempDir(), name))
	var in bytes.Buffer
	msg += "\n"
	fmt.Fprintf(&in, "commit refs/heads/main\ncommitter Bench <bench@example.org> 1700000000 +0000\ndata %d\n%s", len(msg), msg)
	for i := range files {
		path, content := file(i)
		fmt.Fprintf(&in, "M 100644 inline %s\ndata %d\n%s", path, len(content), content)
	}
	cmd := exec.Command("git", "fast-import", "--quiet")
	cmd.Dir, cmd.Stdin = bare, &in
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("git fast-import: %v\n%s", err, out)
	}
	return bare
}

// BenchmarkOpen10kFiles measures start-up: cloning a 10,000-file
// repository into memory.
func BenchmarkOpen10kFiles(b *testing.B) {
	peer.Require(b, "git")
	const files = 10_000
	remote := "file://" + importRepo(b, files)
	s := openWith(b, remote, nil)
	if es, err := s.List(ctx, ""); err != nil || len(es) != files {
		b.Fatalf("List = %d entries, %v; want %d", len(es), err, files)
	}
	n := 0
	for b.Loop() {
		s, err := kvgit.Open(ctx, kvgit.Config{Remote: remote})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
		n++
	}
	b.ReportMetric(float64(files*n)/b.Elapsed().Seconds(), "files/s")
}

// BenchmarkBatchRoundTrip measures one acknowledged change: a Batch that
// puts one small file, committed and pushed.
func BenchmarkBatchRoundTrip(b *testing.B) {
	peer.Require(b, "git")
	b.Run("file", func(b *testing.B) {
		bare := initBare(b, filepath.Join(b.TempDir(), "remote.git"))
		benchBatches(b, "file://"+bare, nil)
	})
	b.Run("http", func(b *testing.B) {
		g := startGitHTTP(b)
		_, remote := g.newRepo(b, "bench")
		benchBatches(b, remote, g.auth(b, remote))
	})
	b.Run("ssh", func(b *testing.B) {
		d := peer.StartSSHD(b)
		remote := d.URL(initBare(b, filepath.Join(b.TempDir(), "remote.git")))
		benchBatches(b, remote, sshAuth(b, d, remote, d.KnownHosts))
	})
}

func benchBatches(b *testing.B, remote string, auth transport.AuthMethod) {
	b.Helper()
	s := openWith(b, remote, auth)
	msg := kv.Commit{Author: kv.Signature{Name: "bench", Email: "bench@example.org"}, Message: "bench"}
	n := 0
	for b.Loop() {
		n++
		content := []byte(fmt.Sprintf("%d\n", n)) // new content: every batch is a commit
		if _, err := s.Batch(ctx, msg, func(tx kv.Txn) error { return tx.Put("zones/example.org", content) }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "batches/s")
}
