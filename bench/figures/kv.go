package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/quercus-dev/quercus/kv"
	kvgit "github.com/quercus-dev/quercus/kv/git"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// makeFilesRepo creates a bare repository whose main branch holds files
// small files in folders of 100 (the layout of kv/git's
// BenchmarkOpen10kFiles), written by git fast-import.
func makeFilesRepo(dir string, files int) (string, error) {
	bare := filepath.Join(dir, fmt.Sprintf("files-%d.git", files))
	if err := gitInitBare(bare); err != nil {
		return "", err
	}
	var in bytes.Buffer
	msg := fmt.Sprintf("%d files\n", files)
	fmt.Fprintf(&in, "commit refs/heads/main\ncommitter Bench <bench@example.org> 1700000000 +0000\ndata %d\n%s", len(msg), msg)
	for i := range files {
		content := fmt.Sprintf("; file %d\n", i)
		fmt.Fprintf(&in, "M 100644 inline zones/d%03d/f%05d\ndata %d\n%s", i/100, i, len(content), content)
	}
	return bare, gitImport(bare, &in)
}

// openStore times kvgit.Open, in process, on the remote; it checks the
// store holds want files.
func openStore(ctx context.Context, remote string, want int) (time.Duration, error) {
	start := time.Now()
	s, err := kvgit.Open(ctx, kvgit.Config{Remote: remote, Logger: quiet})
	d := time.Since(start)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	if es, err := s.List(ctx, ""); err != nil || len(es) != want {
		return 0, fmt.Errorf("opened store lists %d files, %v; want %d", len(es), err, want)
	}
	return d, nil
}

// gitClone times `git clone --bare --quiet` of the remote into a fresh
// folder under dir, then removes it.
func gitClone(dir, remote string) (time.Duration, error) {
	dst, err := os.MkdirTemp(dir, "clone-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dst)
	start := time.Now()
	err = runCmd("", "git", "clone", "--bare", "--quiet", remote, filepath.Join(dst, "c.git"))
	return time.Since(start), err
}

// kvBatches times Batches of one small file each, every one a commit
// pushed to a fresh bare remote, for at least d and at least minBatches of
// them, and returns batches per second. One untimed batch first creates the
// branch.
func kvBatches(ctx context.Context, dir string, d time.Duration) (float64, error) {
	bare, err := os.MkdirTemp(dir, "batch-remote-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(bare)
	if err := gitInitBare(bare); err != nil {
		return 0, err
	}
	s, err := kvgit.Open(ctx, kvgit.Config{Remote: "file://" + bare, Logger: quiet})
	if err != nil {
		return 0, err
	}
	defer s.Close()
	msg := kv.Commit{Author: kv.Signature{Name: "bench", Email: "bench@example.org"}, Message: "bench"}
	put := func(i int) error {
		content := fmt.Appendf(nil, "%d\n", i) // new content: every batch is a commit
		_, err := s.Batch(ctx, msg, func(tx kv.Txn) error { return tx.Put("zones/example.org", content) })
		return err
	}
	if err := put(0); err != nil {
		return 0, err
	}
	return rate(d, put)
}

// gitBatches does what kvBatches does with the git command: in a work tree
// cloned from a fresh bare remote, write the file, `git commit -a` and `git
// push`, for at least d and minBatches times; it returns round-trips per
// second. One untimed commit and push first creates the branch.
func gitBatches(dir string, d time.Duration) (float64, error) {
	tmp, err := os.MkdirTemp(dir, "git-batch-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	bare, wt := filepath.Join(tmp, "remote.git"), filepath.Join(tmp, "wt")
	if err := gitInitBare(bare); err != nil {
		return 0, err
	}
	if err := runCmd("", "git", "clone", "--quiet", "file://"+bare, wt); err != nil {
		return 0, err
	}
	for _, kv := range [][2]string{{"user.name", "bench"}, {"user.email", "bench@example.org"}, {"commit.gpgsign", "false"}} {
		if err := runCmd(wt, "git", "config", kv[0], kv[1]); err != nil {
			return 0, err
		}
	}
	file := filepath.Join(wt, "zones", "example.org")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return 0, err
	}
	commit := func(i int, first bool) error {
		if err := os.WriteFile(file, fmt.Appendf(nil, "%d\n", i), 0o644); err != nil {
			return err
		}
		if first {
			if err := runCmd(wt, "git", "add", "zones/example.org"); err != nil {
				return err
			}
		}
		if err := runCmd(wt, "git", "commit", "--quiet", "-a", "-m", "bench"); err != nil {
			return err
		}
		return runCmd(wt, "git", "push", "--quiet", "origin", "HEAD:refs/heads/main")
	}
	if err := commit(0, true); err != nil {
		return 0, err
	}
	return rate(d, func(i int) error { return commit(i, false) })
}

// minBatches is the fewest round-trips a rate is computed from.
const minBatches = 5

// rate calls f(1), f(2), ... until d has passed and f ran at least
// minBatches times, and returns calls per second.
func rate(d time.Duration, f func(i int) error) (float64, error) {
	start := time.Now()
	n := 0
	for n < minBatches || time.Since(start) < d {
		n++
		if err := f(n); err != nil {
			return 0, err
		}
	}
	return float64(n) / time.Since(start).Seconds(), nil
}
