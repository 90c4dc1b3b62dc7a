package authority

import (
	"flag"
	"fmt"
	"net"
	"runtime"
	"strconv"
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

var benchNames = flag.Int("names", 20000, "names in the zone of BenchmarkNewMillion (1000000 for the figure of issue 8)")

// workloadRecords returns the records of bench/dns's workload zone of n
// names (A, AAAA, CNAME, MX and TXT in turn), built directly rather than
// parsed: as the parser does, every record gets its own owner string.
func workloadRecords(n int) []dns.RR {
	const origin = "bench.example."
	hdr := func(name string, t uint16) dns.RR_Header {
		return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: 3600}
	}
	rrs := []dns.RR{
		&dns.SOA{Hdr: hdr(origin, dns.TypeSOA), Ns: "ns1." + origin, Mbox: "hostmaster." + origin,
			Serial: 1, Refresh: 7200, Retry: 3600, Expire: 1209600, Minttl: 300},
		&dns.NS{Hdr: hdr(origin, dns.TypeNS), Ns: "ns1." + origin},
		&dns.A{Hdr: hdr("ns1."+origin, dns.TypeA), A: net.IPv4(192, 0, 2, 1)},
	}
	host := func(i int) string { return "h" + strconv.Itoa(i) + "." + origin }
	for i := range n {
		name := host(i)
		switch i % 5 {
		case 0:
			rrs = append(rrs, &dns.A{Hdr: hdr(name, dns.TypeA), A: net.IPv4(10, byte(i>>16), byte(i>>8), byte(i))})
		case 1:
			rrs = append(rrs, &dns.AAAA{Hdr: hdr(name, dns.TypeAAAA), AAAA: net.ParseIP(fmt.Sprintf("2001:db8::%x:%x", i>>16, i&0xffff))})
		case 2:
			rrs = append(rrs, &dns.CNAME{Hdr: hdr(name, dns.TypeCNAME), Target: host(i - 2)})
		case 3:
			rrs = append(rrs, &dns.MX{Hdr: hdr(name, dns.TypeMX), Preference: 10, Mx: host(i - 3)})
		case 4:
			rrs = append(rrs, &dns.TXT{Hdr: hdr(name, dns.TypeTXT), Txt: []string{"v=bench record " + strconv.Itoa(i)}})
		}
	}
	return rrs
}

// BenchmarkNewMillion indexes the workload zone of -names names and
// reports what the index costs on the heap beside the records themselves
// (B/name), and the time per name. Issue 8's figure is for
// -names=1000000.
func BenchmarkNewMillion(b *testing.B) {
	rrs := workloadRecords(*benchNames)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	z, err := New("bench.example.", rrs)
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(z)
	z = nil
	heap := float64(after.HeapAlloc) - float64(before.HeapAlloc)

	b.ReportAllocs()
	for b.Loop() {
		if _, err := New("bench.example.", rrs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(heap/float64(*benchNames), "B/name")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(*benchNames), "ns/name")
}

// BenchmarkAnswerWorkload asks the workload zone of -names names for each
// name's data in turn, so that, with a large zone, lookups miss the CPU
// caches as a server's do.
func BenchmarkAnswerWorkload(b *testing.B) {
	z, err := New("bench.example.", workloadRecords(*benchNames))
	if err != nil {
		b.Fatal(err)
	}
	types := []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeA, dns.TypeMX, dns.TypeTXT}
	qs := make([]dns.Question, *benchNames)
	for i := range qs {
		j := i * 7919 % len(qs) // a stride, so that neighbours in the zone are not asked in a row
		qs[i] = dns.Question{Name: "h" + strconv.Itoa(j) + ".bench.example.", Qtype: types[j%5], Qclass: dns.ClassINET}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if r := z.Answer(qs[i]); r.Rcode != dns.RcodeSuccess {
			b.Fatal(r.Rcode)
		}
		i++
		if i == len(qs) {
			i = 0
		}
	}
}
