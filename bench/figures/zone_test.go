package main

import (
	"bytes"
	"testing"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/zone"
)

// The generated zone is what dns-primary accepts: exactly n records, no
// problems, and the probe among them. Generating it twice gives the same
// bytes.
func TestWriteZone(t *testing.T) {
	const n = 103
	var a, b bytes.Buffer
	probe, err := writeZone(&a, zoneName(0), n)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := writeZone(&b, zoneName(0), n); err != nil || !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatalf("second zone differs (%v)", err)
	}
	z, err := zone.Parse(zoneName(0), a.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(z.Records) != n {
		t.Errorf("%d records, want %d", len(z.Records), n)
	}
	if p := zone.Check(z); len(p) > 0 {
		t.Errorf("problems: %v", p)
	}
	want, err := dns.NewRR(probe)
	if err != nil {
		t.Fatal(err)
	}
	types := map[uint16]int{}
	found := false
	for _, rr := range z.Records {
		types[rr.Header().Rrtype]++
		found = found || dns.IsDuplicate(rr, want)
	}
	if !found {
		t.Errorf("probe %q not in the zone", probe)
	}
	for _, typ := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeCNAME, dns.TypeMX, dns.TypeTXT} {
		if types[typ] < n/5-1 {
			t.Errorf("%d %s records, want about %d", types[typ], dns.TypeToString[typ], n/5)
		}
	}
	if _, err := writeZone(&a, zoneName(0), 3); err == nil {
		t.Error("a zone of 3 records: no error")
	}
}
