package notify_test

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/quercus-dev/quercus/dns/authority"
	"github.com/quercus-dev/quercus/dns/ixfr"
	"github.com/quercus-dev/quercus/dns/notify"
	"github.com/quercus-dev/quercus/dns/server"
	"github.com/quercus-dev/quercus/dns/tsig"
	"github.com/quercus-dev/quercus/dns/zone"
	"github.com/quercus-dev/quercus/internal/dnstest"
	"github.com/quercus-dev/quercus/internal/peer"
	"github.com/quercus-dev/quercus/kv"
	"github.com/quercus-dev/quercus/kv/mem"
)

// counted counts the incremental answers of an IXFRSource.
type counted struct {
	server.IXFRSource
	n atomic.Int64
}

func (c *counted) IXFR(z *authority.Zone, serial uint32) ([]dns.RR, bool) {
	rrs, ok := c.IXFRSource.IXFR(z, serial)
	if ok {
		c.n.Add(1)
	}
	return rrs, ok
}

const knotZone = `$TTL 300
@    SOA ns1 hostmaster %d 3600 900 1209600 300
@    NS  ns1
ns1  A   127.0.0.1
%s`

// knotd, as a secondary of our primary, gets our signed NOTIFY and
// transfers the change by IXFR from our history.
func TestKnotSecondary(t *testing.T) {
	peer.Require(t, "knotd", "kdig")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// The primary: a store, the zone served from its head, IXFR from its
	// history, and a key for the secondary at 127.0.0.1.
	store := mem.New()
	commit := func(serial uint32, body string) *authority.Zone {
		src := fmt.Sprintf(knotZone, serial, body)
		if _, err := store.Batch(ctx, kv.Commit{Message: fmt.Sprint("serial ", serial)}, func(tx kv.Txn) error {
			return tx.Put("example.com", []byte(src))
		}); err != nil {
			t.Fatal(err)
		}
		z, err := zone.Parse("example.com.", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		a, err := authority.New("example.com.", z.Records)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	var zones atomic.Pointer[authority.Set]
	zones.Store(authority.NewSet(commit(1, "www A 192.0.2.1\nold A 192.0.2.2\n")))
	xfr := key(t, "127.0.0.1.127.0.0.1._transfer.example.com.")
	keys := tsig.NewKeyring(xfr)
	src := &counted{IXFRSource: &ixfr.Source{Store: store}}
	primary := netip.MustParseAddrPort(dnstest.Serve(t, server.Config{Zones: zones.Load, Keys: func() *tsig.Keyring { return keys }, Transfer: src}))

	// The secondary.
	knot := peer.StartKnotSecondary(t, peer.KnotSecondary{
		Zone:    "example.com",
		Primary: primary,
		KeyName: xfr.Name, Secret: xfr.Secret,
	})
	peer.WaitSerial(t, knot, "example.com", 1, 15*time.Second) // the first transfer is AXFR: knot has nothing

	// A change, notified.
	zones.Store(authority.NewSet(commit(2, "www A 192.0.2.9\nnew AAAA 2001:db8::1\n")))
	reg := prometheus.NewRegistry()
	n := &notify.Notifier{Keys: func() *tsig.Keyring { return keys }, Port: int(knot.Port()), Logger: testLogger(t), Metrics: notify.NewMetrics(reg)}
	n.Notify(ctx, zones.Load().Zone("example.com."), nil)
	n.Wait()
	if c := dnstest.Metric(t, reg, "quercus_dns_notifies_total", "result", notify.Answered); c != 1 {
		t.Fatalf("knotd did not answer the notify")
	}
	peer.WaitSerial(t, knot, "example.com", 2, 15*time.Second)

	if src.n.Load() != 1 {
		t.Errorf("%d incremental transfers, want 1", src.n.Load())
	}
	for name, want := range map[string]int{"www.example.com.": 1, "new.example.com.": 1, "old.example.com.": 0} {
		r := ask(t, knot.String(), name, dns.TypeANY)
		if len(r.Answer) != want {
			t.Errorf("knotd has %v for %s, want %d records", r.Answer, name, want)
		}
	}
	if r := ask(t, knot.String(), "www.example.com.", dns.TypeA); len(r.Answer) != 1 || !strings.Contains(r.Answer[0].String(), "192.0.2.9") {
		t.Errorf("knotd answers %v for www", r.Answer)
	}
}

func ask(t testing.TB, addr, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	c := &dns.Client{Timeout: 2 * time.Second}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("ask knotd: %v", err)
	}
	return r
}
