package update

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// FuzzApply feeds UPDATE messages unpacked from random bytes, seeded with
// the table cases, to Apply: it must not panic, must change neither the
// zone nor the message, and a NOERROR plan must keep the zone sound.
func FuzzApply(f *testing.F) {
	for _, tc := range cases {
		if b, err := tc.request().Pack(); err == nil {
			f.Add(b)
		}
	}
	zone := testZone(f)
	before := strings.Join(texts(zone), "\n")
	f.Fuzz(func(t *testing.T, b []byte) {
		req := new(dns.Msg)
		if err := req.Unpack(b); err != nil {
			return
		}
		reqText := req.String()
		p, rcode, err := Apply(origin, zone, req)
		if strings.Join(texts(zone), "\n") != before || req.String() != reqText {
			t.Fatal("Apply changed its input")
		}
		if rcode != dns.RcodeSuccess {
			if err == nil || !p.Empty() {
				t.Fatalf("rcode %d with error %v and plan %v", rcode, err, p)
			}
			return
		}
		if err != nil {
			t.Fatalf("NOERROR with error %v", err)
		}
		for _, d := range p.Delete {
			if !contains(zone, d) {
				t.Fatalf("deletes a record not in the zone: %s", d)
			}
		}
		for _, a := range p.Add {
			if contains(zone, a) {
				t.Fatalf("adds a record already in the zone: %s", a)
			}
		}
		res := Result(zone, p)
		if err := checkZone(res); err != nil {
			t.Fatalf("%v\nplan:\n%s", err, Describe(p))
		}
		if len(res) != len(zone)-len(p.Delete)+len(p.Add) {
			t.Fatalf("Result has %d records, want %d", len(res), len(zone)-len(p.Delete)+len(p.Add))
		}
	})
}

// contains reports whether rrs holds a record identical to rr.
func contains(rrs []dns.RR, rr dns.RR) bool {
	k := nameKey(rr.Header().Name)
	for _, r := range rrs {
		if nameKey(r.Header().Name) == k && identical(r, rr) {
			return true
		}
	}
	return false
}
