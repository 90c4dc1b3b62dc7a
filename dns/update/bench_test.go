package update

import (
	"fmt"
	"testing"

	"github.com/miekg/dns"
)

// BenchmarkApply adds one record to a zone of 100,000 records.
func BenchmarkApply(b *testing.B) {
	zone := rrs(soa100, ns1, ns2)
	for i := range 100000 {
		zone = append(zone, rrs(fmt.Sprintf("h%d.example.com. 3600 IN A 192.0.2.%d", i, i%256))...)
	}
	req := new(dns.Msg)
	req.SetUpdate(origin)
	req.Insert(rrs(new50))
	for b.Loop() {
		p, _, _ := Apply(origin, zone, req)
		Result(zone, p)
	}
}
