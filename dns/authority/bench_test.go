package authority

import (
	"fmt"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// benchZone is a zone of 10,000 hosts plus a wildcard, a CNAME, an MX and
// a delegation.
func benchZone(b *testing.B) *Zone {
	var s strings.Builder
	s.WriteString(`$ORIGIN example.com.
$TTL 3600
@       SOA   ns1 hostmaster 1 7200 900 1209600 300
@       NS    ns1
@       MX    10 host1
ns1     A     192.0.2.53
*.wild  TXT   "wild"
alias   CNAME host42
sub     NS    ns.sub
ns.sub  A     192.0.2.54
`)
	for i := range 10000 {
		fmt.Fprintf(&s, "host%d A 10.%d.%d.%d\n", i, i>>16, i>>8&0xff, i&0xff)
	}
	return mustZone(b, "example.com.", s.String())
}

func BenchmarkAnswer(b *testing.B) {
	z := benchZone(b)
	for _, bb := range []struct{ name, q string }{
		{"hit", "host5000.example.com. A"},
		{"hit-mixed-case", "HOST5000.Example.com. A"},
		{"nodata", "host5000.example.com. AAAA"},
		{"nxdomain", "a.b.nope.example.com. A"},
		{"wildcard", "a.b.wild.example.com. TXT"},
		{"cname", "alias.example.com. A"},
		{"mx-additional", "example.com. MX"},
		{"referral", "www.sub.example.com. A"},
	} {
		q := question(b, bb.q)
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if r := z.Answer(q); r.Rcode == dns.RcodeRefused {
					b.Fatal("refused")
				}
			}
		})
	}
	b.Run("hit-parallel", func(b *testing.B) {
		q := question(b, "host5000.example.com. A")
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				z.Answer(q)
			}
		})
	})
}

func BenchmarkNew(b *testing.B) {
	rrs := benchZone(b).Records()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New("example.com.", rrs); err != nil {
			b.Fatal(err)
		}
	}
}
