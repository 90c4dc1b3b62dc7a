package zone

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// Problem is one reason a zone must not be served.
type Problem struct {
	Zone string // the zone's origin
	Name string // the owner name the problem is about
	Type string // the record type, or "" if the problem is about the name
	Msg  string
}

// String returns the problem on one line, like
// "example.com: www.example.com. CNAME: CNAME beside other data (A)".
func (p Problem) String() string {
	zone := p.Zone
	if zone != "." {
		zone = strings.TrimSuffix(zone, ".")
	}
	s := zone + ": " + p.Name
	if p.Type != "" {
		s += " " + p.Type
	}
	return s + ": " + p.Msg
}

// Check returns the reasons z must not be served, or nil if there are none:
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
func Check(z *Zone) []Problem {
	c := checker{z: z, origin: nameKey(z.Origin), names: map[string]*nameInfo{}}
	for _, rr := range z.Records {
		h := rr.Header()
		key := nameKey(h.Name)
		info := c.names[key]
		if info == nil {
			info = &nameInfo{name: h.Name, types: map[uint16]int{}}
			c.names[key] = info
			c.order = append(c.order, key)
		}
		info.types[h.Rrtype]++
	}

	c.checkApex()
	for _, rr := range z.Records {
		c.checkRecord(rr)
	}
	for _, key := range c.order {
		c.checkName(key, c.names[key])
	}
	c.checkRRsets()
	return c.problems
}

type nameInfo struct {
	name  string         // as first written
	types map[uint16]int // records per type
}

type checker struct {
	z        *Zone
	origin   string               // nameKey of the origin
	names    map[string]*nameInfo // by nameKey
	order    []string             // names in file order
	problems []Problem
	seen     map[Problem]bool
}

// add records a problem once, however many records show it.
func (c *checker) add(name string, typ uint16, format string, args ...any) {
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

func (c *checker) checkApex() {
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

func (c *checker) checkRecord(rr dns.RR) {
	h := rr.Header()
	key := nameKey(h.Name)
	if h.Class != dns.ClassINET {
		c.add(h.Name, h.Rrtype, "class %s, only IN is served", dns.Class(h.Class))
	}
	if !strings.HasPrefix(key, c.origin) {
		c.add(h.Name, 0, "outside the zone %s", c.z.Origin)
	} else if hint, ok := c.doubled(h.Name); ok {
		c.add(h.Name, 0, "%s", hint)
	}
	if h.Rrtype == dns.TypeSOA && key != c.origin {
		c.add(h.Name, h.Rrtype, "SOA record not at the origin %s", c.z.Origin)
	}
	if n := dns.Len(rr); n > dns.MaxMsgSize {
		c.add(h.Name, h.Rrtype, "record too long (%d octets)", n)
	}

	for _, p := range nameFields(rr) {
		if hint, ok := c.doubled(*p); ok {
			c.add(h.Name, h.Rrtype, "%s", hint)
			continue // the glue check below would only repeat this
		}
		if ns, ok := rr.(*dns.NS); ok && isBelow(ns.Ns, c.z.Origin) {
			info := c.names[nameKey(ns.Ns)]
			if info == nil || info.types[dns.TypeA]+info.types[dns.TypeAAAA] == 0 {
				c.add(h.Name, h.Rrtype, "name server %s has no A or AAAA record in the zone", ns.Ns)
			}
		}
	}
}

// doubled reports whether name ends in the origin twice, as a name written
// without its trailing dot does (ns1.example.com.example.com.), and says so.
func (c *checker) doubled(name string) (string, bool) {
	if c.origin == "" {
		return "", false // every name ends in the root twice
	}
	if !isBelow(name, c.z.Origin+c.z.Origin) {
		return "", false
	}
	meant, _ := relative(name, c.z.Origin)
	return fmt.Sprintf("%s ends in the origin twice: did you forget the trailing dot in %s?", name, meant), true
}

func (c *checker) checkName(key string, info *nameInfo) {
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
func (c *checker) checkRRsets() {
	type rrset struct {
		name, class, typ string // typ includes the covered type of an RRSIG
	}
	ttls := map[rrset][]uint32{}
	var order []rrset
	records := map[string]bool{}
	for _, rr := range c.z.Records {
		h := rr.Header()
		set := rrset{nameKey(h.Name), strconv.Itoa(int(h.Class)), strconv.Itoa(int(h.Rrtype))}
		if sig, ok := rr.(*dns.RRSIG); ok {
			// an RRSIG has the TTL of the RRset it covers
			set.typ += "/" + strconv.Itoa(int(sig.TypeCovered))
		}
		if _, ok := ttls[set]; !ok {
			order = append(order, set)
		}
		if !slices.Contains(ttls[set], h.Ttl) {
			ttls[set] = append(ttls[set], h.Ttl)
		}

		key := recordKey(rr)
		if records[key] {
			c.add(h.Name, h.Rrtype, "record given twice (%s)", rdataText(rr, nil))
		}
		records[key] = true
	}
	for _, set := range order {
		if t := ttls[set]; len(t) > 1 {
			name := c.names[set.name].name
			typ, _ := strconv.Atoi(set.typ[:strings.IndexByte(set.typ+"/", '/')])
			strs := make([]string, len(t))
			for i, ttl := range t {
				strs[i] = strconv.FormatUint(uint64(ttl), 10)
			}
			c.add(name, uint16(typ), "records of one RRset with different TTLs (%s)", strings.Join(strs, ", "))
		}
	}
}
