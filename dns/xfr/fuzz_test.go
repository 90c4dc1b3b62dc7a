package xfr

import (
	"testing"

	"github.com/miekg/dns"
)

// FuzzCollect feeds the answer records of arbitrary messages to the
// transfer parser and applies what it collects to a small zone: neither
// may panic, and a finished IXFR must yield a zone that starts with its
// SOA.
func FuzzCollect(f *testing.F) {
	soa := func(serial uint32) *dns.SOA {
		return &dns.SOA{Hdr: dns.RR_Header{Name: "example.com.", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 300},
			Ns: "ns1.example.com.", Mbox: "h.example.com.", Serial: serial, Refresh: 1, Retry: 1, Expire: 3, Minttl: 300}
	}
	a := &dns.A{Hdr: dns.RR_Header{Name: "www.example.com.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300}, A: []byte{192, 0, 2, 1}}
	b := &dns.A{Hdr: dns.RR_Header{Name: "www.example.com.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300}, A: []byte{192, 0, 2, 2}}
	for _, rrs := range [][]dns.RR{
		{soa(2), soa(1), a, soa(2), b, soa(2)}, // IXFR
		{soa(2), a, soa(2)},                    // AXFR
		{soa(1)},                               // up to date
		{soa(3), soa(1), soa(2), b, soa(2), soa(3), soa(3)},
	} {
		m := new(dns.Msg)
		m.Answer = rrs
		raw, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	base := []dns.RR{soa(1), a}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m := new(dns.Msg)
		if m.Unpack(raw) != nil {
			return
		}
		c := &collector{op: "IXFR", origin: "example.com.", have: soa(1)}
		if c.add(m.Answer) != nil || !c.done || c.steps == nil {
			return
		}
		out, err := Apply(base, c.steps)
		if err != nil {
			return
		}
		if _, ok := out[0].(*dns.SOA); !ok {
			t.Fatalf("applied zone starts with %v", out[0])
		}
	})
}
