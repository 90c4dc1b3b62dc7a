package main_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/primary/primarytest"
	"github.com/quercus-dev/quercus/dns/zone"
	"github.com/quercus-dev/quercus/internal/peer"
)

// TestKnotSecondaryFollowsGitPush: knotd is a TSIG secondary of
// dns-primary; a change pushed with git and announced with quercus notify
// reaches knotd by IXFR, and so do dynamic updates.
func TestKnotSecondaryFollowsGitPush(t *testing.T) {
	peer.Require(t, "git", "knotd", "nsupdate")
	bin := peer.Build(t, "dns-primary", "quercus")

	// The repository: the demo zones, plus a transfer key for knotd.
	dir := t.TempDir()
	remote, update, xfr := primarytest.Demo(t, dir)

	port, httpPort := peer.FreePort(t), peer.FreePort(t)
	primaryAddr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))
	knot := peer.StartKnotSecondary(t, peer.KnotSecondary{Zone: "example.com", Primary: primaryAddr, KeyName: xfr.Name, Secret: xfr.Secret})
	peer.Start(t, filepath.Join(bin, "dns-primary"),
		"--remote", remote, "--listen", primaryAddr.String(),
		"--http", fmt.Sprintf("127.0.0.1:%d", httpPort),
		"--also-notify", knot.String())
	peer.WaitSerial(t, knot, "example.com", 2026112201, 30*time.Second)

	// A human's change, pushed with git.
	work := filepath.Join(dir, "work")
	peer.Run(t, "", "git", "clone", "-q", remote, work)
	zoneFile := filepath.Join(work, "example.com")
	src, _ := os.ReadFile(zoneFile)
	src = []byte(strings.Replace(string(src), "2026112201 ; serial", "2026112202 ; serial", 1) + "pushed IN A 192.0.2.202\n")
	os.WriteFile(zoneFile, src, 0o644)
	peer.Run(t, work, "git", "-c", "user.name=Ann", "-c", "user.email=ann@example.org", "commit", "-qam", "add pushed.example.com")
	peer.Run(t, work, "git", "push", "-q")

	// Announced as a post-receive hook would, the key from the environment.
	start := time.Now()
	notify := exec.Command(filepath.Join(bin, "quercus"), "notify", "--server", primaryAddr.String(), "example.com")
	notify.Env = append(os.Environ(), "QUERCUS_KEY="+update.Flag())
	if out, err := notify.CombinedOutput(); err != nil {
		t.Fatalf("quercus notify: %v\n%s", err, out)
	}
	peer.WaitSerial(t, knot, "example.com", 2026112202, 10*time.Second)
	t.Logf("git push -> quercus notify -> knotd serving the change: %v", time.Since(start))

	r := ask(t, knot.String(), "pushed.example.com.", dns.TypeA)
	if len(r.Answer) != 1 || !strings.Contains(r.Answer[0].String(), "192.0.2.202") {
		t.Errorf("knotd answers %v", r.Answer)
	}
	if ixfrs := metric(t, httpPort, `quercus_dns_transfers_total{kind="ixfr"}`); ixfrs != "1" {
		t.Errorf("incremental transfers served: %q, want 1 (knotd should have used IXFR)", ixfrs)
	}

	// Each dynamic update reaches knotd the same way: NOTIFY, then IXFR.
	// The primary picks the new serial (today's date form, or one more),
	// so it is read from the primary once the update is acknowledged.
	serial := uint32(2026112202)
	for i := range 2 {
		script := fmt.Sprintf("server %s %d\nzone example.com.\nupdate add dyn%d.example.com. 300 A 192.0.2.%d\nsend\n", primaryAddr.Addr(), primaryAddr.Port(), i, 30+i)
		cmd := exec.Command("nsupdate", "-y", update.DigFlag())
		cmd.Stdin = strings.NewReader(script)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("nsupdate: %v\n%s", err, out)
		}
		prev := serial
		soa := ask(t, primaryAddr.String(), "example.com.", dns.TypeSOA)
		if len(soa.Answer) != 1 {
			t.Fatalf("the primary's SOA: %v", soa)
		}
		if serial = soa.Answer[0].(*dns.SOA).Serial; !zone.SerialLess(prev, serial) {
			t.Fatalf("after an update the primary serves serial %d, not above %d", serial, prev)
		}
		took := peer.WaitSerial(t, knot, "example.com", serial, 10*time.Second)
		t.Logf("nsupdate acknowledged -> knotd serving serial %d: %v", serial, took)
	}
	if ixfrs := metric(t, httpPort, `quercus_dns_transfers_total{kind="ixfr"}`); ixfrs != "3" {
		t.Errorf("incremental transfers served: %q, want 3", ixfrs)
	}
	if r := ask(t, knot.String(), "dyn1.example.com.", dns.TypeA); len(r.Answer) != 1 {
		t.Errorf("knotd lacks the second update: %v", r)
	}
}

func ask(t *testing.T, addr, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	r, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, addr)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// metric reads one series from the side port's /metrics.
func metric(t *testing.T, port int, series string) string {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(io.Reader(resp.Body))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			return v
		}
	}
	return ""
}
