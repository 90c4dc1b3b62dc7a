package xfr_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/authority"
	"github.com/quercus-dev/quercus/dns/server"
	"github.com/quercus-dev/quercus/dns/tsig"
	"github.com/quercus-dev/quercus/dns/xfr"
	"github.com/quercus-dev/quercus/internal/dnstest"
	"github.com/quercus-dev/quercus/internal/zonetest"
)

var ctx = context.Background()

// version returns example.com at serial with n hosts, host0 to host(n-1).
func version(t testing.TB, serial, n int) *authority.Zone {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "$ORIGIN example.com.\n$TTL 300\n@ SOA ns1 hostmaster %d 3600 900 1209600 300\n@ NS ns1\nns1 A 192.0.2.53\n", serial)
	for i := range n {
		fmt.Fprintf(&b, "host%d A 192.0.2.%d\n", i, i%250)
	}
	return zonetest.Zone(t, "example.com.", b.String())
}

func texts(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		out = append(out, rr.String())
	}
	slices.Sort(out)
	return out
}

type primary struct {
	addr    netip.AddrPort
	key     tsig.Key
	zone    atomic.Pointer[authority.Zone]
	journal *xfr.Journal
}

// serve runs our wire server with the zone and a journal as its IXFR source.
func serve(t *testing.T, z *authority.Zone) *primary {
	key, err := tsig.Generate("127.0.0.1.127.0.0.1._transfer.example.com", "hmac-sha256", nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &primary{key: key, journal: &xfr.Journal{}}
	p.zone.Store(z)
	keys := tsig.NewKeyring(key)
	addr := dnstest.Serve(t, server.Config{
		Zones:    func() *authority.Set { return authority.NewSet(p.zone.Load()) },
		Keys:     func() *tsig.Keyring { return keys },
		Transfer: p.journal,
	})
	p.addr = netip.MustParseAddrPort(addr)
	return p
}

// change serves next, journaled.
func (p *primary) change(next *authority.Zone) {
	p.journal.Record("example.com.", p.zone.Load().Records(), next.Records())
	p.zone.Store(next)
}

func TestTransfers(t *testing.T) {
	v1, v2, v3 := version(t, 1, 600), version(t, 2, 610), version(t, 3, 590)
	p := serve(t, v1)
	c := &xfr.Client{}
	req := xfr.Request{Zone: "example.com", Server: p.addr, Key: &p.key}

	soa, err := c.SOA(ctx, req)
	if err != nil || soa.Serial != 1 {
		t.Fatalf("SOA: %v, %v", soa, err)
	}
	res, err := c.Transfer(ctx, req) // no version held: AXFR
	if err != nil {
		t.Fatal(err)
	}
	if res.Kind != xfr.AXFR || !slices.Equal(texts(res.Records), texts(v1.Records())) {
		t.Fatalf("AXFR: %s with %d records, want %d", res.Kind, len(res.Records), len(v1.Records()))
	}

	req.Have = v1
	if res, err := c.Transfer(ctx, req); err != nil || res.Kind != xfr.UpToDate {
		t.Fatalf("IXFR at the current serial: %v, %v", res, err)
	}

	p.change(v2)
	p.change(v3)
	res, err = c.Transfer(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Kind != xfr.IXFR || len(res.Steps) != 2 || !slices.Equal(texts(res.Records), texts(v3.Records())) {
		t.Fatalf("IXFR over two steps: %s, %d steps, %d records", res.Kind, len(res.Steps), len(res.Records))
	}
	if res.Records[0].(*dns.SOA).Serial != 3 {
		t.Errorf("IXFR result starts with %v", res.Records[0])
	}

	// A serial the journal does not know: the whole zone in the IXFR.
	req.Have = version(t, 0, 3)
	if res, err := c.Transfer(ctx, req); err != nil || res.Kind != xfr.AXFR || len(res.Records) != len(v3.Records()) {
		t.Fatalf("IXFR from an unknown serial: %v, %v", res, err)
	}

	// A zone of its SOA alone (SOA, SOA on the wire) is that one record,
	// whether asked by AXFR or by an IXFR the primary cannot answer.
	bare, err := authority.New("example.com.", []dns.RR{version(t, 5, 0).SOA()})
	if err != nil {
		t.Fatal(err)
	}
	p.zone.Store(bare)
	for _, have := range []*authority.Zone{nil, v1} {
		req.Have = have
		res, err := c.Transfer(ctx, req)
		if err != nil || res.Kind != xfr.AXFR || len(res.Records) != 1 || res.Records[0].(*dns.SOA).Serial != 5 {
			t.Fatalf("a zone of its SOA alone, holding %v: %v, %v", have != nil, res, err)
		}
	}
}

func TestTransferErrors(t *testing.T) {
	p := serve(t, version(t, 1, 2000))
	wrong, _ := tsig.Generate(p.key.Name, "hmac-sha256", nil)
	tests := []struct {
		name   string
		client xfr.Client
		req    xfr.Request
		check  func(error) bool
	}{
		{"unsigned", xfr.Client{}, xfr.Request{Zone: "example.com", Server: p.addr},
			func(err error) bool {
				var re *xfr.RcodeError
				return errors.As(err, &re) && re.Rcode == dns.RcodeRefused
			}},
		{"wrong secret", xfr.Client{}, xfr.Request{Zone: "example.com", Server: p.addr, Key: &wrong},
			func(err error) bool {
				var re *xfr.RcodeError
				return errors.As(err, &re) && re.Rcode == dns.RcodeNotAuth && !re.Signed
			}},
		{"zone not served", xfr.Client{}, xfr.Request{Zone: "example.org", Server: p.addr, Key: &p.key},
			func(err error) bool {
				var re *xfr.RcodeError
				return errors.As(err, &re) && re.Rcode == dns.RcodeNotAuth
			}},
		{"too large", xfr.Client{MaxBytes: 10_000}, xfr.Request{Zone: "example.com", Server: p.addr, Key: &p.key},
			func(err error) bool { return errors.Is(err, xfr.ErrTooLarge) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.client.Transfer(ctx, tc.req)
			if !tc.check(err) {
				t.Fatalf("got %v", err)
			}
		})
	}
}

func TestApply(t *testing.T) {
	parse := func(s string) dns.RR {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		return rr
	}
	soa := func(serial int) *dns.SOA {
		return parse(fmt.Sprintf("example.com. 300 SOA ns1.example.com. h.example.com. %d 1 1 3 300", serial)).(*dns.SOA)
	}
	zone := []dns.RR{soa(1), parse("example.com. 300 NS ns1.example.com."), parse("www.example.com. 300 A 192.0.2.1")}
	tests := []struct {
		name  string
		steps []xfr.Step
		want  []string
		err   string
	}{
		{"delete in other case and TTL, add", []xfr.Step{{From: soa(1), To: soa(2),
			Removed: []dns.RR{parse("WWW.example.com. 60 A 192.0.2.1")},
			Added:   []dns.RR{parse("www.example.com. 300 A 192.0.2.2")}}},
			[]string{"example.com.\t300\tIN\tNS\tns1.example.com.", "www.example.com.\t300\tIN\tA\t192.0.2.2"}, ""},
		{"new TTL", []xfr.Step{{From: soa(1), To: soa(2),
			Added: []dns.RR{parse("www.example.com. 60 A 192.0.2.1")}}},
			[]string{"example.com.\t300\tIN\tNS\tns1.example.com.", "www.example.com.\t60\tIN\tA\t192.0.2.1"}, ""},
		{"delete what is not there", []xfr.Step{{From: soa(1), To: soa(2),
			Removed: []dns.RR{parse("www.example.com. 300 A 192.0.2.9")}}}, nil, "does not hold"},
		{"wrong start", []xfr.Step{{From: soa(5), To: soa(6)}}, nil, "zone is at 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := xfr.Apply(zone, tc.steps)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got[0].(*dns.SOA).Serial != 2 || !slices.Equal(texts(got[1:]), tc.want) {
				t.Fatalf("got %v", got)
			}
		})
	}
}
