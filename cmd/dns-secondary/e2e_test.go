package main_test

import (
	"bufio"
	"fmt"
	"net/http"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/primary/primarytest"
	"github.com/quercus-dev/quercus/internal/peer"
)

// TestSecondaryOfDNSPrimary runs both binaries: dns-secondary transfers
// the demo zone from dns-primary with a _transfer key, and a dynamic
// update on the primary reaches it through NOTIFY and IXFR.
func TestSecondaryOfDNSPrimary(t *testing.T) {
	peer.Require(t, "git", "nsupdate")
	bin := peer.Build(t, "dns-primary", "dns-secondary")

	dir := t.TempDir()
	remote, update, xfr := primarytest.Demo(t, dir)

	loop := netip.MustParseAddr("127.0.0.1")
	primaryAddr := netip.AddrPortFrom(loop, uint16(peer.FreePort(t)))
	secondaryAddr := netip.AddrPortFrom(loop, uint16(peer.FreePort(t)))
	httpPort := peer.FreePort(t)
	// Both sandboxed, as they run in production (the default).
	peer.Start(t, filepath.Join(bin, "dns-primary"), "--remote", remote, "--listen", primaryAddr.String(), "--http", "",
		"--also-notify", secondaryAddr.String())
	peer.WaitTCP(t, primaryAddr.String(), 30*time.Second)
	peer.Start(t, filepath.Join(bin, "dns-secondary"), "--listen", secondaryAddr.String(), "--http", fmt.Sprintf("127.0.0.1:%d", httpPort),
		"--zone", "example.com", "--primary", primaryAddr.String(), "--key", xfr.Flag(),
		"--zone", "example.org", "--primary", primaryAddr.String(), "--key", update.Flag()) // no rights on example.org: refused
	peer.WaitSerial(t, secondaryAddr, "example.com", serial(t, primaryAddr), 30*time.Second)

	script := fmt.Sprintf("server %s %d\nzone example.com.\nupdate add e2e.example.com. 300 A 192.0.2.77\nsend\n", primaryAddr.Addr(), primaryAddr.Port())
	cmd := exec.Command("nsupdate", "-y", update.DigFlag())
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nsupdate: %v\n%s", err, out)
	}
	took := peer.WaitSerial(t, secondaryAddr, "example.com", serial(t, primaryAddr), 10*time.Second)
	t.Logf("nsupdate acknowledged -> dns-secondary serving it: %v", took)
	if got := metric(t, httpPort, `quercus_dns_secondary_transfers_total{kind="ixfr",result="ok",zone="example.com."}`); got != "1" {
		t.Errorf("IXFRs: %q, want 1", got)
	}
	if got := metric(t, httpPort, `quercus_dns_secondary_transfers_total{kind="axfr",result="error",zone="example.org."}`); got == "" || got == "0" {
		t.Errorf("example.org without a transfer right: %q failed AXFRs, want some", got)
	}
}

func serial(t *testing.T, addr netip.AddrPort) uint32 {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion("example.com.", dns.TypeSOA)
	r, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, addr.String())
	if err != nil || len(r.Answer) != 1 {
		t.Fatalf("SOA of example.com at %s: %v %v", addr, r, err)
	}
	return r.Answer[0].(*dns.SOA).Serial
}

// metric reads one series from the side port's /metrics; "" if absent.
func metric(t *testing.T, port int, series string) string {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			return v
		}
	}
	return ""
}
