package workload

import (
	"bytes"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestZoneAndQueries: the zone parses, holds n names besides the apex
// and ns1, and the queries keep the announced mix.
func TestZoneAndQueries(t *testing.T) {
	const n = 100
	var b bytes.Buffer
	if err := Zone(&b, n); err != nil {
		t.Fatal(err)
	}
	zp := dns.NewZoneParser(&b, Origin, "")
	types := map[uint16]int{}
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		types[rr.Header().Rrtype]++
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	want := map[uint16]int{dns.TypeSOA: 1, dns.TypeNS: 1, dns.TypeA: n/5 + 1, dns.TypeAAAA: n / 5, dns.TypeCNAME: n / 5, dns.TypeMX: n / 5, dns.TypeTXT: n / 5}
	for typ, c := range want {
		if types[typ] != c {
			t.Errorf("%d %s records, want %d", types[typ], dns.TypeToString[typ], c)
		}
	}
	qs := Queries(n)
	nx, upper := 0, 0
	for _, q := range qs {
		if strings.HasPrefix(q.Name, "nx") {
			nx++
		}
		if q.Name != strings.ToLower(q.Name) {
			upper++
		}
		if _, ok := dns.StringToType[q.Type]; !ok {
			t.Errorf("query %v: unknown type", q)
		}
	}
	if len(qs) != n || nx != n/5 || upper != n/10 {
		t.Errorf("%d queries, %d NXDOMAIN, %d upper case; want %d, %d, %d", len(qs), nx, upper, n, n/5, n/10)
	}
}
