package secondary_test

import (
	"context"
	"fmt"
	"net"
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

const catalogName = "catalog.invalid."

// catalogZone is a catalog at serial with version and members given as
// "id zone" pairs.
func catalogZone(t testing.TB, serial int, version string, members ...string) *authority.Zone {
	return namedCatalog(t, catalogName, serial, version, members...)
}

// namedCatalog is catalogZone at name; a member "id zone coo" has a
// coo property.
func namedCatalog(t testing.TB, name string, serial int, version string, members ...string) *authority.Zone {
	var b strings.Builder
	fmt.Fprintf(&b, "$ORIGIN %s\n$TTL 0\n@ SOA invalid. invalid. %d 10 5 30 0\n@ NS invalid.\n", name, serial)
	if version != "" {
		fmt.Fprintf(&b, "version TXT %q\n", version)
	}
	for _, m := range members {
		f := strings.Fields(m)
		fmt.Fprintf(&b, "%s.zones PTR %s\n", f[0], f[1])
		if len(f) > 2 {
			fmt.Fprintf(&b, "coo.%s.zones PTR %s\n", f[0], f[2])
		}
	}
	return zonetest.Zone(t, name, b.String())
}

// memberZone is a small zone at origin; www's address says the serial.
func memberZone(t testing.TB, origin string, serial int) *authority.Zone {
	return zonetest.Zone(t, origin, fmt.Sprintf("$ORIGIN %s\n$TTL 300\n@ SOA ns1 hostmaster %d 10 5 30 300\n@ NS ns1\nns1 A 192.0.2.53\nwww A 192.0.2.%d\n", origin, serial, serial))
}

// multiPrimary serves any zones, with one key for all of them.
type multiPrimary struct {
	addr  netip.AddrPort
	key   tsig.Key
	zones atomic.Pointer[authority.Set]
}

func startMultiPrimary(t *testing.T, zones ...*authority.Zone) *multiPrimary {
	// A key for every zone, as a catalog's key must be for its members'
	// signed NOTIFYs to count.
	key, err := tsig.Generate("catalog._transfer", dns.HmacSHA256, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &multiPrimary{key: key}
	p.zones.Store(authority.NewSet(zones...))
	keys := tsig.NewKeyring(key)
	p.addr = netip.MustParseAddrPort(dnstest.Serve(t, server.Config{
		Zones: p.zones.Load,
		Keys:  func() *tsig.Keyring { return keys },
	}))
	return p
}

func (p *multiPrimary) set(z *authority.Zone) { p.zones.Store(p.zones.Load().With(z)) }

type catalogFixture struct {
	p       *multiPrimary
	s       *secondary.Secondary
	clock   *fakeClock
	reg     *prometheus.Registry
	addr    string
	changes chan string // "zone serial" of each member transfer
}

// startCatalog runs a secondary of the catalog and of the zones given
// explicitly, and waits until waits goroutines have settled.
func startCatalog(t *testing.T, p *multiPrimary, explicit []string, waits int) *catalogFixture {
	return startCatalogs(t, p, explicit, []string{catalogName}, waits)
}

func startCatalogs(t *testing.T, p *multiPrimary, explicit, catalogs []string, waits int) *catalogFixture {
	return startCatalogsWith(t, p, explicit, catalogs, waits, nil)
}

// startCatalogsWith is startCatalogs with tune, if not nil, changing the
// secondary's Config first.
func startCatalogsWith(t *testing.T, p *multiPrimary, explicit, catalogs []string, waits int, tune func(*secondary.Config)) *catalogFixture {
	f := &catalogFixture{p: p, clock: newClock(), reg: prometheus.NewRegistry(), changes: make(chan string, 100)}
	var zones []secondary.ZoneConfig
	for _, z := range explicit {
		zones = append(zones, secondary.ZoneConfig{Origin: z, Primary: p.addr, Key: &p.key})
	}
	var cats []secondary.ZoneConfig
	for _, c := range catalogs {
		cats = append(cats, secondary.ZoneConfig{Origin: c, Primary: p.addr, Key: &p.key})
	}
	cfg := secondary.Config{
		Zones:    zones,
		Catalogs: cats,
		OnChange: func(z *authority.Zone) { f.changes <- fmt.Sprintf("%s %d", z.Origin(), z.SOA().Serial) },
		Registry: f.reg,
	}
	if tune != nil {
		tune(&cfg)
	}
	f.s = runSecondary(t, f.clock, cfg)
	f.addr = serveDNS(t, f.s)
	f.settle(t, waits)
	return f
}

// settle waits until n zone goroutines have come back to wait: the
// catalog, and each member it started or that was due.
func (f *catalogFixture) settle(t *testing.T, n int) {
	t.Helper()
	for range n {
		f.clock.idle(t)
	}
}

// served lists the zones served, catalog aside, as "zone serial".
func (f *catalogFixture) served() string {
	var out []string
	for _, z := range f.s.Zones().Zones() {
		if !strings.HasSuffix(z.Origin(), ".invalid.") { // catalogs
			out = append(out, fmt.Sprintf("%s %d", z.Origin(), z.SOA().Serial))
		}
	}
	return strings.Join(out, ", ")
}

func (f *catalogFixture) notify(t *testing.T, zone string) {
	t.Helper()
	m := new(dns.Msg)
	m.SetNotify(zone)
	p := &tsig.Provider{Keys: func() *tsig.Keyring { return tsig.NewKeyring(f.p.key) }}
	if err := p.SignRequest(m, f.p.key.Name); err != nil {
		t.Fatal(err)
	}
	r, _, err := (&dns.Client{TsigProvider: p, Timeout: 5 * time.Second}).Exchange(m, f.addr)
	if err != nil || r.Rcode != dns.RcodeSuccess {
		t.Fatalf("NOTIFY %s: %v %v", zone, r, err)
	}
}

func (f *catalogFixture) gauge(t *testing.T, name string) float64 {
	return f.gaugeOf(t, name, catalogName)
}

func (f *catalogFixture) gaugeOf(t *testing.T, name, catalog string) float64 {
	return (&fixture{reg: f.reg}).counter(t, name, map[string]string{"catalog": catalog})
}

func query(t *testing.T, addr, name string, qtype uint16) int {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	r, _, err := (&dns.Client{Timeout: 5 * time.Second}).Exchange(m, addr)
	if err != nil {
		t.Fatal(err)
	}
	return r.Rcode
}

// TestCatalogMembers follows a catalog through its versions: members
// come and go, a broken version changes nothing, a member whose unique
// id changes is transferred afresh, and a zone given explicitly stays
// whatever the catalog says of it.
func TestCatalogMembers(t *testing.T) {
	p := startMultiPrimary(t,
		catalogZone(t, 1, "2", "m1 a.example.", "m2 b.example.", "m3 x.example."),
		memberZone(t, "a.example.", 1), memberZone(t, "b.example.", 1),
		memberZone(t, "c.example.", 1), memberZone(t, "x.example.", 1))
	// x.example (explicit) and the catalog, then its members a and b.
	f := startCatalog(t, p, []string{"x.example"}, 4)
	if got, want := f.served(), "a.example. 1, b.example. 1, x.example. 1"; got != want {
		t.Fatalf("served: %s, want %s", got, want)
	}
	if n := f.gauge(t, "quercus_dns_secondary_catalog_members"); n != 2 {
		t.Errorf("members metric: %v, want 2 (x.example is configured)", n)
	}
	// The catalog itself is not answered, nor transferred.
	if rc := query(t, f.addr, "version."+catalogName, dns.TypeTXT); rc != dns.RcodeServerFailure {
		t.Errorf("catalog query: %s, want SERVFAIL", dns.RcodeToString[rc])
	}
	if _, err := (&xfr.Client{}).Transfer(context.Background(), xfr.Request{
		Zone: catalogName, Server: netip.MustParseAddrPort(f.addr), Key: &p.key,
	}); err == nil {
		t.Error("the catalog was transferred out")
	}
	if rc := query(t, f.addr, "www.a.example.", dns.TypeA); rc != dns.RcodeSuccess {
		t.Errorf("member query: %s", dns.RcodeToString[rc])
	}

	// b and x leave the catalog, c comes: the catalog and c settle.
	p.set(catalogZone(t, 2, "2", "m1 a.example.", "m4 c.example."))
	f.notify(t, catalogName)
	f.settle(t, 2)
	if got, want := f.served(), "a.example. 1, c.example. 1, x.example. 1"; got != want {
		t.Fatalf("after removing b and x: %s, want %s", got, want)
	}
	if rc := query(t, f.addr, "www.b.example.", dns.TypeA); rc != dns.RcodeRefused {
		t.Errorf("removed member: %s, want REFUSED", dns.RcodeToString[rc])
	}

	// Broken versions keep the last good member set.
	for i, broken := range []*authority.Zone{
		catalogZone(t, 3, "", "m1 a.example."),                   // no version
		catalogZone(t, 4, "1", "m1 a.example."),                  // old schema
		catalogZone(t, 5, "2", "m1 a.example.", "m9 a.example."), // a twice
	} {
		p.set(broken)
		f.clock.step(t, 10*time.Second) // the refresh: the catalog checks...
		f.settle(t, 3)                  // ...as do a, c and x, due at the same time
		if got, want := f.served(), "a.example. 1, c.example. 1, x.example. 1"; got != want {
			t.Fatalf("broken version %d: %s, want %s", i, got, want)
		}
		if n := f.gauge(t, "quercus_dns_secondary_catalog_broken"); n != 1 {
			t.Errorf("broken version %d: broken metric %v, want 1", i, n)
		}
	}

	// Good again, with a's unique id changed: a is transferred afresh
	// (a new serial shows it), c is gone.
	p.set(memberZone(t, "a.example.", 2))
	p.set(catalogZone(t, 6, "2", "m5 a.example."))
	f.notify(t, catalogName)
	f.settle(t, 2) // the catalog and the new a
	if got, want := f.served(), "a.example. 2, x.example. 1"; got != want {
		t.Fatalf("after a's id changed: %s, want %s", got, want)
	}
	if n := f.gauge(t, "quercus_dns_secondary_catalog_broken"); n != 0 {
		t.Errorf("broken metric %v, want 0", n)
	}
	if n := f.gauge(t, "quercus_dns_secondary_catalog_members"); n != 1 {
		t.Errorf("members metric: %v, want 1", n)
	}

	// A member's NOTIFY, signed with the catalog's key, is heard.
	for len(f.changes) > 0 {
		<-f.changes
	}
	p.set(memberZone(t, "a.example.", 3))
	f.notify(t, "a.example.")
	f.settle(t, 1)
	if got := <-f.changes; got != "a.example. 3" {
		t.Fatalf("after the member's NOTIFY: %s", got)
	}
}

// TestCatalogOwnership: a zone listed by two catalogs stays with the one
// that has it, until its coo property hands it to the other; it is then transferred afresh, and the first catalog dropping
// it changes nothing.
func TestCatalogOwnership(t *testing.T) {
	const cat1, cat2 = "one.invalid.", "two.invalid."
	p := startMultiPrimary(t, namedCatalog(t, cat1, 1, "2", "m1 a.example."), namedCatalog(t, cat2, 1, "2"),
		memberZone(t, "a.example.", 1))
	f := startCatalogs(t, p, nil, []string{cat1, cat2}, 3) // both catalogs and a
	owners := func() string {
		return fmt.Sprintf("%v %v", f.gaugeOf(t, "quercus_dns_secondary_catalog_members", cat1), f.gaugeOf(t, "quercus_dns_secondary_catalog_members", cat2))
	}
	drain := func() {
		for len(f.changes) > 0 {
			<-f.changes
		}
	}
	drain()

	p.set(namedCatalog(t, cat2, 2, "2", "n1 a.example."))
	f.notify(t, cat2)
	f.settle(t, 1)
	if got := owners(); got != "1 0" {
		t.Fatalf("listed by both: members of each %s, want 1 0 (the first keeps it)", got)
	}

	p.set(memberZone(t, "a.example.", 2))
	p.set(namedCatalog(t, cat1, 2, "2", "m1 a.example. "+cat2))
	f.notify(t, cat1)
	f.settle(t, 2) // cat1 and a, started afresh
	if got := owners(); got != "0 1" {
		t.Fatalf("after coo: members of each %s, want 0 1", got)
	}
	if got := <-f.changes; got != "a.example. 2" {
		t.Fatalf("after coo: %s, want a transferred afresh at serial 2", got)
	}

	p.set(namedCatalog(t, cat1, 3, "2"))
	f.notify(t, cat1)
	f.settle(t, 1)
	if got, want := f.served(), "a.example. 2"; got != want || len(f.changes) > 0 {
		t.Fatalf("after the old catalog dropped it: %s (%d transfers), want %s and none", got, len(f.changes), want)
	}

	p.set(namedCatalog(t, cat2, 3, "2"))
	f.notify(t, cat2)
	f.settle(t, 1)
	if got := f.served(); got != "" {
		t.Fatalf("after the new catalog dropped it: %s served", got)
	}
}

// TestCatalogTransfersBounded: a catalog listing many new zones does not
// open a transfer for each at once, but Config.MaxTransfers.
func TestCatalogTransfersBounded(t *testing.T) {
	const members, limit = 12, 3
	var list []string
	zones := map[string]*authority.Zone{}
	for i := range members {
		name := fmt.Sprintf("z%d.example.", i)
		list = append(list, fmt.Sprintf("m%d %s", i, name))
		zones[name] = memberZone(t, name, 1)
	}
	zones[catalogName] = catalogZone(t, 1, "2", list...)

	hp := startHoldingPrimary(t, zones)
	arrived, release := hp.arrived, hp.release
	clock := newClock()
	s := runSecondary(t, clock, secondary.Config{
		Catalogs:     []secondary.ZoneConfig{{Origin: catalogName, Primary: hp.addr}},
		MaxTransfers: limit,
	})

	arrive := func() {
		select {
		case <-arrived:
		case <-time.After(20 * time.Second): // a hang guard
			t.Fatal("a member transfer never came")
		}
	}
	// The first transfers take every slot; once the catalog has started
	// every member, each one let go lets one more in.
	for range limit {
		arrive()
	}
	clock.idle(t)
	for range members - limit {
		release <- struct{}{}
		arrive()
	}
	for range limit {
		release <- struct{}{}
	}
	for range members {
		clock.idle(t)
	}
	hp.mu.Lock()
	defer hp.mu.Unlock()
	if most := hp.most; most > limit {
		t.Errorf("%d member transfers at once, want at most %d", most, limit)
	}
	if got := len(s.Zones().Zones()); got != members+1 {
		t.Errorf("%d zones served, want %d members and the catalog", got, members)
	}
}

// TestCatalogMemberLimit: a catalog version listing more members than
// Config.MaxMembers is taken as broken: no member of it is started, the
// last good member set stays, and the broken metric says so.
func TestCatalogMemberLimit(t *testing.T) {
	p := startMultiPrimary(t,
		catalogZone(t, 1, "2", "m1 a.example.", "m2 b.example.", "m3 c.example."),
		memberZone(t, "a.example.", 1), memberZone(t, "b.example.", 1), memberZone(t, "c.example.", 1))
	f := startCatalogsWith(t, p, nil, []string{catalogName}, 1, func(c *secondary.Config) { c.MaxMembers = 2 })
	if got := f.served(); got != "" {
		t.Fatalf("over the limit from the start: %s served, want none", got)
	}
	if n := f.gauge(t, "quercus_dns_secondary_catalog_broken"); n != 1 {
		t.Errorf("over the limit: broken metric %v, want 1", n)
	}

	p.set(catalogZone(t, 2, "2", "m1 a.example.", "m2 b.example."))
	f.notify(t, catalogName)
	f.settle(t, 3) // the catalog, a and b
	if got, want := f.served(), "a.example. 1, b.example. 1"; got != want {
		t.Fatalf("at the limit: %s, want %s", got, want)
	}

	// Over the limit again: the last good member set stays.
	p.set(catalogZone(t, 3, "2", "m1 a.example.", "m3 c.example.", "m4 d.example."))
	f.notify(t, catalogName)
	f.settle(t, 1)
	if got, want := f.served(), "a.example. 1, b.example. 1"; got != want {
		t.Fatalf("over the limit: %s, want the last good set %s", got, want)
	}
	if n := f.gauge(t, "quercus_dns_secondary_catalog_broken"); n != 1 {
		t.Errorf("over the limit: broken metric %v, want 1", n)
	}
	if n := f.gauge(t, "quercus_dns_secondary_catalog_members"); n != 2 {
		t.Errorf("over the limit: members metric %v, want 2", n)
	}
}

// holdingPrimary serves zones by AXFR and IXFR (always the whole zone);
// each transfer of a zone other than the catalog waits to be let go.
type holdingPrimary struct {
	addr     netip.AddrPort
	arrived  chan struct{} // one a member transfer begun
	release  chan struct{} // lets one go
	mu       sync.Mutex
	inflight int
	most     int // the most member transfers at once
}

func startHoldingPrimary(t *testing.T, zones map[string]*authority.Zone) *holdingPrimary {
	hp := &holdingPrimary{arrived: make(chan struct{}, len(zones)), release: make(chan struct{})}
	mux := dns.NewServeMux()
	mux.HandleFunc(".", func(w dns.ResponseWriter, r *dns.Msg) {
		z := zones[dns.CanonicalName(r.Question[0].Name)]
		if z == nil || r.Question[0].Qtype != dns.TypeAXFR && r.Question[0].Qtype != dns.TypeIXFR {
			m := new(dns.Msg)
			w.WriteMsg(m.SetRcode(r, dns.RcodeRefused))
			return
		}
		if z.Origin() != catalogName {
			hp.mu.Lock()
			hp.inflight++
			hp.most = max(hp.most, hp.inflight)
			hp.mu.Unlock()
			hp.arrived <- struct{}{}
			<-hp.release
			hp.mu.Lock()
			hp.inflight-- // before the answer that frees the client's slot
			hp.mu.Unlock()
		}
		rrs := append(z.Records(), z.SOA())
		ch := make(chan *dns.Envelope, 1)
		ch <- &dns.Envelope{RR: rrs}
		close(ch)
		(&dns.Transfer{}).Out(w, r, ch)
		w.Hijack()
		w.Close()
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{Listener: ln, Handler: mux}
	go srv.ActivateAndServe()
	t.Cleanup(func() {
		close(hp.release) // lets any transfer still held go
		srv.Shutdown()
	})
	hp.addr = netip.MustParseAddrPort(ln.Addr().String())
	return hp
}

// TestCatalogRefreshNotStarved: members waiting for their first transfer
// take every transfer slot, yet the catalog's own refresh (and so its
// expiry, and its next member set) does not wait behind them.
func TestCatalogRefreshNotStarved(t *testing.T) {
	zones := map[string]*authority.Zone{
		catalogName:  catalogZone(t, 1, "2", "m1 a.example.", "m2 b.example."),
		"a.example.": memberZone(t, "a.example.", 1),
		"b.example.": memberZone(t, "b.example.", 1),
	}
	hp := startHoldingPrimary(t, zones)
	clock := newClock()
	s := runSecondary(t, clock, secondary.Config{
		Catalogs:     []secondary.ZoneConfig{{Origin: catalogName, Primary: hp.addr}},
		MaxTransfers: 1,
		Client:       &xfr.Client{Timeout: time.Hour}, // the held transfer stays held
	})

	select {
	case <-hp.arrived: // one member holds the only slot, the other waits for it
	case <-time.After(20 * time.Second): // a hang guard
		t.Fatal("no member transfer came")
	}
	clock.idle(t) // the catalog, after its first transfer
	// Its refresh (10 s) is done though the slot is still held.
	clock.step(t, 10*time.Second)
	if z := s.Zones().Zone(catalogName); z == nil {
		t.Fatal("catalog not held")
	}
}

// TestCatalogOwnershipLoop: two catalogs listing a zone, each with a coo
// property handing it to the other, do not pass it back and forth (and
// transfer it afresh) at every refresh: it stays where it is.
func TestCatalogOwnershipLoop(t *testing.T) {
	const cat1, cat2 = "one.invalid.", "two.invalid."
	p := startMultiPrimary(t, namedCatalog(t, cat1, 1, "2", "m1 a.example."), namedCatalog(t, cat2, 1, "2"),
		memberZone(t, "a.example.", 1))
	f := startCatalogs(t, p, nil, []string{cat1, cat2}, 3) // both catalogs and a
	<-f.changes
	owners := func() string {
		return fmt.Sprintf("%v %v", f.gaugeOf(t, "quercus_dns_secondary_catalog_members", cat1), f.gaugeOf(t, "quercus_dns_secondary_catalog_members", cat2))
	}
	for i, c := range []*authority.Zone{
		namedCatalog(t, cat2, 2, "2", "n1 a.example. "+cat1),
		namedCatalog(t, cat1, 2, "2", "m1 a.example. "+cat2),
		namedCatalog(t, cat2, 3, "2", "n1 a.example. "+cat1),
		namedCatalog(t, cat1, 3, "2", "m1 a.example. "+cat2),
	} {
		p.set(c)
		f.notify(t, c.Origin())
		f.settle(t, 1)
		if got := owners(); got != "1 0" || len(f.changes) > 0 {
			t.Fatalf("version %d: members of each %s (%d transfers), want 1 0 and none", i, got, len(f.changes))
		}
	}
}
