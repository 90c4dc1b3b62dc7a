// Package primarytest runs an in-process dns-primary for the tests of the
// services and tools that talk to one (dns-acme, quercus certify).
package primarytest

import (
	"context"
	"testing"

	"github.com/quercus-dev/quercus/dns/primary"
	"github.com/quercus-dev/quercus/dns/server"
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
	pc, ln, err := server.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Serve(ctx, pc, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return pc.LocalAddr().String()
}
