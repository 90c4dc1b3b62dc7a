package secondary_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/quercus-dev/quercus/dns/primary"
	"github.com/quercus-dev/quercus/dns/secondary"
	"github.com/quercus-dev/quercus/dns/server"
	"github.com/quercus-dev/quercus/dns/tsig"
	"github.com/quercus-dev/quercus/internal/peer"
	"github.com/quercus-dev/quercus/kv"
	"github.com/quercus-dev/quercus/kv/mem"
)

// peerZone is example.com at serial with hosts host0..; refresh, retry
// and expire as given. The refresh is long in the NOTIFY tests, so that
// only a NOTIFY can bring a change quickly.
func peerZone(serial, hosts int, timers string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "$ORIGIN example.com.\n$TTL 300\n@ SOA ns1 hostmaster %d %s 300\n@ NS ns1\nns1 A 127.0.0.53\n", serial, timers)
	for i := range hosts {
		fmt.Fprintf(&b, "host%d A 192.0.2.%d\n", i, i%250)
	}
	fmt.Fprintf(&b, "v%d TXT \"version %d\"\n", serial, serial)
	return b.String()
}

const longTimers = "3600 600 86400"

// syncBuf is a log sink shown when a test fails.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *syncBuf) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }
func (l *syncBuf) String() string              { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// running is our secondary on loopback with the real clock.
type running struct {
	addr netip.AddrPort
	reg  *prometheus.Registry
	s    *secondary.Secondary
}

// listen reserves the secondary's sockets, so that peers can be told its
// address before it starts.
func listen(t *testing.T) (netip.AddrPort, func(cfg secondary.Config) *running) {
	pc, ln, err := server.Listen("127.0.0.1:0", 0)
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.MustParseAddrPort(pc.LocalAddr().String())
	return addr, func(cfg secondary.Config) *running {
		logs := &syncBuf{}
		r := &running{addr: addr, reg: prometheus.NewRegistry()}
		cfg.Registry = r.reg
		cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		s, err := secondary.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		r.s = s
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); s.Run(ctx) }()
		go func() { defer wg.Done(); s.Serve(ctx, pc, ln) }()
		t.Cleanup(func() {
			cancel()
			wg.Wait()
			if t.Failed() {
				t.Logf("secondary log:\n%s", logs.String())
			}
		})
		return r
	}
}

func (r *running) count(t *testing.T, name string, labels map[string]string) float64 {
	return (&fixture{reg: r.reg}).counter(t, name, labels)
}

// rcode asks addr for www's A record... of a host, over UDP.
func rcode(t *testing.T, addr netip.AddrPort, name string) int {
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	r, _, err := (&dns.Client{Timeout: time.Second}).Exchange(m, addr.String())
	if err != nil {
		return -1
	}
	return r.Rcode
}

// waitRcode polls until addr answers name with want.
func waitRcode(t *testing.T, addr netip.AddrPort, name string, want int, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < timeout {
		if rcode(t, addr, name) == want {
			return time.Since(start)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not answer %s with %s within %v", addr, name, dns.RcodeToString[want], timeout)
	return 0
}

func transferKey(t *testing.T) tsig.Key {
	key, err := tsig.Generate("127.0.0.1.127.0.0.1._transfer.example.com", dns.HmacSHA256, nil)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// changer is a primary whose zone a test can change.
type changer interface {
	SetZone(t testing.TB, text string)
}

// TestInteropPrimaries: our secondary transfers from knotd, nsd and our
// dns-primary with TSIG; a change on each reaches it through NOTIFY, by
// IXFR. The knotd case also chains a knotd secondary behind ours, which
// takes AXFR and then IXFR from it.
func TestInteropPrimaries(t *testing.T) {
	for _, kind := range []string{"knotd", "nsd", "dns-primary"} {
		t.Run(kind, func(t *testing.T) {
			key := transferKey(t)
			secAddr, run := listen(t)
			// Enough records for several messages, each signed and
			// chained to the one before (the peers sign every one).
			v1, v2 := peerZone(1, 1500, longTimers), peerZone(2, 1500, longTimers)
			var p changer
			var primaryAddr netip.AddrPort
			cfg := secondary.Config{}
			var downstream netip.AddrPort
			switch kind {
			case "knotd":
				peer.Require(t, "knotd", "knotc")
				downstream = peer.StartKnotSecondary(t, peer.KnotSecondary{Zone: "example.com", Primary: secAddr, KeyName: key.Name, Secret: key.Secret})
				cfg.Keys, cfg.AlsoNotify = tsig.NewKeyring(key), []netip.AddrPort{downstream}
				kp := peer.StartKnotPrimary(t, peer.PrimaryConfig{Zone: "example.com", ZoneText: v1, KeyName: key.Name, Secret: key.Secret, Notify: []netip.AddrPort{secAddr}})
				p, primaryAddr = kp, kp.Addr
			case "nsd":
				np := peer.StartNSDPrimary(t, peer.PrimaryConfig{Zone: "example.com", ZoneText: v1, KeyName: key.Name, Secret: key.Secret, Notify: []netip.AddrPort{secAddr}})
				p, primaryAddr = np, np.Addr
			case "dns-primary":
				op := startOurPrimary(t, key, v1, secAddr)
				p, primaryAddr = op, op.addr
			}
			cfg.Zones = []secondary.ZoneConfig{{Origin: "example.com", Primary: primaryAddr, Key: &key}}
			r := run(cfg)
			peer.WaitSerial(t, r.addr, "example.com", 1, 30*time.Second)
			if downstream.IsValid() {
				peer.WaitSerial(t, downstream, "example.com", 1, 30*time.Second)
			}

			p.SetZone(t, v2)
			took := peer.WaitSerial(t, r.addr, "example.com", 2, 30*time.Second)
			t.Logf("%s: serial 2 reached our secondary %v after the change", kind, took)
			if n := r.count(t, "quercus_dns_secondary_transfers_total", map[string]string{"kind": "ixfr", "result": "ok"}); n != 1 {
				t.Errorf("IXFRs in: %v, want 1", n)
			}
			if got := rcode(t, r.addr, "host1499.example.com."); got != dns.RcodeSuccess {
				t.Errorf("host1499: %s", dns.RcodeToString[got])
			}
			if downstream.IsValid() {
				peer.WaitSerial(t, downstream, "example.com", 2, 30*time.Second)
				if n := r.count(t, "quercus_dns_transfers_total", map[string]string{"kind": "ixfr"}); n < 1 {
					t.Errorf("IXFRs out to knotd: %v, want at least 1", n)
				}
			}
		})
	}
}

// TestInteropPrimaryGoesAway: knotd stops; our secondary answers until
// the zone expires (refresh 1, retry 1, expire 3), then SERVFAIL; when
// knotd is back, the zone recovers without a restart.
func TestInteropPrimaryGoesAway(t *testing.T) {
	peer.Require(t, "knotd", "knotc")
	key := transferKey(t)
	_, run := listen(t)
	kp := peer.StartKnotPrimary(t, peer.PrimaryConfig{Zone: "example.com", ZoneText: peerZone(1, 3, "1 1 3"), KeyName: key.Name, Secret: key.Secret})
	r := run(secondary.Config{Zones: []secondary.ZoneConfig{{Origin: "example.com", Primary: kp.Addr, Key: &key}}})
	peer.WaitSerial(t, r.addr, "example.com", 1, 30*time.Second)

	kp.Stop(t)
	if got := rcode(t, r.addr, "host1.example.com."); got != dns.RcodeSuccess {
		t.Errorf("just after the primary stopped: %s", dns.RcodeToString[got])
	}
	waitRcode(t, r.addr, "host1.example.com.", dns.RcodeServerFailure, 30*time.Second)
	kp.Restart(t)
	waitRcode(t, r.addr, "host1.example.com.", dns.RcodeSuccess, 30*time.Second)
}

// ourPrimary is dns/primary on an in-memory store.
type ourPrimary struct {
	addr  netip.AddrPort
	p     *primary.Primary
	store kv.Store
}

func startOurPrimary(t *testing.T, key tsig.Key, zone string, notify netip.AddrPort) *ourPrimary {
	store := mem.New()
	o := &ourPrimary{store: store}
	o.put(t, "example.com._keys", key.Record()+"\n", "example.com", zone)
	p, err := primary.New(context.Background(), primary.Config{
		Store: store, AlsoNotify: []netip.AddrPort{notify},
		Logger: slog.New(slog.NewTextHandler(&syncBuf{}, nil)), Registry: prometheus.NewRegistry(),
	})
	if err != nil {
		t.Fatal(err)
	}
	o.p = p
	pc, ln, err := server.Listen("127.0.0.1:0", 0)
	if err != nil {
		t.Fatal(err)
	}
	o.addr = netip.MustParseAddrPort(pc.LocalAddr().String())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Serve(ctx, pc, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return o
}

func (o *ourPrimary) put(t testing.TB, files ...string) {
	_, err := o.store.Batch(context.Background(), kv.Commit{Message: "test"}, func(tx kv.Txn) error {
		for i := 0; i < len(files); i += 2 {
			if err := tx.Put(files[i], []byte(files[i+1])); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (o *ourPrimary) SetZone(t testing.TB, text string) {
	o.put(t, "example.com", text)
	if err := o.p.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
}
