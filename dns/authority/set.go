package authority

import (
	"maps"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// Set is an immutable collection of zones, keyed by origin. It is safe for
// concurrent use; a nil *Set is an empty set.
type Set struct {
	zones map[string]*Zone // by canonical origin
}

// NewSet returns a set of the given zones; of two with the same origin, the
// later wins.
func NewSet(zones ...*Zone) *Set {
	s := &Set{zones: make(map[string]*Zone, len(zones))}
	for _, z := range zones {
		if z != nil {
			s.zones[z.origin] = z
		}
	}
	return s
}

// With returns a new set holding z in place of any zone with its origin.
func (s *Set) With(z *Zone) *Set {
	n := &Set{zones: make(map[string]*Zone, s.len()+1)}
	if s != nil {
		maps.Copy(n.zones, s.zones)
	}
	n.zones[z.origin] = z
	return n
}

// Without returns a new set without the zone of the given origin.
func (s *Set) Without(origin string) *Set {
	n := &Set{zones: make(map[string]*Zone, s.len())}
	if s != nil {
		maps.Copy(n.zones, s.zones)
	}
	delete(n.zones, lower(dns.Fqdn(origin)))
	return n
}

func (s *Set) len() int {
	if s == nil {
		return 0
	}
	return len(s.zones)
}

// Zone returns the zone with exactly this origin, or nil.
func (s *Set) Zone(origin string) *Zone {
	if s == nil {
		return nil
	}
	return s.zones[lower(dns.Fqdn(origin))]
}

// Find returns the served zone closest to qname: the one whose origin is
// the nearest ancestor-or-self of qname (RFC 1034 §4.3.2 step 2), or nil.
func (s *Set) Find(qname string) *Zone {
	return s.find(lower(dns.Fqdn(qname)))
}

// find is Find for a canonical name.
func (s *Set) find(name string) *Zone {
	if s.len() == 0 {
		return nil
	}
	for off := 0; off >= 0; off = up(name, off) {
		if z := s.zones[name[off:]]; z != nil {
			return z
		}
	}
	return nil
}

// Zones returns the zones of the set, sorted by origin.
func (s *Set) Zones() []*Zone {
	if s == nil {
		return nil
	}
	zs := slices.Collect(maps.Values(s.zones))
	slices.SortFunc(zs, func(a, b *Zone) int { return strings.Compare(a.origin, b.origin) })
	return zs
}

// Answer answers q from the closest zone served. CNAME and DNAME chains
// are followed into every zone of the set, not only the first: each target
// is answered by its own closest zone, which saves the resolver a query.
// A question for a name no zone holds is REFUSED with AA clear.
func (s *Set) Answer(q dns.Question) Result {
	name := dns.Fqdn(q.Name)
	lname := lower(name)
	z := s.find(lname)
	if z == nil {
		return Result{Rcode: dns.RcodeRefused}
	}
	if q.Qtype == dns.TypeDS && lname == z.origin {
		// A server for both sides of a cut answers DS from the parent
		// (RFC 4035 §3.1.4.1).
		if off := up(lname, 0); off >= 0 {
			if p := s.find(lname[off:]); p != nil {
				z = p
			}
		}
	}
	return z.answer(s, name, lname, q)
}
