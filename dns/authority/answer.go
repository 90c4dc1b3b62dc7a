package authority

import (
	"github.com/miekg/dns"
)

// maxChain bounds the CNAME and DNAME redirections followed for one
// question, as resolvers bound theirs; a loop ends the chain earlier.
const maxChain = 8

// Result is the answer to one question: what the wire server copies into
// its reply (RFC 1035 §4.1).
//
// The slices belong to the caller; the records they point to may be shared
// with the zone and other goroutines and must not be modified. Owner names
// are spelled as asked: a record found for the query name, or for one of
// its ancestors, carries the query's spelling, and a record found for a
// name taken from rdata (a CNAME, MX, SRV or NS target) carries the rdata's
// spelling. Rdata keeps the zone's spelling.
type Result struct {
	Rcode         int  // dns.RcodeSuccess, NameError, Refused or YXDomain
	Authoritative bool // the AA bit
	Answer        []dns.RR
	Ns            []dns.RR
	Extra         []dns.RR
}

// Answer answers q from z alone: CNAME and DNAME chains leaving z are not
// followed. A question for a name outside z, or of another class, is
// REFUSED.
func (z *Zone) Answer(q dns.Question) Result {
	name := dns.Fqdn(q.Name)
	return z.answer(nil, name, lower(name), q)
}

// answer runs the lookup of RFC 1034 §4.3.2 from step 3, starting in z and
// following CNAME and DNAME redirections; with a set s, into the other
// zones of s too.
func (z *Zone) answer(s *Set, name, lname string, q dns.Question) Result {
	if (q.Qclass != z.class && q.Qclass != dns.ClassANY) || !z.contains(lname) {
		return Result{Rcode: dns.RcodeRefused}
	}
	if z.expired {
		return Result{Rcode: dns.RcodeServerFailure}
	}
	res := Result{Rcode: dns.RcodeSuccess, Authoritative: true}
	var seen [maxChain + 1]string
	for hop := 0; ; hop++ {
		seen[hop] = lname
		next := z.step(&res, name, lname, q.Qtype)
		if next == "" || hop == maxChain {
			return res
		}
		name, lname = next, lower(next)
		for _, v := range seen[:hop+1] {
			if v == lname {
				return res // a loop: what we have is all there is
			}
		}
		switch {
		case s != nil:
			z = s.find(lname)
		case !z.contains(lname):
			z = nil
		}
		if z == nil || z.expired {
			// Not ours, or not answerable: the resolver follows the chain (RFC 1034
			// §4.3.2 step 3a); the rcode is that of the last name we
			// served (RFC 6604 §2.1).
			return res
		}
	}
}

// step answers for one name of a chain, appending to res. It returns the
// name to continue with when the answer is a CNAME or DNAME redirection.
func (z *Zone) step(res *Result, name, lname string, qtype uint16) (next string) {
	n, exact := z.closest(lname)
	if o := z.occluder(n); o >= 0 {
		owner := suffix(name, z.nodes[o].name)
		switch {
		case z.is(o, cut) && exact && n == o && qtype == dns.TypeDS:
			// The DS RRset lives on the parent side of the cut and is
			// answered authoritatively from here (RFC 4035 §3.1.4.1).
			return z.data(res, n, name, qtype)
		case z.is(o, cut):
			z.referral(res, o, owner)
			return ""
		case !(exact && n == o):
			return z.dname(res, o, owner, name, qtype)
		}
	}
	if exact {
		return z.data(res, n, name, qtype)
	}
	if w := z.wildcard(n); w >= 0 {
		// RFC 4592 §3.3.1: the closest encloser's wildcard is the
		// source of synthesis; the records take the query name.
		if z.is(w, cut) && qtype != dns.TypeDS {
			// NS at a wildcard is ill-defined (RFC 4592 §4.2): we
			// synthesize a delegation at the query name.
			z.referral(res, w, name)
			return ""
		}
		return z.data(res, w, name, qtype)
	}
	res.Rcode = dns.RcodeNameError
	z.negative(res, name)
	return ""
}

// data answers from node n, whose records are given owner name owner
// (RFC 1034 §4.3.2 step 3a).
func (z *Zone) data(res *Result, n int32, owner string, qtype uint16) (next string) {
	res.Rcode = dns.RcodeSuccess
	if qtype == dns.TypeANY {
		// RFC 8482 §4.1: one RRset is enough; CNAME included, not followed.
		rrs := z.forANY(n)
		if rrs == nil {
			z.negative(res, owner)
			return ""
		}
		res.Answer = appendNamed(res.Answer, rrs, owner)
		z.additional(res, rrs)
		return ""
	}
	if rrs := z.get(n, qtype); rrs != nil {
		res.Answer = appendNamed(res.Answer, rrs, owner)
		z.additional(res, rrs)
		return ""
	}
	if rrs := z.get(n, dns.TypeCNAME); rrs != nil {
		res.Answer = appendNamed(res.Answer, rrs, owner)
		if c, ok := rrs[0].(*dns.CNAME); ok {
			return c.Target
		}
		return ""
	}
	// NODATA (RFC 2308 §2.2).
	z.negative(res, owner)
	return ""
}

// negative adds the SOA that makes a NXDOMAIN or NODATA answer cacheable
// (RFC 2308 §3), its owner spelled as in name.
func (z *Zone) negative(res *Result, name string) {
	res.Ns = append(res.Ns, named(z.neg, suffix(name, z.origin)))
}

// referral answers a name at or below the cut at node cut, whose owner is
// spelled owner (RFC 1034 §4.3.2 step 3b): not authoritative, unless a
// CNAME chain has already given authoritative answers (RFC 6604 §2.1).
func (z *Zone) referral(res *Result, cut int32, owner string) {
	res.Rcode = dns.RcodeSuccess
	if len(res.Answer) == 0 {
		res.Authoritative = false
	}
	ns := z.get(cut, dns.TypeNS)
	res.Ns = appendNamed(res.Ns, ns, owner)
	z.additional(res, ns)
}

// dname substitutes the DNAME at o, whose owner is spelled owner, in name
// (RFC 6672 §3.1): the DNAME and a synthesized CNAME go in the answer.
func (z *Zone) dname(res *Result, o int32, owner, name string, qtype uint16) (next string) {
	d := z.first(o, dns.TypeDNAME).(*dns.DNAME)
	res.Rcode = dns.RcodeSuccess
	res.Answer = append(res.Answer, named(d, owner))
	target := name[:len(name)-len(owner)]
	if d.Target != "." {
		target += d.Target
	}
	if _, ok := dns.IsDomainName(target); !ok {
		// Too long after substitution (RFC 6672 §2.2).
		res.Rcode = dns.RcodeYXDomain
		return ""
	}
	res.Answer = append(res.Answer, &dns.CNAME{
		Hdr:    dns.RR_Header{Name: name, Rrtype: dns.TypeCNAME, Class: d.Hdr.Class, Ttl: d.Hdr.Ttl},
		Target: target,
	})
	if qtype == dns.TypeCNAME {
		return ""
	}
	return target
}

// additional adds the A and AAAA records of the in-zone targets of NS, MX
// and SRV records (RFC 1035 §3.3.9 and §3.3.11, RFC 2782), once each. Only
// NS targets may take glue from below a cut: that is what glue is for.
func (z *Zone) additional(res *Result, rrs []dns.RR) {
	var buf [4]int32
	done := buf[:0]
next:
	for _, rr := range rrs {
		var target string
		glue := false
		switch rr := rr.(type) {
		case *dns.NS:
			target, glue = rr.Ns, true
		case *dns.MX:
			target = rr.Mx
		case *dns.SRV:
			target = rr.Target
		default:
			continue
		}
		lt := lower(target)
		if !z.contains(lt) {
			continue
		}
		n, ok := z.find(lt)
		if !ok || (!glue && !z.authoritative(n)) {
			continue
		}
		for _, d := range done {
			if d == n {
				continue next
			}
		}
		done = append(done, n)
		res.Extra = appendNamed(res.Extra, z.get(n, dns.TypeA), target)
		res.Extra = appendNamed(res.Extra, z.get(n, dns.TypeAAAA), target)
	}
}
