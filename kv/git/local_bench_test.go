package git_test

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
	"github.com/go-git/go-git/v5/plumbing/transport/file"

	"github.com/quercus-dev/quercus/internal/peer"
	kvgit "github.com/quercus-dev/quercus/kv/git"
)

// BenchmarkLocalTransport compares the in-process server that serves
// local remotes (so that a sandboxed service needs no exec) with running
// git-upload-pack and git-receive-pack, as go-git does by default: a
// clone of 10,000 files, and one acknowledged change.
func BenchmarkLocalTransport(b *testing.B) {
	peer.Require(b, "git")
	inProcess, _ := client.NewClient(&transport.Endpoint{Protocol: "file"})
	for _, tr := range []struct {
		name string
		t    transport.Transport
	}{{"in-process", inProcess}, {"git-programs", file.DefaultClient}} {
		b.Run(tr.name, func(b *testing.B) {
			client.InstallProtocol("file", tr.t)
			defer client.InstallProtocol("file", inProcess)
			b.Run("Open10kFiles", func(b *testing.B) {
				remote := "file://" + importRepo(b, 10_000)
				for b.Loop() {
					s, err := kvgit.Open(ctx, kvgit.Config{Remote: remote})
					if err != nil {
						b.Fatal(err)
					}
					s.Close()
				}
			})
			b.Run("BatchRoundTrip", func(b *testing.B) {
				benchBatches(b, "file://"+initBare(b, filepath.Join(b.TempDir(), "remote.git")), nil)
			})
		})
	}
}

// BenchmarkRemoteGrowth measures what a local remote costs on disk: each
// op is a commit that adds a file to a folder of 2,000 or 10,000 files,
// pushed, the remote collected as configured (gc=off: never, as before
// collections; gc=on: the defaults). disk-MB is the remote's size after
// the last push and its collection; run it with -benchtime 1000x for the
// size after 1,000 commits.
func BenchmarkRemoteGrowth(b *testing.B) {
	peer.Require(b, "git")
	for _, files := range []int{2_000, 10_000} {
		for _, gc := range []bool{false, true} {
			b.Run(fmt.Sprintf("files=%d/gc=%v", files, gc), func(b *testing.B) {
				objects, bytes := kvgit.GCDefaults()
				if !gc {
					objects, bytes = 0, 0
				}
				defer kvgit.SetGC(objects, bytes)()
				remote := importFolder(b, files)
				start := diskBytes(b, remote)
				s := openWith(b, "file://"+remote, nil)
				took := putEach(b, s)
				kvgit.WaitGC()
				slices.Sort(took)
				b.ReportMetric(float64(took[len(took)/2])/1e6, "ms-median")
				b.ReportMetric(float64(took[len(took)*99/100])/1e6, "ms-p99")
				size := diskBytes(b, remote)
				b.ReportMetric(float64(size)/1e6, "disk-MB")
				packs, _ := filepath.Glob(filepath.Join(remote, "objects", "pack", "*.pack"))
				b.ReportMetric(float64(len(packs)), "packs")
				b.ReportMetric(float64(size-start)/float64(len(took)), "disk-B/op")
			})
		}
	}
}

// diskBytes is the size of the files under dir.
func diskBytes(b *testing.B, dir string) int64 {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		n += fi.Size()
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}
