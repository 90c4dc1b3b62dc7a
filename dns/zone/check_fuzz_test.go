package zone

import (
	"net"
	"reflect"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// Zones for comparing Check with checkReference are made of these owners
// and records, picked by the fuzzer's bytes: few enough that names, RRsets
// and records repeat, and each of Check's problems can arise.
var (
	fuzzOwners = []string{
		"@", "www", "WWW", "mail", "ns1", "ns2", "sub", "ns.sub", "x", "X.example.com.",
		"www.example.com", "host.example.net.", "example.com.net.", "*.w", "a\\.b", "\\088",
	}
	fuzzRecords = []string{
		"SOA ns1 hostmaster 1 7200 3600 1209600 300",
		"NS ns1", "NS ns2", "NS ns.sub", "NS ns.example.net.", "NS ns1.example.com",
		"A 192.0.2.1", "A 192.0.2.2", "300 A 192.0.2.1", "AAAA 2001:db8::1",
		"CNAME www", "CNAME example.net.", "CNAME host.example.com",
		"MX 10 mail", "MX 10 mail.example.com", "TXT x", "TXT \"x\"", "600 TXT y",
		"CH TXT hello", "SRV 0 0 1 www", "PTR www", "DNAME x.example.com",
		"RRSIG A 8 3 300 20300101000000 20200101000000 1 example.com. AAAA",
		"RRSIG TXT 8 3 600 20300101000000 20200101000000 1 example.com. AAAA",
		"RRSIG CNAME 8 3 600 20300101000000 20200101000000 1 example.com. AAAA",
		"NSEC x A CNAME", "TYPE65280 \\# 1 ab", "TYPE65281 \\# 1 ab",
	}
)

// fuzzZone returns a zone file with a record for each pair of bytes of b.
func fuzzZone(b []byte) string {
	var s strings.Builder
	for i := 0; i+1 < len(b); i += 2 {
		s.WriteString(fuzzOwners[int(b[i])%len(fuzzOwners)])
		s.WriteByte(' ')
		s.WriteString(fuzzRecords[int(b[i+1])%len(fuzzRecords)])
		s.WriteByte('\n')
	}
	return s.String()
}

// FuzzCheck compares Check with checkReference, the code it replaced:
// the same problems, in the same order.
func FuzzCheck(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 4, 6})
	f.Add([]byte{0, 0, 0, 1, 0, 0, 1, 10, 2, 6, 1, 6, 9, 7, 8, 8, 8, 6, 8, 22, 8, 23, 8, 17, 7, 18})
	f.Add([]byte{0, 0, 0, 5, 10, 6, 11, 6, 12, 6, 14, 12, 15, 13, 3, 3, 13, 26, 13, 27, 13, 26, 1, 24})
	f.Fuzz(func(t *testing.T, b []byte) {
		src := fuzzZone(b)
		for _, origin := range []string{"example.com.", "."} {
			z, err := Parse(origin, []byte(src))
			if err != nil {
				t.Fatalf("zone:\n%s\n%v", src, err)
			}
			got, want := Check(z), checkReference(z)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("zone %s:\n%s\nCheck:\n%v\ncheckReference:\n%v", origin, src, got, want)
			}
		}
	})
}

// TestCheckMatchesReference runs FuzzCheck's comparison on zones of many
// records, past the RRset count where Check looks RRsets up in a map.
func TestCheckMatchesReference(t *testing.T) {
	for _, seed := range []int{1, 7, 31} {
		b := make([]byte, 2000)
		x := uint32(seed)
		for i := range b {
			x = x*1664525 + 1013904223
			b[i] = byte(x >> 24)
		}
		src := fuzzZone(b)
		// and one name with every record type at once
		for _, r := range fuzzRecords {
			src += "many " + r + "\n"
		}
		z := mustParse(t, "example.com", src)
		if got, want := Check(z), checkReference(z); !reflect.DeepEqual(got, want) {
			t.Errorf("seed %d: Check:\n%v\ncheckReference:\n%v", seed, got, want)
		}
	}
}

// Names too long for the wire make records too long, whatever their type.
func TestCheckLongNamesMatchReference(t *testing.T) {
	long := strings.Repeat("a.", 20000) + "example.com."
	z := mustParse(t, "example.com", base)
	h := dns.RR_Header{Name: long, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 1}
	z.Records = append(z.Records,
		&dns.A{Hdr: h, A: net.IP{192, 0, 2, 1}},
		&dns.CNAME{Hdr: dns.RR_Header{Name: "x.example.com.", Rrtype: dns.TypeCNAME, Class: dns.ClassINET}, Target: long + long},
		&dns.MX{Hdr: h, Mx: long},
	)
	got, want := Check(z), checkReference(z)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Check:\n%v\ncheckReference:\n%v", got, want)
	}
	if len(got) == 0 {
		t.Error("no problems")
	}
}
