package zone

import (
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// checkReference is Check as it was before it was made faster (commit
// 7f885c7), kept to compare the two on random zones. It returns the reasons z must not be served, or nil if there are none:
//   - no SOA at the origin, more than one, or one elsewhere;
//   - no NS at the origin;
//   - a CNAME beside other data (RFC 1034 §3.6.2; RRSIG and NSEC may
//     stand beside it), more than one CNAME at a name, or a CNAME at the
//     origin;
//   - records outside the zone;
//   - a name server at or below the origin without an A or AAAA record;
//   - a name ending in the origin twice, from a forgotten trailing dot;
//   - records of one RRset with different TTLs (RFC 2181 §5.2), or the
//     same record twice;
//   - a class other than IN;
//   - a record too long for the wire.
func checkReference(z *Zone) []Problem {
	c := refChecker{z: z, origin: nameKey(z.Origin), names: map[string]*refNameInfo{}, keys: make([]string, len(z.Records))}
	if c.origin != "" { // every name ends in the root twice
		c.twice = nameKey(z.Origin + z.Origin)
	}
	for i, rr := range z.Records {
		h := rr.Header()
		key := nameKey(h.Name)
		c.keys[i] = key
		info := c.names[key]
		if info == nil {
			info = &refNameInfo{name: h.Name, types: map[uint16]int{}}
			c.names[key] = info
			c.order = append(c.order, key)
		}
		info.types[h.Rrtype]++
	}

	c.checkApex()
	for i, rr := range z.Records {
		c.checkRecord(rr, c.keys[i])
	}
	for _, key := range c.order {
		c.checkName(key, c.names[key])
	}
	c.checkRRsets()
	return c.problems
}

type refNameInfo struct {
	name  string         // as first written
	types map[uint16]int // records per type
}

type refChecker struct {
	z        *Zone
	origin   string                  // nameKey of the origin
	twice    string                  // nameKey of the origin repeated; "" for the root
	keys     []string                // nameKey of each record's owner
	names    map[string]*refNameInfo // by nameKey
	order    []string                // names in file order
	problems []Problem
	seen     map[Problem]bool
}

// add records a problem once, however many records show it.
func (c *refChecker) add(name string, typ uint16, format string, args ...any) {
	p := Problem{Zone: c.z.Origin, Name: name, Msg: fmt.Sprintf(format, args...)}
	if typ != 0 {
		p.Type = dns.Type(typ).String()
	}
	if c.seen == nil {
		c.seen = map[Problem]bool{}
	}
	if !c.seen[p] {
		c.seen[p] = true
		c.problems = append(c.problems, p)
	}
}

func (c *refChecker) checkApex() {
	soas := 0
	for _, rr := range c.z.Records {
		if rr.Header().Rrtype == dns.TypeSOA {
			soas++
		}
	}
	switch {
	case soas == 0:
		c.add(c.z.Origin, dns.TypeSOA, "no SOA record")
	case soas > 1:
		c.add(c.z.Origin, dns.TypeSOA, "%d SOA records, there must be one", soas)
	}
	if apex := c.names[c.origin]; apex == nil || apex.types[dns.TypeNS] == 0 {
		c.add(c.z.Origin, dns.TypeNS, "no NS records at the origin")
	}
}

func (c *refChecker) checkRecord(rr dns.RR, key string) {
	h := rr.Header()
	if h.Class != dns.ClassINET {
		c.add(h.Name, h.Rrtype, "class %s, only IN is served", dns.Class(h.Class))
	}
	if !strings.HasPrefix(key, c.origin) {
		c.add(h.Name, 0, "outside the zone %s", c.z.Origin)
	} else if hint, ok := c.doubled(h.Name, key); ok {
		c.add(h.Name, 0, "%s", hint)
	}
	if h.Rrtype == dns.TypeSOA && key != c.origin {
		c.add(h.Name, h.Rrtype, "SOA record not at the origin %s", c.z.Origin)
	}
	if n := dns.Len(rr); n > dns.MaxMsgSize {
		c.add(h.Name, h.Rrtype, "record too long (%d octets)", n)
	}

	for _, p := range nameFields(rr) {
		target := nameKey(*p)
		if hint, ok := c.doubled(*p, target); ok {
			c.add(h.Name, h.Rrtype, "%s", hint)
			continue // the glue check below would only repeat this
		}
		if _, ok := rr.(*dns.NS); ok && strings.HasPrefix(target, c.origin) {
			info := c.names[target]
			if info == nil || info.types[dns.TypeA]+info.types[dns.TypeAAAA] == 0 {
				c.add(h.Name, h.Rrtype, "name server %s has no A or AAAA record in the zone", *p)
			}
		}
	}
}

// doubled reports whether name ends in the origin twice, as a name written
// without its trailing dot does (ns1.example.com.example.com.), and says so.
// key is name's nameKey.
func (c *refChecker) doubled(name, key string) (string, bool) {
	if c.twice == "" || !strings.HasPrefix(key, c.twice) {
		return "", false
	}
	meant, _ := relative(name, c.z.Origin)
	return fmt.Sprintf("%s ends in the origin twice: did you forget the trailing dot in %s?", name, meant), true
}

func (c *refChecker) checkName(key string, info *refNameInfo) {
	cnames := info.types[dns.TypeCNAME]
	if cnames == 0 {
		return
	}
	if key == c.origin {
		c.add(info.name, dns.TypeCNAME, "CNAME at the origin")
	}
	if cnames > 1 {
		c.add(info.name, dns.TypeCNAME, "%d CNAME records at one name", cnames)
	}
	var others []string
	for t := range info.types {
		if t != dns.TypeCNAME && t != dns.TypeRRSIG && t != dns.TypeNSEC {
			others = append(others, dns.Type(t).String())
		}
	}
	if len(others) > 0 {
		slices.Sort(others)
		c.add(info.name, dns.TypeCNAME, "CNAME beside other data (%s)", strings.Join(others, ", "))
	}
}

// checkRRsets flags RRsets whose TTLs differ and records given twice.
func (c *refChecker) checkRRsets() {
	type rrset struct {
		name                string // nameKey
		class, typ, covered uint16 // covered: the type an RRSIG covers
	}
	type ttls struct {
		name     string // as first written
		min, max uint32
		n        int // records in the RRset
	}
	sets := map[rrset]*ttls{}
	var order []rrset
	setOf := make([]rrset, len(c.z.Records))
	for i, rr := range c.z.Records {
		h := rr.Header()
		set := rrset{name: c.keys[i], class: h.Class, typ: h.Rrtype}
		if sig, ok := rr.(*dns.RRSIG); ok {
			set.covered = sig.TypeCovered // an RRSIG has the TTL of the RRset it covers
		}
		setOf[i] = set
		if t := sets[set]; t == nil {
			sets[set] = &ttls{name: h.Name, min: h.Ttl, max: h.Ttl, n: 1}
			order = append(order, set)
		} else {
			t.min, t.max = min(t.min, h.Ttl), max(t.max, h.Ttl)
			t.n++
		}
	}
	// A record can only repeat within its RRset: most RRsets hold one
	// record, and their records need no key.
	records := map[string]bool{}
	for i, rr := range c.z.Records {
		if sets[setOf[i]].n < 2 {
			continue
		}
		key := recordKey(rr)
		if records[key] {
			c.add(rr.Header().Name, rr.Header().Rrtype, "record given twice (%s)", rdataText(rr, nil))
		}
		records[key] = true
	}
	for _, set := range order {
		if t := sets[set]; t.min != t.max {
			c.add(t.name, set.typ, "records of one RRset with different TTLs, from %d to %d", t.min, t.max)
		}
	}
}
