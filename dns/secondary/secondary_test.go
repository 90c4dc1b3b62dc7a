package secondary_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/quercus-dev/quercus/dns/authority"
	"github.com/quercus-dev/quercus/dns/secondary"
	"github.com/quercus-dev/quercus/dns/server"
	"github.com/quercus-dev/quercus/dns/tsig"
	"github.com/quercus-dev/quercus/dns/xfr"
	"github.com/quercus-dev/quercus/internal/dnstest"
	"github.com/quercus-dev/quercus/internal/zonetest"
)

// fakeClock is a clock that moves only when told. After reports on
// blocked each time the zone goroutines are about to wait, so that a test
// knows they have done what the time it set made due.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
	blocked chan struct{}
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

func newClock() *fakeClock {
	// Near the real time: TSIG is checked against both clocks.
	return &fakeClock{now: time.Now(), blocked: make(chan struct{}, 1000)}
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, waiter{c.now.Add(d), ch})
	c.blocked <- struct{}{}
	return ch
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	var left []waiter
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			left = append(left, w)
		} else {
			w.ch <- c.now
		}
	}
	c.waiters = left
}

// idle waits until the zone goroutine waits again.
func (c *fakeClock) idle(t *testing.T) {
	t.Helper()
	select {
	case <-c.blocked:
	case <-time.After(20 * time.Second): // a hang guard, not a timing assertion
		t.Fatal("the secondary did not come back to wait")
	}
}

// step moves the clock and waits for the secondary to act on it.
func (c *fakeClock) step(t *testing.T, d time.Duration) {
	t.Helper()
	c.Advance(d)
	c.idle(t)
}

const zoneText = `$ORIGIN example.com.
$TTL 300
@    SOA ns1 hostmaster %d 10 5 30 300
@    NS  ns1
ns1  A   192.0.2.53
www  A   192.0.2.%d
%s
`

func version(t testing.TB, serial int, extra string) *authority.Zone {
	t.Helper()
	return zonetest.Zone(t, "example.com.", fmt.Sprintf(zoneText, serial, serial, extra))
}

// fakePrimary is our wire server with a journal; down makes it refuse
// everything, as if it had gone away.
type fakePrimary struct {
	addr    netip.AddrPort
	key     tsig.Key
	zone    atomic.Pointer[authority.Zone]
	down    atomic.Bool
	journal xfr.Journal
}

func startPrimary(t *testing.T, z *authority.Zone) *fakePrimary {
	key, err := tsig.Generate("127.0.0.1.127.0.0.1._transfer.example.com", "hmac-sha256", nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &fakePrimary{key: key}
	p.zone.Store(z)
	keys := tsig.NewKeyring(key)
	p.addr = netip.MustParseAddrPort(dnstest.Serve(t, server.Config{
		Zones: func() *authority.Set {
			if p.down.Load() {
				return authority.NewSet()
			}
			return authority.NewSet(p.zone.Load())
		},
		Keys:     func() *tsig.Keyring { return keys },
		Transfer: &p.journal,
	}))
	return p
}

func (p *fakePrimary) change(next *authority.Zone) {
	p.journal.Record("example.com.", p.zone.Load().Records(), next.Records())
	p.zone.Store(next)
}

type fixture struct {
	p       *fakePrimary
	s       *secondary.Secondary
	clock   *fakeClock
	reg     *prometheus.Registry
	addr    string // the secondary's DNS
	changes chan uint32
}

func start(t *testing.T, z *authority.Zone) *fixture {
	f := &fixture{p: startPrimary(t, z), clock: newClock(), reg: prometheus.NewRegistry(), changes: make(chan uint32, 10)}
	f.s = runSecondary(t, f.clock, secondary.Config{
		Zones:    []secondary.ZoneConfig{{Origin: "example.com", Primary: f.p.addr, Key: &f.p.key}},
		OnChange: func(z *authority.Zone) { f.changes <- z.SOA().Serial },
		Registry: f.reg,
	})
	f.addr = serveDNS(t, f.s)
	f.clock.idle(t) // the first transfer is done
	return f
}

// runSecondary makes a quiet secondary of cfg on clock and runs it until
// the test ends.
func runSecondary(t *testing.T, clock *fakeClock, cfg secondary.Config) *secondary.Secondary {
	cfg.Now, cfg.After = clock.Now, clock.After
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := secondary.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return s
}

// serveDNS has s answer DNS on loopback until the test ends, at the
// address it returns.
func serveDNS(t *testing.T, s *secondary.Secondary) string {
	pc, ln, err := server.Listen("127.0.0.1:0", 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Serve(ctx, pc, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return pc.LocalAddr().String()
}

func (f *fixture) answer(name string) (int, []dns.RR) {
	r := f.s.Zones().Answer(dns.Question{Name: name, Qtype: dns.TypeA, Qclass: dns.ClassINET})
	return r.Rcode, r.Answer
}

func (f *fixture) serial(t *testing.T) uint32 {
	t.Helper()
	z := f.s.Zones().Zone("example.com.")
	if z == nil {
		t.Fatal("example.com not served")
	}
	return z.SOA().Serial
}

// counter reads a series of the registry by all its labels.
func (f *fixture) counter(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if v, ok := labels[l.GetName()]; ok && v != l.GetValue() {
					continue series
				}
			}
			return m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return 0
}

// notify sends the secondary a NOTIFY signed with key.
func (f *fixture) notify(t *testing.T, key tsig.Key) int {
	t.Helper()
	m := new(dns.Msg)
	m.SetNotify("example.com.")
	p := &tsig.Provider{Keys: func() *tsig.Keyring { return tsig.NewKeyring(key) }}
	if key.Name != "" {
		if err := p.SignRequest(m, key.Name); err != nil {
			t.Fatal(err)
		}
	}
	r, _, err := (&dns.Client{TsigProvider: p, Timeout: 5 * time.Second}).Exchange(m, f.addr)
	if r == nil {
		t.Fatal(err)
	}
	return r.Rcode
}

func TestNotifyBringsIXFR(t *testing.T) {
	f := start(t, version(t, 1, ""))
	if got := <-f.changes; got != 1 {
		t.Fatalf("first transfer: serial %d", got)
	}
	if n := f.counter(t, "quercus_dns_secondary_transfers_total", map[string]string{"kind": "axfr", "result": "ok"}); n != 1 {
		t.Errorf("AXFRs: %v, want 1", n)
	}

	f.p.change(version(t, 2, "new A 192.0.2.99"))
	if rcode := f.notify(t, f.p.key); rcode != dns.RcodeSuccess {
		t.Fatalf("NOTIFY: %s", dns.RcodeToString[rcode])
	}
	f.clock.idle(t)
	if got := <-f.changes; got != 2 {
		t.Fatalf("after NOTIFY: serial %d", got)
	}
	if n := f.counter(t, "quercus_dns_secondary_transfers_total", map[string]string{"kind": "ixfr", "result": "ok"}); n != 1 {
		t.Errorf("IXFRs: %v, want 1", n)
	}
	if rcode, ans := f.answer("new.example.com."); rcode != dns.RcodeSuccess || len(ans) != 1 {
		t.Errorf("new record: %s %v", dns.RcodeToString[rcode], ans)
	}

	// The primary's unsigned NOTIFY counts too, as in Knot and BIND:
	// the SOA query and transfer it prompts are signed.
	f.p.change(version(t, 3, "new A 192.0.2.99\nnewer A 192.0.2.98"))
	if rcode := f.notify(t, tsig.Key{}); rcode != dns.RcodeSuccess {
		t.Fatalf("unsigned NOTIFY from the primary: %s", dns.RcodeToString[rcode])
	}
	f.clock.idle(t)
	if got := <-f.changes; got != 3 {
		t.Fatalf("after unsigned NOTIFY: serial %d", got)
	}

	// A NOTIFY with a key that has no right on the zone changes nothing.
	stranger, _ := tsig.Generate("x._notify.example.org", "hmac-sha256", nil)
	if rcode := f.notify(t, stranger); rcode != dns.RcodeNotAuth {
		t.Errorf("NOTIFY with an unknown key: %s, want NOTAUTH", dns.RcodeToString[rcode])
	}

	// Our own secondaries get IXFR from the journal.
	res, err := (&xfr.Client{}).Transfer(context.Background(), xfr.Request{
		Zone: "example.com", Server: netip.MustParseAddrPort(f.addr), Key: &f.p.key, Have: version(t, 1, ""),
	})
	if err != nil || res.Kind != xfr.IXFR || res.SOA.Serial != 3 {
		t.Fatalf("IXFR out: %v, %v", res, err)
	}
}

func TestRefreshRetryExpire(t *testing.T) {
	f := start(t, version(t, 1, "")) // refresh 10, retry 5, expire 30
	<-f.changes

	// Refresh: a new serial comes without a NOTIFY.
	f.p.change(version(t, 2, ""))
	f.clock.Advance(9 * time.Second) // nothing due yet
	if f.serial(t) != 1 {
		t.Fatal("refreshed before the refresh time")
	}
	f.clock.step(t, time.Second)
	if got := <-f.changes; got != 2 {
		t.Fatalf("after refresh: serial %d", got)
	}

	// The primary goes away: answers go on until expire, 30s after the
	// refresh at 10s: failed checks at 20 (refresh), 25, 30 and 35 (retry).
	f.p.down.Store(true)
	for _, d := range []time.Duration{10, 5, 5, 5} {
		f.clock.step(t, d*time.Second)
		if rcode, _ := f.answer("www.example.com."); rcode != dns.RcodeSuccess {
			t.Fatalf("before expire: %s", dns.RcodeToString[rcode])
		}
	}
	f.clock.step(t, 5*time.Second)
	if rcode, _ := f.answer("www.example.com."); rcode != dns.RcodeServerFailure {
		t.Fatalf("past expire: %s, want SERVFAIL", dns.RcodeToString[rcode])
	}
	if f.counter(t, "quercus_dns_secondary_expired", nil) != 1 {
		t.Error("expired metric not set")
	}
	// An expired zone is not transferred further.
	if _, err := (&xfr.Client{}).Transfer(context.Background(), xfr.Request{
		Zone: "example.com", Server: netip.MustParseAddrPort(f.addr), Key: &f.p.key,
	}); err == nil {
		t.Error("an expired zone was transferred")
	}

	// The primary is back: the next retry brings the zone back.
	f.p.down.Store(false)
	f.clock.step(t, 5*time.Second)
	if rcode, _ := f.answer("www.example.com."); rcode != dns.RcodeSuccess {
		t.Fatalf("after the primary came back: %s", dns.RcodeToString[rcode])
	}
	if f.counter(t, "quercus_dns_secondary_expired", nil) != 0 {
		t.Error("expired metric still set")
	}
}

func TestInvalidZoneRejected(t *testing.T) {
	f := start(t, version(t, 1, ""))
	<-f.changes
	// A CNAME beside other data: the checks of dns/zone refuse it.
	f.p.change(version(t, 2, "www CNAME ns1"))
	if rcode := f.notify(t, f.p.key); rcode != dns.RcodeSuccess {
		t.Fatalf("NOTIFY: %s", dns.RcodeToString[rcode])
	}
	f.clock.idle(t)
	if f.serial(t) != 1 {
		t.Fatalf("serial %d served, want the old 1", f.serial(t))
	}
	if n := f.counter(t, "quercus_dns_secondary_transfers_total", map[string]string{"result": "rejected"}); n != 1 {
		t.Errorf("rejected transfers: %v, want 1", n)
	}
	// Fixed on the primary: the retry takes it.
	f.p.change(version(t, 3, ""))
	f.clock.step(t, 5*time.Second)
	if got := <-f.changes; got != 3 {
		t.Fatalf("after the fix: serial %d", got)
	}
}

// wait is how long from now the earliest waiter waits.
func (c *fakeClock) wait(t *testing.T) time.Duration {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.waiters) == 0 {
		t.Fatal("no one waits")
	}
	at := c.waiters[0].at
	for _, w := range c.waiters {
		if w.at.Before(at) {
			at = w.at
		}
	}
	return at.Sub(c.now)
}

// TestNeverTransferredBackoff: a zone whose primary never gives it is
// tried again after Config.Retry, then twice as long each time, up to
// ten minutes, so that many zones that cannot be had (a catalog's
// members its primary does not serve) do not keep their primary busy.
func TestNeverTransferredBackoff(t *testing.T) {
	p := startPrimary(t, version(t, 1, ""))
	p.down.Store(true)
	clock, reg := newClock(), prometheus.NewRegistry()
	runSecondary(t, clock, secondary.Config{
		Zones:    []secondary.ZoneConfig{{Origin: "example.com", Primary: p.addr, Key: &p.key}},
		Registry: reg,
	})
	clock.idle(t) // the first attempt failed

	var waits []string
	for range 8 {
		d := clock.wait(t)
		waits = append(waits, d.String())
		clock.step(t, d)
	}
	if got, want := strings.Join(waits, " "), "10s 20s 40s 1m20s 2m40s 5m20s 10m0s 10m0s"; got != want {
		t.Errorf("waits between attempts: %s, want %s", got, want)
	}
	f := &fixture{reg: reg}
	if n := f.counter(t, "quercus_dns_secondary_transfers_total", map[string]string{"zone": "example.com.", "kind": "axfr", "result": "error"}); n != 9 {
		t.Errorf("%v failed transfers, want 9", n)
	}
}
