package main

import (
	"fmt"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/secondary"
	"github.com/quercus-dev/quercus/internal/peer"
	"github.com/quercus-dev/quercus/internal/sandboxtest"
	"github.com/quercus-dev/quercus/service"
)

// TestSandboxChild is where the sandbox tests' children start: they
// serve as dns-secondary of a primary that is not there.
func TestSandboxChild(t *testing.T) {
	sandboxtest.Child(func() error {
		zones := []secondary.ZoneConfig{{Origin: "example.com.", Primary: netip.MustParseAddrPort(os.Getenv("QUERCUS_PRIMARY"))}}
		return run(service.Flags{Listen: os.Getenv("QUERCUS_LISTEN"), LogLevel: "error"}, zones, nil, nil, nil, 0, 0)
	})
}

// TestSandboxedSecondary: once dns-secondary has started it opens no
// file, runs no program, makes no socket but inet ones.
func TestSandboxedSecondary(t *testing.T) {
	listen := fmt.Sprintf("127.0.0.1:%d", peer.FreePort(t))
	env := []string{"QUERCUS_LISTEN=" + listen, fmt.Sprintf("QUERCUS_PRIMARY=127.0.0.1:%d", peer.FreePort(t))}
	answers := func(t *testing.T) { // whatever it answers for a zone it could not transfer
		m := new(dns.Msg)
		m.SetQuestion("example.com.", dns.TypeSOA)
		if _, _, err := (&dns.Client{Timeout: 5 * time.Second}).Exchange(m, listen); err != nil {
			t.Errorf("no longer answering: %v", err)
		}
	}
	sandboxtest.Run(t, "TestSandboxChild", env, answers, sandboxtest.Standard("operation not permitted")...)
}
