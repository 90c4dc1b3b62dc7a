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
//
// A zone of a million names is held in about 50 bytes a name beside its
// records: the records in one slice, grouped by owner name; one small node
// per name, in one slice, pointing into it; a hash index of node numbers.
// Rare facts (a node below a zone cut, a wildcard child) live in maps.
type Zone struct {
	origin  string          // canonical (lower case) FQDN
	class   uint16          // the SOA's class
	soa     *dns.SOA        // as given
	neg     *dns.SOA        // the SOA for negative answers, TTL per RFC 2308 §3
	records []dns.RR        // node by node, by type within a node, in the order given within a type
	nodes   []node          // nodes[0] is the origin; the last is a sentinel ending the records
	index   index           // canonical name -> node number
	occ     map[int32]int32 // node -> its topmost proper ancestor that is a cut or owns a DNAME
	wild    map[int32]int32 // node -> its child named "*", the source of synthesis (RFC 4592 §2.1.1)
	expired bool            // answers SERVFAIL: see Expire
}

// node is one name in the zone's tree, empty non-terminals included. Its
// records are z.records[n.first:next.first], next being the node after it
// in z.nodes.
type node struct {
	name  string // canonical owner name
	first int32  // its first record in z.records
	flags uint8
}

const (
	cut      uint8 = 1 << iota // owns NS and is not the origin: a zone cut (RFC 1034 §4.2.1)
	dname                      // owns a DNAME (RFC 6672)
	occSelf                    // is its own topmost cut or DNAME owner: see Zone.occluder
	occBelow                   // has an entry in Zone.occ
	hasWild                    // has an entry in Zone.wild
)

// New indexes rrs as the zone origin. Records were validated elsewhere (see
// dns/zone); New only refuses a zone without an SOA at origin. Records
// outside the zone cannot be looked up and are dropped, as are SOA records
// at the origin after the first. rrs itself is not kept, but its records
// are: the caller must not modify them afterwards.
func New(origin string, rrs []dns.RR) (*Zone, error) {
	origin = lower(dns.Fqdn(origin))
	// Most names own one record or a few: room for one node a record,
	// trimmed after, saves the copies of growing the slice.
	z := &Zone{origin: origin, index: newIndex(len(rrs)), nodes: make([]node, 0, len(rrs)+2)}
	z.intern(origin)
	if err := z.group(rrs); err != nil {
		return nil, err
	}
	z.class = z.soa.Hdr.Class
	z.neg = dns.Copy(z.soa).(*dns.SOA)
	z.neg.Hdr.Ttl = min(z.soa.Hdr.Ttl, z.soa.Minttl)

	last := int32(len(z.nodes) - 1) // the sentinel
	occluders := false
	for n := range last {
		if rrs := z.rrs(n); !slices.IsSortedFunc(rrs, byType) {
			slices.SortStableFunc(rrs, byType)
		}
		if n != 0 && z.get(n, dns.TypeNS) != nil {
			z.nodes[n].flags |= cut
			occluders = true
		}
		if _, ok := z.first(n, dns.TypeDNAME).(*dns.DNAME); ok {
			z.nodes[n].flags |= dname
			occluders = true
		}
	}
	for n := range last {
		if occluders {
			z.occlude(n)
		}
		if name := z.nodes[n].name; strings.HasPrefix(name, "*.") && n != 0 {
			p, _ := z.find(name[up(name, 0):])
			if z.wild == nil {
				z.wild = map[int32]int32{}
			}
			z.wild[p] = n
			z.nodes[p].flags |= hasWild
		}
	}
	return z, nil
}

// group makes the nodes of the records' owners and their ancestors, and
// lays out the records node by node in z.records, in the order given. It
// is a counting sort: it counts each node's records in its first field,
// turns the counts into the offset where each node's records end, then
// places the records from the last to the first, moving each node's offset
// back to where its records start. The sentinel node ends the last one.
func (z *Zone) group(rrs []dns.RR) error {
	owner := make([]int32, len(rrs))
	for i, rr := range rrs {
		owner[i] = -1
		if rr == nil {
			continue
		}
		name := lower(dns.Fqdn(rr.Header().Name))
		if !within(name, z.origin) {
			continue
		}
		if soa, ok := rr.(*dns.SOA); ok && name == z.origin {
			if z.soa != nil {
				continue
			}
			z.soa = soa
		}
		owner[i] = z.intern(name)
		z.nodes[owner[i]].first++
	}
	if z.soa == nil {
		return fmt.Errorf("authority: zone %s: %w", z.origin, ErrNoSOA)
	}
	var end int32
	for i := range z.nodes {
		end += z.nodes[i].first
		z.nodes[i].first = end
	}
	if spare := cap(z.nodes) - len(z.nodes); spare == 0 || spare > len(z.nodes)/32 {
		// Names with several records, or appends past the room made
		// for one node a record, left some of the slice unused: keep
		// only what the nodes and the sentinel need.
		z.nodes = append(make([]node, 0, len(z.nodes)+1), z.nodes...)
	}
	z.nodes = append(z.nodes, node{first: end})
	z.records = make([]dns.RR, end)
	for i := len(rrs) - 1; i >= 0; i-- {
		if n := owner[i]; n >= 0 {
			z.nodes[n].first--
			z.records[z.nodes[n].first] = rrs[i]
		}
	}
	return nil
}

// occlude records the topmost ancestor-or-self of node n that is a cut or
// owns a DNAME: everything at or below it is not answered from here
// (RFC 1034 §4.3.2 step 3b, RFC 6672 §2.3).
func (z *Zone) occlude(n int32) {
	name := z.nodes[n].name
	o := int32(-1)
	for off := 0; ; off = up(name, off) {
		m, _ := z.find(name[off:])
		if z.nodes[m].flags&(cut|dname) != 0 {
			o = m
		}
		if len(name)-off <= len(z.origin) {
			break
		}
	}
	switch {
	case o == n:
		z.nodes[n].flags |= occSelf
	case o >= 0:
		if z.occ == nil {
			z.occ = map[int32]int32{}
		}
		z.occ[n] = o
		z.nodes[n].flags |= occBelow
	}
}

func byType(a, b dns.RR) int { return int(a.Header().Rrtype) - int(b.Header().Rrtype) }

// rrs returns the records of node n, sorted by type.
func (z *Zone) rrs(n int32) []dns.RR {
	end := z.nodes[n+1].first
	return z.records[z.nodes[n].first:end:end]
}

// get returns the RRset of type t at node n, or nil.
func (z *Zone) get(n int32, t uint16) []dns.RR {
	rrs := z.rrs(n)
	for i, rr := range rrs {
		switch rt := rr.Header().Rrtype; {
		case rt == t:
			j := i + 1
			for j < len(rrs) && rrs[j].Header().Rrtype == t {
				j++
			}
			return rrs[i:j:j]
		case rt > t:
			return nil
		}
	}
	return nil
}

// forANY returns the RRset answered to ANY at node n (RFC 8482 §4.1), or nil:
// the one of lowest type number, so that the choice does not depend on the
// order of the zone file.
func (z *Zone) forANY(n int32) []dns.RR {
	if rrs := z.rrs(n); len(rrs) > 0 {
		return z.get(n, rrs[0].Header().Rrtype)
	}
	return nil
}

// first returns the first record of type t at node n, or nil.
func (z *Zone) first(n int32, t uint16) dns.RR {
	if rrs := z.get(n, t); len(rrs) > 0 {
		return rrs[0]
	}
	return nil
}

// occluder returns the topmost ancestor-or-self of node n that is a cut
// or owns a DNAME, or -1.
func (z *Zone) occluder(n int32) int32 {
	switch f := z.nodes[n].flags; {
	case f&occSelf != 0:
		return n
	case f&occBelow != 0:
		return z.occ[n]
	}
	return -1
}

// wildcard returns node n's child named "*", or -1.
func (z *Zone) wildcard(n int32) int32 {
	if z.nodes[n].flags&hasWild != 0 {
		return z.wild[n]
	}
	return -1
}

func (z *Zone) is(n int32, flag uint8) bool { return z.nodes[n].flags&flag != 0 }

// authoritative reports whether node n's data is answered from this zone,
// rather than being glue below a cut or occluded by a DNAME above it.
func (z *Zone) authoritative(n int32) bool {
	o := z.occluder(n)
	return o < 0 || (o == n && !z.is(n, cut))
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
// (RFC 5936 §2.2), then the others grouped by owner name and by type. The
// slice is the caller's; the records are shared.
func (z *Zone) Records() []dns.RR {
	rrs := make([]dns.RR, 1, len(z.records))
	rrs[0] = z.soa
	for _, rr := range z.records {
		if rr != dns.RR(z.soa) {
			rrs = append(rrs, rr)
		}
	}
	return rrs
}

// contains reports whether the canonical name is at or below the origin.
func (z *Zone) contains(name string) bool { return within(name, z.origin) }

// closest returns the node of the canonical name, or of its closest
// encloser (RFC 4592 §3.3.1) when it does not exist. name must be in the
// zone. Empty non-terminals are nodes, so they stop the walk (RFC 8020).
func (z *Zone) closest(name string) (n int32, exact bool) {
	for off := 0; off >= 0 && len(name)-off >= len(z.origin); off = up(name, off) {
		if n, ok := z.find(name[off:]); ok {
			return n, off == 0
		}
	}
	return 0, false
}
