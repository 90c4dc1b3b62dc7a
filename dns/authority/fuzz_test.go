package authority

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// FuzzAnswer asks random questions of a fixed set of zones: no panic, and
// every result is self-consistent.
func FuzzAnswer(f *testing.F) {
	s := testSet(f)
	for _, tt := range answerTests {
		q := question(f, tt.q)
		f.Add(q.Name, q.Qtype, q.Qclass)
	}
	for _, tt := range setTests {
		q := question(f, tt.q)
		f.Add(q.Name, q.Qtype, q.Qclass)
	}
	for _, name := range []string{"", ".", "example.com", `a\.www.example.com.`, `\\.www.example.com.`,
		"..example.com.", "*.example.com.", strings.Repeat("a.", 120) + "example.com.", "ÉXAMPLE.com."} {
		f.Add(name, dns.TypeA, uint16(dns.ClassINET))
	}

	f.Fuzz(func(t *testing.T, name string, qtype, qclass uint16) {
		q := dns.Question{Name: name, Qtype: qtype, Qclass: qclass}
		r := s.Answer(q)
		if z := s.Find(name); z != nil {
			zr := z.Answer(q) // must not panic either
			if zr.Authoritative && zr.Rcode == dns.RcodeRefused {
				t.Errorf("Zone.Answer: AA on REFUSED")
			}
		} else if r.Rcode != dns.RcodeRefused {
			t.Fatalf("no zone for %q, but rcode %s", name, dns.RcodeToString[r.Rcode])
		}
		if r.Rcode == dns.RcodeRefused {
			if r.Authoritative || len(r.Answer)+len(r.Ns)+len(r.Extra) > 0 {
				t.Fatalf("REFUSED with AA or records: %+v", r)
			}
			return
		}

		// Every answer record is for the query name or a name the chain
		// led to; a DNAME's owner is an ancestor of such a name.
		names := []string{lower(dns.Fqdn(name))}
		for _, rr := range r.Answer {
			owner := lower(rr.Header().Name)
			ok := false
			for _, n := range names {
				if owner == n || (rr.Header().Rrtype == dns.TypeDNAME && within(n, owner)) {
					ok = true
				}
			}
			if !ok {
				t.Fatalf("answer %v: owner is not on the chain %q", rr, names)
			}
			if c, isCNAME := rr.(*dns.CNAME); isCNAME {
				names = append(names, lower(c.Target))
			}
			switch rr.Header().Rrtype {
			case qtype, dns.TypeCNAME, dns.TypeDNAME:
			default:
				if qtype != dns.TypeANY {
					t.Fatalf("answer %v to a %s question", rr, dns.TypeToString[qtype])
				}
			}
		}
		if len(names) > maxChain+2 {
			t.Fatalf("chain of %d names", len(names))
		}

		switch {
		case r.Rcode == dns.RcodeNameError:
			// Only the chain that led to the missing name (RFC 6604).
			for _, rr := range r.Answer {
				if typ := rr.Header().Rrtype; typ != dns.TypeCNAME && typ != dns.TypeDNAME {
					t.Fatalf("NXDOMAIN with data %v", rr)
				}
			}
			if len(r.Ns) != 1 || r.Ns[0].Header().Rrtype != dns.TypeSOA {
				t.Fatalf("NXDOMAIN without the SOA: %v", r.Ns)
			}
		case !r.Authoritative:
			// A referral: NS records only, no answer.
			if len(r.Answer) > 0 || len(r.Ns) == 0 {
				t.Fatalf("non-authoritative answer is not a referral: %+v", r)
			}
			for _, rr := range r.Ns {
				if rr.Header().Rrtype != dns.TypeNS {
					t.Fatalf("referral with %v", rr)
				}
			}
		case r.Rcode == dns.RcodeSuccess && len(r.Answer) == 0:
			if len(r.Ns) != 1 || r.Ns[0].Header().Rrtype != dns.TypeSOA {
				t.Fatalf("NODATA without the SOA: %v", r.Ns)
			}
		}
	})
}
