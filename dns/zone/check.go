package zone

import (
	"fmt"
	"slices"
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
	c := newChecker(z)
	c.checkApex()
	for i, rr := range z.Records {
		c.checkRecord(rr, c.names[c.nameOf[i]].key)
	}
	for i := range c.names {
		c.checkName(&c.names[i])
	}
	c.checkRRsets()
	return c.problems
}

// owner is what Check gathers about one owner name. A zone of a million
// names has a million of them: they hold counts rather than a map of types,
// and link their records through checker.next rather than a slice each.
// Record positions are int32, half the memory: a zone of MaxSize holds
// far fewer than 2^31 records.
type owner struct {
	key         string // nameKey
	first, last int32  // the name's first record (whose owner text names it) and last
	records     int32
	cnames      int32
	addrs       int32 // A and AAAA records
	ns          int32
}

type checker struct {
	z        *Zone
	origin   string           // nameKey of the origin
	twice    string           // nameKey of the origin repeated; "" for the root
	nameOf   []int32          // each record's owner in names
	next     []int32          // the next record of the same name, or -1
	names    []owner          // in file order
	index    map[string]int32 // names' positions by nameKey
	soas     int
	buf      []byte // scratch for the keys of names in records' data
	problems []Problem
	seen     map[Problem]bool
}

func newChecker(z *Zone) *checker {
	n := len(z.Records)
	c := &checker{
		z:      z,
		origin: nameKey(z.Origin),
		nameOf: make([]int32, n),
		next:   make([]int32, n),
		// sized for a name a record, the common case in large zones:
		// growing a million names costs more than filling them
		names: make([]owner, 0, n),
		index: make(map[string]int32, n),
	}
	if c.origin != "" { // every name ends in the root twice
		c.twice = nameKey(z.Origin + z.Origin)
	}
	prev := int32(-1) // the name of the record before
	for i, rr := range z.Records {
		h := rr.Header()
		var at int32
		if prev >= 0 && h.Name == z.Records[i-1].Header().Name {
			at = prev // the same text has the same key
		} else {
			key := quickKey(h.Name)
			var ok bool
			if at, ok = c.index[key]; !ok {
				at = int32(len(c.names))
				c.names = append(c.names, owner{key: key, first: int32(i), last: -1})
				c.index[key] = at
			}
		}
		prev = at
		o := &c.names[at]
		c.nameOf[i] = at
		c.next[i] = -1
		if o.last >= 0 {
			c.next[o.last] = int32(i)
		}
		o.last = int32(i)
		o.records++
		switch h.Rrtype {
		case dns.TypeCNAME:
			o.cnames++
		case dns.TypeA, dns.TypeAAAA:
			o.addrs++
		case dns.TypeNS:
			o.ns++
		case dns.TypeSOA:
			c.soas++
		}
	}
	return c
}

// hasPrefix is strings.HasPrefix for a key in a scratch buffer, without
// copying it to a string.
func hasPrefix(key []byte, prefix string) bool {
	return len(key) >= len(prefix) && string(key[:len(prefix)]) == prefix
}

// lookupBytes is lookup for a key in a scratch buffer.
func (c *checker) lookupBytes(key []byte) *owner {
	if i, ok := c.index[string(key)]; ok {
		return &c.names[i]
	}
	return nil
}

// nameText returns o's name as first written.
func (c *checker) nameText(o *owner) string {
	return c.z.Records[o.first].Header().Name
}

// lookup returns the name of nameKey key, or nil if the zone has none.
func (c *checker) lookup(key string) *owner {
	if i, ok := c.index[key]; ok {
		return &c.names[i]
	}
	return nil
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
	switch {
	case c.soas == 0:
		c.add(c.z.Origin, dns.TypeSOA, "no SOA record")
	case c.soas > 1:
		c.add(c.z.Origin, dns.TypeSOA, "%d SOA records, there must be one", c.soas)
	}
	if apex := c.lookup(c.origin); apex == nil || apex.ns == 0 {
		c.add(c.z.Origin, dns.TypeNS, "no NS records at the origin")
	}
}

func (c *checker) checkRecord(rr dns.RR, key string) {
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
	if !short(rr) {
		if n := dns.Len(rr); n > dns.MaxMsgSize {
			c.add(h.Name, h.Rrtype, "record too long (%d octets)", n)
		}
	}

	for _, p := range nameFields(rr) {
		c.buf = appendKey(c.buf[:0], *p)
		target := c.buf
		if c.twice != "" && hasPrefix(target, c.twice) {
			hint, _ := c.doubled(*p, string(target))
			c.add(h.Name, h.Rrtype, "%s", hint)
			continue // the glue check below would only repeat this
		}
		if _, ok := rr.(*dns.NS); ok && hasPrefix(target, c.origin) {
			if o := c.lookupBytes(target); o == nil || o.addrs == 0 {
				c.add(h.Name, h.Rrtype, "name server %s has no A or AAAA record in the zone", *p)
			}
		}
	}
}

// short reports whether rr is surely short enough for the wire, without
// computing its length: an address or a name beside an owner name, each
// taking at most one octet more than its text, fit unless the names'
// text is absurdly long.
func short(rr dns.RR) bool {
	n := len(rr.Header().Name)
	switch rr := rr.(type) {
	case *dns.A, *dns.AAAA:
	case *dns.CNAME:
		n += len(rr.Target)
	case *dns.NS:
		n += len(rr.Ns)
	case *dns.PTR:
		n += len(rr.Ptr)
	case *dns.MX:
		n += len(rr.Mx)
	default:
		return false
	}
	return n < dns.MaxMsgSize/2
}

// doubled reports whether name ends in the origin twice, as a name written
// without its trailing dot does (ns1.example.com.example.com.), and says so.
// key is name's nameKey.
func (c *checker) doubled(name, key string) (string, bool) {
	if c.twice == "" || !strings.HasPrefix(key, c.twice) {
		return "", false
	}
	meant, _ := relative(name, c.z.Origin)
	return fmt.Sprintf("%s ends in the origin twice: did you forget the trailing dot in %s?", name, meant), true
}

func (c *checker) checkName(o *owner) {
	if o.cnames == 0 {
		return
	}
	if o.key == c.origin {
		c.add(c.nameText(o), dns.TypeCNAME, "CNAME at the origin")
	}
	if o.cnames > 1 {
		c.add(c.nameText(o), dns.TypeCNAME, "%d CNAME records at one name", o.cnames)
	}
	var types []uint16
	for i := o.first; i >= 0; i = c.next[i] {
		t := c.z.Records[i].Header().Rrtype
		if t != dns.TypeCNAME && t != dns.TypeRRSIG && t != dns.TypeNSEC && !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	if len(types) > 0 {
		others := make([]string, len(types))
		for i, t := range types {
			others[i] = dns.Type(t).String()
		}
		slices.Sort(others)
		c.add(c.nameText(o), dns.TypeCNAME, "CNAME beside other data (%s)", strings.Join(others, ", "))
	}
}

// rrset is one RRset of a name, as checkRRsets gathers them.
type rrset struct {
	setKey
	first    int32  // its first record
	min, max uint32 // TTLs
	n        int32  // records
}

// checkRRsets flags RRsets whose TTLs differ and records given twice.
// It looks at each name of more than one record, its RRsets gathered
// through a scan of its records; the problems are then added in file
// order, records given twice before TTLs.
func (c *checker) checkRRsets() {
	type found struct {
		at  int32 // the record given twice, or the RRset's first record
		set rrset
	}
	var twice, ttls []found
	var (
		sets    rrsets          // of one name
		setOf   []int           // each record's RRset in sets, in the name's order
		records map[string]bool // recordKey of records in RRsets of more than one
	)
	for _, o := range c.names {
		if o.records < 2 {
			continue
		}
		sets.reset()
		setOf = setOf[:0]
		for i := o.first; i >= 0; i = c.next[i] {
			setOf = append(setOf, sets.add(c.z.Records[i], i))
		}
		for _, s := range sets.list {
			if s.min != s.max {
				ttls = append(ttls, found{at: s.first, set: s})
			}
		}
		// A record can only repeat within its RRset: most RRsets hold
		// one record, and their records need no key.
		j := 0
		for i := o.first; i >= 0; i, j = c.next[i], j+1 {
			if sets.list[setOf[j]].n < 2 {
				continue
			}
			if records == nil {
				records = map[string]bool{}
			}
			key := recordKey(c.z.Records[i])
			if records[key] {
				twice = append(twice, found{at: i})
			}
			records[key] = true
		}
	}
	slices.SortFunc(twice, func(a, b found) int { return int(a.at - b.at) })
	for _, f := range twice {
		rr := c.z.Records[f.at]
		c.add(rr.Header().Name, rr.Header().Rrtype, "record given twice (%s)", rdataText(rr, nil))
	}
	slices.SortFunc(ttls, func(a, b found) int { return int(a.at - b.at) })
	for _, f := range ttls {
		c.add(c.z.Records[f.at].Header().Name, f.set.typ, "records of one RRset with different TTLs, from %d to %d", f.set.min, f.set.max)
	}
}

// rrsets are the RRsets of one name. Most names have a few: they are
// found by a linear search, and through a map only for a name of many.
type rrsets struct {
	list  []rrset
	index map[setKey]int // nil until list is long
}

// setKey tells RRsets of one name apart; covered is the type an RRSIG covers.
type setKey struct{ class, typ, covered uint16 }

// manySets is where rrsets starts a map.
const manySets = 16

func (ss *rrsets) reset() {
	ss.list = ss.list[:0]
	ss.index = nil // a map once grown would be slow to clear for every name
}

// add adds record i, rr, to its RRset, starting one if needed, and
// returns the RRset's position in list.
func (ss *rrsets) add(rr dns.RR, i int32) int {
	h := rr.Header()
	k := setKey{class: h.Class, typ: h.Rrtype}
	if sig, ok := rr.(*dns.RRSIG); ok {
		k.covered = sig.TypeCovered // an RRSIG has the TTL of the RRset it covers
	}
	at := -1
	if ss.index != nil {
		if j, ok := ss.index[k]; ok {
			at = j
		}
	} else {
		for j := range ss.list {
			if ss.list[j].setKey == k {
				at = j
				break
			}
		}
	}
	if at >= 0 {
		s := &ss.list[at]
		s.min, s.max = min(s.min, h.Ttl), max(s.max, h.Ttl)
		s.n++
		return at
	}
	ss.list = append(ss.list, rrset{setKey: k, first: i, min: h.Ttl, max: h.Ttl, n: 1})
	at = len(ss.list) - 1
	switch {
	case ss.index != nil:
		ss.index[k] = at
	case len(ss.list) > manySets:
		ss.index = make(map[setKey]int, 2*len(ss.list))
		for j, s := range ss.list {
			ss.index[s.setKey] = j
		}
	}
	return at
}
