package update

import (
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// Plan is what an UPDATE does to a zone.
type Plan struct {
	// Add holds the records to add, none already in the zone, spelled as
	// the update spelled them.
	Add []dns.RR
	// Delete holds the records to remove, each exactly one existing record
	// as it is in the zone: same owner spelling, TTL and data.
	Delete []dns.RR
	// SOA is the new SOA when the update replaced it (it is in Add, the
	// old one in Delete). The caller raises the serial only when SOA is
	// nil and the plan is not empty (RFC 2136 §3.6).
	SOA *dns.SOA
	// Ignored lists the parts of the update that RFC 2136 §3.4.2 says to
	// skip silently because they would break the zone: a CNAME beside
	// other data, deleting the apex SOA or NS RRset or the last apex NS.
	// A server may rather refuse the whole update, so the client learns.
	Ignored []Ignored
}

// Empty reports whether the plan changes nothing.
func (p Plan) Empty() bool { return len(p.Add) == 0 && len(p.Delete) == 0 }

// Ignored is one part of an update skipped to keep the zone valid.
type Ignored struct {
	RR     dns.RR
	Reason string
}

// Sections of an UPDATE message, for [Error.Section] (RFC 2136 §2).
const (
	SectionZone         = "zone"
	SectionPrerequisite = "prerequisite"
	SectionUpdate       = "update"
)

// Error says why an UPDATE is refused; nothing is to change.
type Error struct {
	Rcode   int    // the rcode to answer with
	Section string // SectionZone, SectionPrerequisite or SectionUpdate
	RR      dns.RR // the record at fault; nil for the zone section
	Reason  string
}

func (e *Error) Error() string {
	s := "update: " + e.Section
	if e.RR != nil {
		s += " " + strings.TrimSpace(strings.ReplaceAll(e.RR.String(), "\t", " "))
	}
	return fmt.Sprintf("%s: %s (%s)", s, e.Reason, dns.RcodeToString[e.Rcode])
}

// Apply checks the prerequisites of req against the zone's current records
// and computes the plan. rrs are the zone's records (SOA first), origin
// the zone's FQDN. Neither rrs nor req is modified.
//
// It returns an rcode other than NOERROR, with an [*Error] saying why,
// when the zone section is wrong (§3.1), a prerequisite fails (§3.2) or
// the update section is invalid (§3.4.1); the plan is then empty.
func Apply(origin string, rrs []dns.RR, req *dns.Msg) (Plan, int, error) {
	if req == nil {
		return Plan{}, dns.RcodeFormatError, &Error{Rcode: dns.RcodeFormatError, Section: SectionZone, Reason: "no message"}
	}
	z := newZone(origin, rrs)
	if e := z.checkZone(req.Question); e != nil {
		return Plan{}, e.Rcode, e
	}
	if e := z.checkPrerequisites(req.Answer); e != nil {
		return Plan{}, e.Rcode, e
	}
	if e := z.prescan(req.Ns); e != nil {
		return Plan{}, e.Rcode, e
	}
	for _, rr := range req.Ns {
		z.update(rr)
	}
	return z.plan(), dns.RcodeSuccess, nil
}

// zone is the working state of one Apply.
type zone struct {
	origin  string              // key of the zone's name
	names   map[string][]dns.RR // records by owner key, as updated so far
	before  map[string][]dns.RR // records of the names changed, as they were
	order   []string            // keys of the names changed, first change first
	ignored []Ignored
}

func (z *zone) ignore(rr dns.RR, reason string) {
	z.ignored = append(z.ignored, Ignored{RR: rr, Reason: reason})
}

func newZone(origin string, rrs []dns.RR) *zone {
	z := &zone{
		origin: nameKey(origin),
		names:  make(map[string][]dns.RR, len(rrs)),
		before: make(map[string][]dns.RR),
	}
	for _, rr := range rrs {
		k := nameKey(rr.Header().Name)
		z.names[k] = append(z.names[k], rr)
	}
	return z
}

// set replaces the records at key. The slices in names are never changed
// in place, so before keeps the old ones.
func (z *zone) set(key string, rrs []dns.RR) {
	if _, ok := z.before[key]; !ok {
		z.before[key] = z.names[key]
		z.order = append(z.order, key)
	}
	z.names[key] = rrs
}

// rrset returns the records of type t at key.
func (z *zone) rrset(key string, t uint16) []dns.RR {
	var out []dns.RR
	for _, rr := range z.names[key] {
		if rr.Header().Rrtype == t {
			out = append(out, rr)
		}
	}
	return out
}

// checkZone checks the zone section (§3.1.1).
func (z *zone) checkZone(q []dns.Question) *Error {
	fail := func(rcode int, reason string) *Error {
		return &Error{Rcode: rcode, Section: SectionZone, Reason: reason}
	}
	switch {
	case len(q) != 1:
		return fail(dns.RcodeFormatError, fmt.Sprintf("%d zones, want 1", len(q)))
	case q[0].Qtype != dns.TypeSOA:
		return fail(dns.RcodeFormatError, "zone type "+dns.Type(q[0].Qtype).String()+", want SOA")
	case q[0].Qclass != dns.ClassINET:
		return fail(dns.RcodeNotAuth, "zone class "+dns.Class(q[0].Qclass).String()+", want IN")
	case nameKey(q[0].Name) != z.origin:
		return fail(dns.RcodeNotAuth, "not authoritative for "+q[0].Name)
	}
	return nil
}

// checkPrerequisites checks the prerequisite section (§3.2, pseudocode in
// §3.2.5): the five kinds of §2.4 in one pass, then the value-dependent
// RRsets (§2.4.2) as whole sets.
func (z *zone) checkPrerequisites(prs []dns.RR) *Error {
	type rrsetKey struct {
		name string
		t    uint16
	}
	var keys []rrsetKey
	want := make(map[rrsetKey][]dns.RR)
	for _, rr := range prs {
		fail := func(rcode int, reason string) *Error {
			return &Error{Rcode: rcode, Section: SectionPrerequisite, RR: rr, Reason: reason}
		}
		if rr == nil {
			return fail(dns.RcodeFormatError, "no record")
		}
		h := rr.Header()
		if h.Ttl != 0 {
			return fail(dns.RcodeFormatError, "TTL must be 0")
		}
		key := nameKey(h.Name)
		if !below(key, z.origin) {
			return fail(dns.RcodeNotZone, "name outside the zone")
		}
		switch h.Class {
		case dns.ClassANY:
			if hasRdata(rr) {
				return fail(dns.RcodeFormatError, "class ANY with data")
			}
			if h.Rrtype == dns.TypeANY { // §2.4.4
				if len(z.names[key]) == 0 {
					return fail(dns.RcodeNameError, "name is not in use")
				}
			} else if len(z.rrset(key, h.Rrtype)) == 0 { // §2.4.1
				return fail(dns.RcodeNXRrset, "RRset does not exist")
			}
		case dns.ClassNONE:
			if hasRdata(rr) {
				return fail(dns.RcodeFormatError, "class NONE with data")
			}
			if h.Rrtype == dns.TypeANY { // §2.4.5
				if len(z.names[key]) > 0 {
					return fail(dns.RcodeYXDomain, "name is in use")
				}
			} else if len(z.rrset(key, h.Rrtype)) > 0 { // §2.4.3
				return fail(dns.RcodeYXRrset, "RRset exists")
			}
		case dns.ClassINET: // §2.4.2, compared below
			k := rrsetKey{key, h.Rrtype}
			if _, ok := want[k]; !ok {
				keys = append(keys, k)
			}
			want[k] = append(want[k], rr)
		default:
			return fail(dns.RcodeFormatError, "bad class "+dns.Class(h.Class).String())
		}
	}
	for _, k := range keys {
		if !sameSet(z.rrset(k.name, k.t), want[k]) {
			return &Error{Rcode: dns.RcodeNXRrset, Section: SectionPrerequisite, RR: want[k][0], Reason: "RRset differs"}
		}
	}
	return nil
}

// sameSet reports whether a and b hold the same data, as sets.
func sameSet(a, b []dns.RR) bool {
	return subset(a, b) && subset(b, a)
}

func subset(a, b []dns.RR) bool {
	for _, x := range a {
		if !slices.ContainsFunc(b, func(y dns.RR) bool { return sameRdata(x, y) }) {
			return false
		}
	}
	return true
}

// prescan checks the update section before anything changes (§3.4.1,
// pseudocode in §3.4.1.3).
func (z *zone) prescan(ups []dns.RR) *Error {
	for _, rr := range ups {
		fail := func(rcode int, reason string) *Error {
			return &Error{Rcode: rcode, Section: SectionUpdate, RR: rr, Reason: reason}
		}
		if rr == nil {
			return fail(dns.RcodeFormatError, "no record")
		}
		h := rr.Header()
		if !below(nameKey(h.Name), z.origin) {
			return fail(dns.RcodeNotZone, "name outside the zone")
		}
		switch h.Class {
		case dns.ClassINET: // add (§2.5.1)
			if isMeta(h.Rrtype) {
				return fail(dns.RcodeFormatError, "cannot add type "+dns.Type(h.Rrtype).String())
			}
			if !hasRdata(rr) && !mayBeEmpty(h.Rrtype) {
				return fail(dns.RcodeFormatError, "add without data")
			}
		case dns.ClassANY: // delete an RRset or a name (§2.5.2, §2.5.3)
			if h.Ttl != 0 {
				return fail(dns.RcodeFormatError, "TTL must be 0")
			}
			if hasRdata(rr) {
				return fail(dns.RcodeFormatError, "class ANY with data")
			}
			if isMeta(h.Rrtype) && h.Rrtype != dns.TypeANY {
				return fail(dns.RcodeFormatError, "cannot delete type "+dns.Type(h.Rrtype).String())
			}
		case dns.ClassNONE: // delete one record (§2.5.4)
			if h.Ttl != 0 {
				return fail(dns.RcodeFormatError, "TTL must be 0")
			}
			if isMeta(h.Rrtype) {
				return fail(dns.RcodeFormatError, "cannot delete type "+dns.Type(h.Rrtype).String())
			}
		default:
			return fail(dns.RcodeFormatError, "bad class "+dns.Class(h.Class).String())
		}
	}
	return nil
}

// update processes one record of the update section (§3.4.2), after
// prescan accepted them all.
func (z *zone) update(rr dns.RR) {
	h := rr.Header()
	key := nameKey(h.Name)
	apex := key == z.origin
	switch h.Class {
	case dns.ClassINET:
		z.add(key, apex, rr)
	case dns.ClassANY:
		// §3.4.2.3: delete the RRset, or every RRset at the name, but
		// never the apex SOA or NS.
		if apex && (h.Rrtype == dns.TypeSOA || h.Rrtype == dns.TypeNS) {
			z.ignore(rr, "the apex "+dns.TypeToString[h.Rrtype]+" RRset is never deleted")
			return
		}
		z.remove(key, func(r dns.RR) bool {
			t := r.Header().Rrtype
			if h.Rrtype != dns.TypeANY {
				return t == h.Rrtype
			}
			return !apex || (t != dns.TypeSOA && t != dns.TypeNS)
		})
	case dns.ClassNONE:
		z.deleteOne(key, apex, rr)
	}
}

// add adds rr (§3.4.2.2).
func (z *zone) add(key string, apex bool, rr dns.RR) {
	t, ttl := rr.Header().Rrtype, rr.Header().Ttl
	recs := z.names[key]
	if t == dns.TypeSOA {
		// Replace the SOA, only by a greater serial.
		old := z.rrset(key, dns.TypeSOA)
		if !apex || len(old) != 1 {
			return
		}
		o, ok1 := old[0].(*dns.SOA)
		n, ok2 := rr.(*dns.SOA)
		if !ok1 || !ok2 || !serialLess(o.Serial, n.Serial) {
			return
		}
		z.set(key, append(removeType(recs, t), dns.Copy(rr)))
		return
	}
	for _, r := range recs {
		rt := r.Header().Rrtype
		if t == dns.TypeCNAME && !cnameCompanion(rt) || rt == dns.TypeCNAME && !cnameCompanion(t) {
			z.ignore(rr, "a CNAME cannot share its name with other data") // §3.4.2.2
			return
		}
	}
	var out []dns.RR
	for _, r := range recs {
		switch {
		case r.Header().Rrtype != t:
			out = append(out, r)
		case identical(r, rr):
			return // already there
		case t == dns.TypeCNAME || t == dns.TypeDNAME || sameRdata(r, rr):
			// Replaced by rr (§3.4.2.2).
		case r.Header().Ttl != ttl && t != dns.TypeRRSIG:
			// One TTL per RRset (RFC 2181 §5.2): rr's. An RRSIG has
			// the TTL of the RRset it covers (RFC 4034 §3).
			c := dns.Copy(r)
			c.Header().Ttl = ttl
			out = append(out, c)
		default:
			out = append(out, r)
		}
	}
	z.set(key, append(out, dns.Copy(rr)))
}

// deleteOne deletes the records equal to rr (§3.4.2.4), except the apex
// SOA and the last apex NS.
func (z *zone) deleteOne(key string, apex bool, rr dns.RR) {
	t := rr.Header().Rrtype
	if apex && t == dns.TypeSOA {
		z.ignore(rr, "the SOA is never deleted")
		return
	}
	match := func(r dns.RR) bool { return r.Header().Rrtype == t && sameRdata(r, rr) }
	recs := z.names[key]
	n := 0
	for _, r := range recs {
		if match(r) {
			n++
		}
	}
	if n == 0 {
		return
	}
	if apex && t == dns.TypeNS && n == len(z.rrset(key, dns.TypeNS)) {
		z.ignore(rr, "the last NS at the apex is never deleted")
		return
	}
	z.remove(key, match)
}

// remove removes the records at key that match.
func (z *zone) remove(key string, match func(dns.RR) bool) {
	recs := z.names[key]
	out := slices.DeleteFunc(slices.Clone(recs), match)
	if len(out) != len(recs) {
		z.set(key, out)
	}
}

// removeType returns a copy of recs without the records of type t.
func removeType(recs []dns.RR, t uint16) []dns.RR {
	return slices.DeleteFunc(slices.Clone(recs), func(r dns.RR) bool { return r.Header().Rrtype == t })
}

// plan returns the net difference between the zone as it was and as it
// is now, name by name.
func (z *zone) plan() Plan {
	p := Plan{Ignored: z.ignored}
	for _, key := range z.order {
		del, add := diff(z.before[key], z.names[key])
		p.Delete = append(p.Delete, del...)
		p.Add = append(p.Add, add...)
	}
	for _, rr := range p.Add {
		if soa, ok := rr.(*dns.SOA); ok {
			p.SOA = soa
		}
	}
	return p
}

// diff returns the records of old missing from now, and those of now
// missing from old, matching each record at most once.
func diff(old, now []dns.RR) (del, add []dns.RR) {
	used := make([]bool, len(now))
	for _, o := range old {
		found := false
		for j, n := range now {
			if !used[j] && identical(o, n) {
				used[j], found = true, true
				break
			}
		}
		if !found {
			del = append(del, o)
		}
	}
	for j, n := range now {
		if !used[j] {
			add = append(add, n)
		}
	}
	return del, add
}

// Result applies a plan to records, returning the new record set (for
// checking the new zone before committing). Each record of p.Delete
// removes one identical record; a new SOA takes the place of the first
// record, the other additions come last. rrs is not modified.
func Result(rrs []dns.RR, p Plan) []dns.RR {
	del := make(map[string][]dns.RR)
	for _, rr := range p.Delete {
		k := nameKey(rr.Header().Name)
		del[k] = append(del[k], rr)
	}
	out := make([]dns.RR, 0, len(rrs)+len(p.Add))
	var rest []dns.RR
	for _, rr := range p.Add {
		if rr.Header().Rrtype == dns.TypeSOA {
			out = append(out, rr)
		} else {
			rest = append(rest, rr)
		}
	}
	for _, rr := range rrs {
		if len(del) > 0 {
			k := nameKey(rr.Header().Name)
			if i := slices.IndexFunc(del[k], func(d dns.RR) bool { return identical(rr, d) }); i >= 0 {
				del[k] = slices.Delete(del[k], i, i+1)
				continue
			}
		}
		out = append(out, rr)
	}
	return append(out, rest...)
}

// Describe lists a plan for a commit message: one line per record,
// "- <rr>" for each deletion then "+ <rr>" for each addition.
func Describe(p Plan) string {
	var b strings.Builder
	for _, rr := range p.Delete {
		b.WriteString("- " + rr.String() + "\n")
	}
	for _, rr := range p.Add {
		b.WriteString("+ " + rr.String() + "\n")
	}
	return b.String()
}
