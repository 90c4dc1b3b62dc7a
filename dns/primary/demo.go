package primary

import (
	"context"
	"crypto/rand"
	"embed"
	"fmt"
	"os/exec"
	"path/filepath"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/tsig"
	"github.com/quercus-dev/quercus/kv"
	kvgit "github.com/quercus-dev/quercus/kv/git"
)

//go:embed demo
var demoFiles embed.FS

// DemoKeyName is the update key the demo repository carries.
const DemoKeyName = "demo._update.example.com."

// Demo creates a bare git repository in dir holding the demo zones and a
// fresh update key for example.com, and returns its path and the key.
func Demo(ctx context.Context, dir string) (string, tsig.Key, error) {
	remote := filepath.Join(dir, "zones.git")
	if out, err := exec.CommandContext(ctx, "git", "init", "--quiet", "--bare", "--initial-branch=main", remote).CombinedOutput(); err != nil {
		return "", tsig.Key{}, fmt.Errorf("git init: %v: %s", err, out)
	}
	key, err := tsig.Generate(DemoKeyName, dns.HmacSHA256, rand.Reader)
	if err != nil {
		return "", tsig.Key{}, err
	}
	s, err := kvgit.Open(ctx, kvgit.Config{Remote: remote})
	if err != nil {
		return "", tsig.Key{}, err
	}
	defer s.Close()
	entries, err := demoFiles.ReadDir("demo")
	if err != nil {
		return "", tsig.Key{}, err
	}
	_, err = s.Batch(ctx, kv.Commit{
		Author:  kv.Signature{Name: "dns-primary demo", Email: "demo@quercus.invalid"},
		Message: "demo: two example zones and an update key",
	}, func(tx kv.Txn) error {
		for _, e := range entries {
			b, err := demoFiles.ReadFile("demo/" + e.Name())
			if err != nil {
				return err
			}
			if err := tx.Put(e.Name(), b); err != nil {
				return err
			}
		}
		return tx.Put("example.com._keys", []byte(key.Record()+"\n"))
	})
	return remote, key, err
}
