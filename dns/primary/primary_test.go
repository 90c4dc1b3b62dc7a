package primary_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/quercus-dev/quercus/dns/primary"
	"github.com/quercus-dev/quercus/internal/dnstest"
	"github.com/quercus-dev/quercus/kv"
	"github.com/quercus-dev/quercus/kv/mem"
)

var ctx = context.Background()

const goodZone = `$ORIGIN example.com.
$TTL 300
@    SOA ns1 hostmaster 1 3600 900 1209600 300
@    NS  ns1
ns1  A   192.0.2.53
www  A   192.0.2.1
`

const otherZone = `$ORIGIN example.org.
$TTL 300
@    SOA ns1.example.com. hostmaster 1 3600 900 1209600 300
@    NS  ns1.example.com.
www  A   198.51.100.1
`

type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }
func (l *logBuf) String() string              { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

func write(t *testing.T, s kv.Store, files ...string) {
	t.Helper()
	_, err := s.Batch(ctx, kv.Commit{Message: "test"}, func(tx kv.Txn) error {
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

func lookup(p *primary.Primary, name string, qtype uint16) []string {
	res := p.Zones().Answer(dns.Question{Name: name, Qtype: qtype, Qclass: dns.ClassINET})
	var out []string
	for _, rr := range res.Answer {
		out = append(out, strings.TrimPrefix(rr.String(), rr.Header().String()))
	}
	if res.Rcode != dns.RcodeSuccess {
		out = append(out, dns.RcodeToString[res.Rcode])
	}
	return out
}

func TestLoadsZonesAndKeepsLastGood(t *testing.T) {
	store := mem.New()
	write(t, store,
		"example.com", goodZone,
		"example.org", otherZone,
		"README.md", "# not a zone\n",
		"_keys", "ops._update.example.com. DNSKEY 0 3 163 "+strings.Repeat("A", 43)+"=\n",
	)
	var logs logBuf
	reg := prometheus.NewRegistry()
	p, err := primary.New(ctx, primary.Config{Store: store, Registry: reg, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(p.Zones().Zones()); n != 2 {
		t.Fatalf("serving %d zones, want 2 (README.md is not a zone)", n)
	}
	if got := lookup(p, "www.example.com.", dns.TypeA); len(got) != 1 || !strings.Contains(got[0], "192.0.2.1") {
		t.Fatalf("www.example.com = %v", got)
	}

	// A bad version of example.com: CNAME beside other data. The old one
	// stays served, example.org is untouched, the log and metrics say why.
	write(t, store, "example.com", strings.Replace(goodZone, "www  A   192.0.2.1", "www  A   192.0.2.9\nwww CNAME ns1", 1))
	if err := p.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := lookup(p, "www.example.com.", dns.TypeA); len(got) != 1 || !strings.Contains(got[0], "192.0.2.1") {
		t.Errorf("after a bad push www.example.com = %v, want the last good answer", got)
	}
	if got := lookup(p, "www.example.org.", dns.TypeA); len(got) != 1 {
		t.Errorf("a bad example.com took example.org down: %v", got)
	}
	if !strings.Contains(logs.String(), "still serving the previous version") || !strings.Contains(logs.String(), "CNAME") {
		t.Errorf("log does not say why:\n%s", logs.String())
	}
	if v := dnstest.Metric(t, reg, "quercus_dns_zone_rejected_total", "zone", "example.com"); v != 1 {
		t.Errorf("rejected counter = %v, want 1", v)
	}
	if v := dnstest.Metric(t, reg, "quercus_dns_zone_valid", "zone", "example.com"); v != 0 {
		t.Errorf("valid gauge = %v, want 0", v)
	}

	// Another commit elsewhere: the bad file is not judged (or counted)
	// again.
	write(t, store, "example.org", strings.Replace(otherZone, "198.51.100.1", "198.51.100.2", 1))
	if err := p.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if v := dnstest.Metric(t, reg, "quercus_dns_zone_rejected_total", "zone", "example.com"); v != 1 {
		t.Errorf("rejected counter = %v after an unrelated commit, want still 1", v)
	}

	// Fixed, with a new serial: served.
	write(t, store, "example.com", strings.Replace(strings.Replace(goodZone, "192.0.2.1", "192.0.2.2", 1), "hostmaster 1", "hostmaster 2", 1))
	p.Refresh(ctx)
	if got := lookup(p, "www.example.com.", dns.TypeA); len(got) != 1 || !strings.Contains(got[0], "192.0.2.2") {
		t.Errorf("after the fix www.example.com = %v", got)
	}

	// A zone file deleted: no longer served.
	store.Batch(ctx, kv.Commit{Message: "drop"}, func(tx kv.Txn) error { return tx.Delete("example.org") })
	p.Refresh(ctx)
	if got := lookup(p, "www.example.org.", dns.TypeA); len(got) != 1 || got[0] != "REFUSED" {
		t.Errorf("deleted zone answers %v, want REFUSED", got)
	}
}

func TestBadZoneNeverServed(t *testing.T) {
	store := mem.New()
	write(t, store, "example.com", "$ORIGIN example.com.\n@ 300 A 192.0.2.1\n", "example.org", otherZone)
	p, err := primary.New(ctx, primary.Config{Store: store, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if z := p.Zones().Zone("example.com."); z != nil {
		t.Error("a zone without SOA and NS is served")
	}
	if z := p.Zones().Zone("example.org."); z == nil {
		t.Error("the good zone beside it is not served")
	}
}

// TestSerialRaised: records changed without a serial increase are served
// only once the server has committed a raised serial.
func TestSerialRaised(t *testing.T) {
	store := mem.New()
	write(t, store, "example.com", goodZone)
	p, err := primary.New(ctx, primary.Config{Store: store, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	// Same serial (1), new address, and a comment that must survive.
	edited := strings.Replace(goodZone, "www  A   192.0.2.1", "; moved\nwww  A   192.0.2.7", 1)
	write(t, store, "example.com", edited)
	if err := p.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := lookup(p, "www.example.com.", dns.TypeA); len(got) != 1 || !strings.Contains(got[0], "192.0.2.7") {
		t.Errorf("www = %v, want the new address", got)
	}
	soa := p.Zones().Zone("example.com.").SOA()
	if soa.Serial <= 1 {
		t.Errorf("serial %d, want it raised above 1", soa.Serial)
	}
	b, _ := store.Get(ctx, "example.com")
	if want := strings.Replace(edited, "hostmaster 1 ", fmt.Sprintf("hostmaster %d ", soa.Serial), 1); string(b) != want {
		t.Errorf("committed file:\n%s\nwant only the serial changed:\n%s", b, want)
	}
	hist, _ := store.History(ctx, "example.com", 1)
	if len(hist) != 1 || hist[0].Author.Name != "dns-primary" || !strings.Contains(hist[0].Message, "raise serial 1 -> ") {
		t.Errorf("last commit %+v", hist)
	}
}

// TestKeysKeepLastGood: a broken key file keeps its previous keys, as a
// broken zone keeps its previous version.
func TestKeysKeepLastGood(t *testing.T) {
	store := mem.New()
	good := "ops._update.example.com. DNSKEY 0 3 163 " + strings.Repeat("A", 43) + "=\n"
	write(t, store, "example.com", goodZone, "example.com._keys", good)
	p, err := primary.New(ctx, primary.Config{Store: store, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Keys().Key("ops._update.example.com."); !ok {
		t.Fatal("key not loaded")
	}
	write(t, store, "example.com._keys", good+"new._update.example.com. DNSKEY 0 3 163 (broken\n")
	p.Refresh(ctx)
	if _, ok := p.Keys().Key("ops._update.example.com."); !ok {
		t.Error("a broken key file dropped the keys it had")
	}
	if _, ok := p.Keys().Key("new._update.example.com."); ok {
		t.Error("a key from the broken version is in force")
	}
	write(t, store, "example.com._keys", "new._update.example.com. DNSKEY 0 3 163 QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=\n")
	p.Refresh(ctx)
	_, oldOK := p.Keys().Key("ops._update.example.com.")
	_, newOK := p.Keys().Key("new._update.example.com.")
	if oldOK || !newOK {
		t.Errorf("after a good version: old key %v, new key %v; want only the new", oldOK, newOK)
	}
}
