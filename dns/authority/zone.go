package authority

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// ErrNoSOA is returned by New for a zone without an SOA record at its
// origin: negative answers need it (RFC 2308 §3), so no lookup can be
// answered correctly without it.
var ErrNoSOA = errors.New("no SOA record at the zone origin")

// Zone is an immutable, indexed zone. It is safe for concurrent use.
//
// The records it holds, and those it returns in a Result, are shared with
// every other reader: treat them as read-only (dns.Copy before changing one).
type Zone struct {
	origin  string           // canonical (lower case) FQDN
	class   uint16           // the SOA's class
	soa     *dns.SOA         // as given
	neg     *dns.SOA         // the SOA for negative answers, TTL per RFC 2308 §3
	records []dns.RR         // SOA first, then the rest in the order given
	nodes   map[string]*node // by canonical owner name, empty non-terminals included
	expired bool             // answers SERVFAIL: see Expire
}

// node is one name in the zone's tree.
type node struct {
	name  string   // canonical owner name
	sets  []rrset  // sorted by type; none for an empty non-terminal
	cut   bool     // owns NS and is not the origin: a zone cut (RFC 1034 §4.2.1)
	dname bool     // owns a DNAME (RFC 6672)
	occ   *node    // topmost ancestor-or-self that is a cut or owns a DNAME
	wild  *node    // the child named "*", the source of synthesis (RFC 4592 §2.1.1)
	any   []dns.RR // the RRset answered to ANY (RFC 8482 §4.1)
}

type rrset struct {
	typ uint16
	rrs []dns.RR
}

// New indexes rrs as the zone origin. Records were validated elsewhere (see
// dns/zone); New only refuses a zone without an SOA at origin. Records
// outside the zone cannot be looked up and are dropped, as are SOA records
// at the origin after the first. rrs itself is not kept, but its records
// are: the caller must not modify them afterwards.
func New(origin string, rrs []dns.RR) (*Zone, error) {
	origin = lower(dns.Fqdn(origin))
	z := &Zone{origin: origin, nodes: make(map[string]*node, len(rrs))}
	z.node(origin)
	rest := make([]dns.RR, 0, len(rrs))
	for _, rr := range rrs {
		if rr == nil {
			continue
		}
		name := lower(dns.Fqdn(rr.Header().Name))
		if !within(name, origin) {
			continue
		}
		if soa, ok := rr.(*dns.SOA); ok && name == origin {
			if z.soa != nil {
				continue
			}
			z.soa = soa
		} else {
			rest = append(rest, rr)
		}
		z.node(name).add(rr)
	}
	if z.soa == nil {
		return nil, fmt.Errorf("authority: zone %s: %w", origin, ErrNoSOA)
	}
	z.class = z.soa.Hdr.Class
	z.neg = dns.Copy(z.soa).(*dns.SOA)
	z.neg.Hdr.Ttl = min(z.soa.Hdr.Ttl, z.soa.Minttl)
	z.records = append([]dns.RR{z.soa}, rest...)

	for _, n := range z.nodes {
		slices.SortStableFunc(n.sets, func(a, b rrset) int { return int(a.typ) - int(b.typ) })
		n.cut = n.name != origin && n.get(dns.TypeNS) != nil
		_, n.dname = n.first(dns.TypeDNAME).(*dns.DNAME)
		if len(n.sets) > 0 {
			// RFC 8482 §4.1 lets us answer ANY with any one RRset; the
			// lowest type number makes the choice independent of the
			// order of the zone file.
			n.any = n.sets[0].rrs
		}
	}
	for _, n := range z.nodes {
		// Everything at or below a cut or a DNAME owner is not answered
		// from here (RFC 1034 §4.3.2 step 3b, RFC 6672 §2.3); the
		// topmost such ancestor decides.
		for name := n.name; ; name = name[up(name, 0):] {
			if m := z.nodes[name]; m.cut || m.dname {
				n.occ = m
			}
			if len(name) <= len(origin) {
				break
			}
		}
		if strings.HasPrefix(n.name, "*.") && n.name != origin {
			z.nodes[n.name[up(n.name, 0):]].wild = n
		}
	}
	return z, nil
}

// node returns the node for a canonical name in the zone, creating it and
// its missing ancestors (empty non-terminals) as needed.
func (z *Zone) node(name string) *node {
	if n := z.nodes[name]; n != nil {
		return n
	}
	n := &node{name: name}
	z.nodes[name] = n
	if len(name) > len(z.origin) {
		z.node(name[up(name, 0):])
	}
	return n
}

func (n *node) add(rr dns.RR) {
	t := rr.Header().Rrtype
	for i := range n.sets {
		if n.sets[i].typ == t {
			n.sets[i].rrs = append(n.sets[i].rrs, rr)
			return
		}
	}
	n.sets = append(n.sets, rrset{typ: t, rrs: []dns.RR{rr}})
}

// get returns the RRset of type t at n, or nil.
func (n *node) get(t uint16) []dns.RR {
	for _, s := range n.sets {
		if s.typ == t {
			return s.rrs
		}
	}
	return nil
}

// first returns the first record of type t at n, or nil.
func (n *node) first(t uint16) dns.RR {
	if rrs := n.get(t); len(rrs) > 0 {
		return rrs[0]
	}
	return nil
}

// authoritative reports whether n's data is answered from this zone, rather
// than being glue below a cut or occluded by a DNAME above it.
func (n *node) authoritative() bool {
	return n.occ == nil || (n.occ == n && !n.cut)
}

// Expire returns a copy of z that answers every question with SERVFAIL
// and refuses to be transferred: a secondary's zone whose SOA expire time
// has passed without a successful refresh (RFC 1035 §3.3.13). The copy
// keeps z's origin, SOA and records, so that the secondary can still ask
// for changes since its serial.
func (z *Zone) Expire() *Zone {
	e := *z
	e.expired = true
	return &e
}

// Expired reports whether z was made by Expire.
func (z *Zone) Expired() bool { return z.expired }

// Origin returns the zone's origin in canonical (lower case) form.
func (z *Zone) Origin() string { return z.origin }

// SOA returns the zone's SOA record. It is shared: do not modify it.
func (z *Zone) SOA() *dns.SOA { return z.soa }

// Records returns all records of the zone, SOA first, as for AXFR
// (RFC 5936 §2.2). The slice is the caller's; the records are shared.
func (z *Zone) Records() []dns.RR { return slices.Clone(z.records) }

// contains reports whether the canonical name is at or below the origin.
func (z *Zone) contains(name string) bool { return within(name, z.origin) }

// closest returns the node of the canonical name, or of its closest
// encloser (RFC 4592 §3.3.1) when it does not exist. name must be in the
// zone. Empty non-terminals are nodes, so they stop the walk (RFC 8020).
func (z *Zone) closest(name string) (n *node, exact bool) {
	for off := 0; off >= 0 && len(name)-off >= len(z.origin); off = up(name, off) {
		if n := z.nodes[name[off:]]; n != nil {
			return n, off == 0
		}
	}
	return z.nodes[z.origin], false
}
