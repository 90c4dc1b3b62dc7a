package issuer_test

import (
	"context"
	"crypto/x509"
	"log/slog"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/quercus-dev/quercus/certify"
	"github.com/quercus-dev/quercus/certify/issuer"
	"github.com/quercus-dev/quercus/dns/authority"
	"github.com/quercus-dev/quercus/dns/primary"
	"github.com/quercus-dev/quercus/dns/primary/primarytest"
	"github.com/quercus-dev/quercus/dns/secondary"
	"github.com/quercus-dev/quercus/dns/server"
	"github.com/quercus-dev/quercus/dns/tsig"
	"github.com/quercus-dev/quercus/internal/dnstest"
	"github.com/quercus-dev/quercus/internal/peer"
	"github.com/quercus-dev/quercus/kv"
	"github.com/quercus-dev/quercus/kv/mem"
)

const zoneFile = `$ORIGIN example.com.
$TTL 300
@    SOA ns1 hostmaster 1 3600 900 1209600 300
     NS  ns1
ns1  A   127.0.0.1
`

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.off) }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

func nonBlocking(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// startPrimary serves example.com from an in-memory store and returns its
// address, an update key and the transfer key naming 127.0.0.1 as a
// secondary, which the primary notifies at notifyPort.
func startPrimary(t *testing.T, notifyPort uint16) (string, tsig.Key, tsig.Key) {
	t.Helper()
	ctx := context.Background()
	key, err := tsig.Generate("acme._update.example.com.", dns.HmacSHA256, nil)
	if err != nil {
		t.Fatal(err)
	}
	notifyKey, err := tsig.Generate("127.0.0.1.127.0.0.1._transfer.example.com.", dns.HmacSHA256, nil)
	if err != nil {
		t.Fatal(err)
	}
	store := mem.New()
	_, err = store.Batch(ctx, kv.Commit{Message: "test zone"}, func(tx kv.Txn) error {
		if err := tx.Put("example.com", []byte(zoneFile)); err != nil {
			return err
		}
		return tx.Put("example.com._keys", []byte(key.Record()+"\n"+notifyKey.Record()+"\n"))
	})
	if err != nil {
		t.Fatal(err)
	}
	_, addr := primarytest.Start(t, primary.Config{Store: store, NotifyPort: int(notifyPort), Logger: testLogger(t)})
	return addr, key, notifyKey
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("test", t.Name())
	}
	return slog.New(slog.DiscardHandler)
}

// TestPebble: CSRs published with certify.Obtain get certificates from
// Pebble through our primary, for several names with a wildcard, and a
// certificate near its end is replaced while the issuer runs.
func TestPebble(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// dns-acme listens first, so that the primary can notify it.
	pc, ln, err := server.Listen("127.0.0.1:0", 0)
	if err != nil {
		t.Fatal(err)
	}
	acmeAddr := netip.MustParseAddrPort(pc.LocalAddr().String())
	primaryAddr, key, notifyKey := startPrimary(t, acmeAddr.Port())
	pebble := peer.StartPebble(t, peer.PebbleConfig{DNSServer: primaryAddr})
	roots := pebble.Roots(t)

	clk := &clock{}
	reg := prometheus.NewRegistry()
	srv := &certify.Server{Addr: primaryAddr, Key: key}
	var iss *issuer.Issuer
	changed := make(chan struct{}, 1)
	sec, err := secondary.New(secondary.Config{
		Zones:    []secondary.ZoneConfig{{Origin: "example.com", Primary: netip.MustParseAddrPort(primaryAddr), Key: &notifyKey}},
		OnChange: func(*authority.Zone) { nonBlocking(changed) },
		Logger:   testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	iss, err = issuer.New(issuer.Config{
		Source: issuer.SourceFunc(func() *authority.Zone { return sec.Zones().Zone("example.com.") }),
		Server: srv, Directory: pebble.Directory, HTTPClient: pebble.HTTPClient,
		Email: "ops@example.com", Now: clk.Now, Logger: testLogger(t), Registry: reg,
		// The secondary serves the zone: the challenges must reach it.
		Check: []netip.AddrPort{acmeAddr},
	})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() { sec.Run(ctx) })
	wg.Go(func() { sec.Serve(ctx, pc, ln) })
	wg.Go(func() { iss.Run(ctx) })
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-changed:
				iss.Changed()
			}
		}
	})

	obtain := func(key *certify.Cert, names ...string) *certify.Cert {
		t.Helper()
		octx, ocancel := context.WithTimeout(ctx, 2*time.Minute)
		defer ocancel()
		cfg := certify.Config{Server: *srv, Hostnames: names, Roots: roots, Poll: 100 * time.Millisecond, Now: clk.Now, Logger: testLogger(t)}
		if key != nil {
			cfg.Key = key.Key
		}
		c, err := certify.Obtain(octx, cfg)
		if err != nil {
			t.Fatalf("Obtain %v: %v", names, err)
		}
		return c
	}
	verify := func(c *certify.Cert, hosts ...string) {
		t.Helper()
		inter := x509.NewCertPool()
		for _, x := range c.Chain[1:] {
			inter.AddCert(x)
		}
		for _, h := range hosts {
			if _, err := c.Chain[0].Verify(x509.VerifyOptions{DNSName: h, Roots: roots, Intermediates: inter}); err != nil {
				t.Errorf("certificate for %s: %v", h, err)
			}
		}
	}

	// Two hosts at once: one with several names and a wildcard.
	var web, api *certify.Cert
	var owg sync.WaitGroup
	owg.Go(func() { web = obtain(nil, "example.com", "*.example.com", "www.example.com") })
	owg.Go(func() { api = obtain(nil, "api.example.com") })
	owg.Wait()
	if t.Failed() {
		return
	}
	verify(web, "example.com", "www.example.com", "anything.example.com")
	verify(api, "api.example.com")
	// The issuer counts a certificate once its UPDATE is answered, which
	// may be just after Obtain saw it.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		got := dnstest.Metric(t, reg, "quercus_acme_certificates_issued_total", "", "")
		if got == 2 {
			break
		}
		if got > 2 || time.Now().After(deadline) {
			t.Fatalf("issued %v certificates, want 2", got)
		}
	}
	if txt, err := srv.Lookup(ctx, "_acme-challenge.example.com.", dns.TypeTXT); err != nil || len(txt) != 0 {
		t.Errorf("challenge records left behind: %v %v", txt, err)
	}

	// Asked again with the same key, Obtain returns what is published.
	again := obtain(web, "example.com", "*.example.com", "www.example.com")
	if !again.Chain[0].Equal(web.Chain[0]) {
		t.Errorf("Obtain with a published certificate got a new one")
	}

	// 70 days on, 20 days are left of 90: the issuer renews both.
	clk.Add(70 * 24 * time.Hour)
	iss.Changed()
	for _, c := range []struct {
		cert  *certify.Cert
		host  string // where the records are, and a name to verify
		names []string
	}{
		{web, "example.com", []string{"*.example.com", "example.com", "www.example.com"}},
		{api, "api.example.com", []string{"api.example.com"}},
	} {
		deadline := time.Now().Add(2 * time.Minute)
		for {
			p, err := srv.Published(ctx, c.host)
			if err != nil {
				t.Fatal(err)
			}
			chain := p.Chain(c.cert.Key.Public(), c.names)
			if chain != nil && !chain[0].Equal(c.cert.Chain[0]) {
				// Pebble's clock is the real one: the new certificate
				// differs, it does not end later.
				verify(&certify.Cert{Chain: chain}, c.host)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not renewed", c.host)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}
