package git_test

import (
	"path/filepath"
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
