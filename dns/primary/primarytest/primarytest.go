// Package primarytest runs an in-process dns-primary, and makes its demo
// repository with a transfer key, for the tests of the services and tools
// that talk to one (dns-secondary, dns-acme, quercus certify).
package primarytest

import (
	"context"
	"testing"

	"github.com/miekg/dns"
	"github.com/quercus-dev/quercus/dns/primary"
	"github.com/quercus-dev/quercus/dns/server"
	"github.com/quercus-dev/quercus/dns/tsig"
	"github.com/quercus-dev/quercus/kv"
	kvgit "github.com/quercus-dev/quercus/kv/git"
)

// Start makes a Primary of cfg and serves it with Serve.
func Start(t testing.TB, cfg primary.Config) (*primary.Primary, string) {
	t.Helper()
	p, err := primary.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p, Serve(t, p)
}

// Serve runs p on a loopback port until the test ends and returns the
// address it answers DNS on.
func Serve(t testing.TB, p *primary.Primary) string {
	t.Helper()
	pc, ln, err := server.Listen("127.0.0.1:0", 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Serve(ctx, pc, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return pc.LocalAddr().String()
}

// Demo makes primary.Demo's repository in dir and adds a transfer key
// for example.com naming 127.0.0.1 as primary and secondary, for a
// secondary on this machine. It returns the remote, the demo's update
// key and the transfer key.
func Demo(t testing.TB, dir string) (remote string, update, transfer tsig.Key) {
	t.Helper()
	ctx := context.Background()
	remote, update, err := primary.Demo(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	transfer, err = tsig.Generate("127.0.0.1.127.0.0.1._transfer.example.com.", dns.HmacSHA256, nil)
	if err != nil {
		t.Fatal(err)
	}
	store, err := kvgit.Open(ctx, kvgit.Config{Remote: remote})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	_, err = store.Batch(ctx, kv.Commit{Message: "a transfer key for a secondary on 127.0.0.1"}, func(tx kv.Txn) error {
		keys, err := tx.Get("example.com._keys")
		if err != nil {
			return err
		}
		return tx.Put("example.com._keys", append(keys, transfer.Record()+"\n"...))
	})
	if err != nil {
		t.Fatal(err)
	}
	return remote, update, transfer
}
