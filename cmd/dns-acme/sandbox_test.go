package main

import (
	"fmt"
	"os"
	"testing"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/tsig"
	"github.com/quercus-dev/quercus/internal/peer"
	"github.com/quercus-dev/quercus/internal/sandboxtest"
	"github.com/quercus-dev/quercus/service"
)

// TestSandboxChild is where the sandbox tests' children start: they
// serve as dns-acme, following a primary and an ACME server that are not
// there.
func TestSandboxChild(t *testing.T) {
	sandboxtest.Child(func() error {
		return run(config{
			service:        service.Flags{Listen: os.Getenv("QUERCUS_LISTEN"), LogLevel: "error"},
			dnsKey:         os.Getenv("QUERCUS_DNS_KEY"),
			dnsServer:      os.Getenv("QUERCUS_PRIMARY"),
			directory:      "https://" + os.Getenv("QUERCUS_PRIMARY") + "/dir",
			accountKeySeed: "a sandbox test seed of some length",
		})
	})
}

// TestSandboxedACME: once dns-acme has started it opens no file, runs no
// program, makes no socket but inet ones.
func TestSandboxedACME(t *testing.T) {
	key, err := tsig.Generate("acme._update.example.com.", dns.HmacSHA256, nil)
	if err != nil {
		t.Fatal(err)
	}
	env := []string{
		fmt.Sprintf("QUERCUS_LISTEN=127.0.0.1:%d", peer.FreePort(t)),
		fmt.Sprintf("QUERCUS_PRIMARY=127.0.0.1:%d", peer.FreePort(t)),
		"QUERCUS_DNS_KEY=" + key.Flag(),
	}
	sandboxtest.Run(t, "TestSandboxChild", env, nil, sandboxtest.Standard("operation not permitted")...)
}
