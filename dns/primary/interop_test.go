package primary_test

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/quercus-dev/quercus/dns/primary"
	"github.com/quercus-dev/quercus/dns/primary/primarytest"
	"github.com/quercus-dev/quercus/dns/tsig"
	"github.com/quercus-dev/quercus/internal/peer"
	kvgit "github.com/quercus-dev/quercus/kv/git"
)

// running is a primary on a real git remote, with a work tree to push from.
type running struct {
	addr, port string
	remote     string // the bare repository
	work       string
	p          *primary.Primary
	key        string // dig's -y argument
	tkey       tsig.Key
	metrics    string // URL
	logs       *logBuf
}

func startPrimary(t testing.TB) *running {
	t.Helper()
	dir := t.TempDir()
	remote, key, err := primary.Demo(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	store, err := kvgit.Open(ctx, kvgit.Config{Remote: remote, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuf{}
	reg := prometheus.NewRegistry()
	p, err := primary.New(ctx, primary.Config{Store: store, Registry: reg, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	addr := primarytest.Serve(t, p)

	hs := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{})}
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hs.Serve(hl)
	t.Cleanup(func() { hs.Close() })

	work := filepath.Join(dir, "work")
	peer.Run(t, "", "git", "clone", "-q", remote, work)
	return &running{
		addr: addr, port: addr[strings.LastIndex(addr, ":")+1:], remote: remote, work: work, p: p, logs: logs,
		key:     key.DigFlag(),
		tkey:    key,
		metrics: "http://" + hl.Addr().String(),
	}
}

// dig runs dig against the primary and returns its output.
func (r *running) dig(t *testing.T, tool string, args ...string) string {
	t.Helper()
	return r.run(t, tool, false, args...)
}

// run runs dig or kdig; mayFail accepts a non-zero exit.
func (r *running) run(t *testing.T, tool string, mayFail bool, args ...string) string {
	t.Helper()
	all := append([]string{"@127.0.0.1", "-p", r.port, "+norecurse"}, args...)
	out, err := exec.Command(tool, all...).CombinedOutput()
	if err != nil && !mayFail {
		t.Fatalf("%s %s: %v\n%s", tool, strings.Join(all, " "), err, out)
	}
	return string(out)
}

func TestInteropDigKdig(t *testing.T) {
	peer.Require(t, "git", "dig", "kdig")
	r := startPrimary(t)
	tests := []struct {
		name     string
		args     []string
		want     []string // in the output of both tools
		dig      []string // dig's wording
		kdig     []string // kdig's wording
		notFlags string   // a flag that must not be set
		fails    bool     // the tool exits non-zero (kdig on a refused transfer)
	}{
		{name: "answer with AA", args: []string{"www.example.com", "A"}, want: []string{"status: NOERROR", " aa", "www.example.com.", "CNAME", "192.0.2.1"}},
		{name: "NXDOMAIN with SOA", args: []string{"nothing.example.com", "A"}, want: []string{"status: NXDOMAIN", " aa", "SOA"}},
		{name: "NODATA with SOA", args: []string{"www.example.org", "MX"}, want: []string{"status: NOERROR", "ANSWER: 0", "SOA"}},
		{name: "wildcard", args: []string{"anything.apps.example.com", "A"}, want: []string{"anything.apps.example.com.", "192.0.2.80", " aa"}},
		{name: "referral without AA", args: []string{"host.lab.example.com", "A"}, want: []string{"status: NOERROR", "lab.example.com.", "ns.lab.example.com.", "192.0.2.100"}, notFlags: "aa"},
		{name: "refused for other zones", args: []string{"example.net", "A"}, want: []string{"status: REFUSED"}},
		{name: "ANY is minimal", args: []string{"example.com", "ANY"}, want: []string{"status: NOERROR", "ANSWER: 1"}},
		{name: "unknown type", args: []string{"example.com", "TYPE65000"}, want: []string{"status: NOERROR", "ANSWER: 0"}},
		// kdig lowercases the name it sends, so only dig shows this.
		{name: "case preserved", args: []string{"WwW.ExAmPlE.cOm", "A"}, dig: []string{"WwW.ExAmPlE.cOm."}},
		{name: "EDNS version 1", args: []string{"+edns=1", "example.com", "SOA"}, dig: []string{"BADVERS"}, kdig: []string{"BADVERS"}},
		{name: "AXFR with TSIG", args: []string{"-y", r.key, "example.com", "AXFR"}, want: []string{"ns.lab.example.com.", "192.0.2.100"}, dig: []string{"XFR size: 16 records"}, kdig: []string{"16 records"}},
		{name: "AXFR without key", args: []string{"example.com", "AXFR"}, dig: []string{"Transfer failed"}, kdig: []string{"REFUSED"}, fails: true},
	}
	for _, tool := range []string{"dig", "kdig"} {
		for _, tc := range tests {
			t.Run(tool+"/"+tc.name, func(t *testing.T) {
				args := tc.args
				if tool == "dig" && tc.name == "EDNS version 1" {
					args = append([]string{"+noednsnegotiation"}, args...)
				}
				out := r.run(t, tool, tc.fails, args...)
				want := append([]string{}, tc.want...)
				if tool == "dig" {
					want = append(want, tc.dig...)
				} else {
					want = append(want, tc.kdig...)
				}
				for _, w := range want {
					if !strings.Contains(out, w) {
						t.Errorf("output lacks %q:\n%s", w, out)
					}
				}
				if tc.notFlags != "" && strings.Contains(flagsLine(out), " "+tc.notFlags) {
					t.Errorf("flag %s set:\n%s", tc.notFlags, out)
				}
			})
		}
	}
}

func flagsLine(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "flags:") || strings.Contains(l, "Flags:") {
			return l
		}
	}
	return ""
}

// TestInteropBadPush: a malformed zone pushed with git is not served; the
// previous version is, and the log and /metrics say why.
func TestInteropBadPush(t *testing.T) {
	peer.Require(t, "git", "dig")
	r := startPrimary(t)
	zoneFile := filepath.Join(r.work, "example.com")
	b, _ := os.ReadFile(zoneFile)
	os.WriteFile(zoneFile, append(b, []byte("www IN A 192.0.2.200\n")...), 0o644) // CNAME beside A
	peer.Run(t, r.work, "git", "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qam", "break it")
	peer.Run(t, r.work, "git", "push", "-q")
	if err := r.p.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	out := r.dig(t, "dig", "www.example.com", "A")
	if !strings.Contains(out, "192.0.2.1") || strings.Contains(out, "192.0.2.200") {
		t.Errorf("after a bad push:\n%s", out)
	}
	if !strings.Contains(r.logs.String(), "still serving the previous version") {
		t.Errorf("log:\n%s", r.logs.String())
	}
	resp, err := http.Get(r.metrics)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	m, _ := io.ReadAll(resp.Body)
	for _, want := range []string{`quercus_dns_zone_valid{zone="example.com"} 0`, `quercus_dns_zone_rejected_total{zone="example.com"} 1`, `quercus_dns_zone_valid{zone="example.org"} 1`} {
		if !strings.Contains(string(m), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
