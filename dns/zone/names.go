package zone

import (
	"strings"

	"github.com/miekg/dns"
)

// nameKey returns a key for a domain name that is equal for names equal in
// DNS (ignoring ASCII case and how octets are escaped) and that sorts in
// DNS canonical order (RFC 4034 §6.1): labels from the right, each compared
// as lower-case octets, a missing label first.
//
// The key holds the labels right to left, each ended by 0x00; octets 0x00
// and 0x01 inside a label become 0x01 0x01 and 0x01 0x02, so the ending
// sorts before any octet.
func nameKey(name string) string {
	var wire [256]byte
	n, err := dns.PackDomainName(dns.Fqdn(name), wire[:], 0, nil, false)
	if err != nil {
		// Not a valid name (Parse never returns one): compare it as text,
		// after every valid name.
		return "\xff" + asciiLower(name)
	}
	var starts []int
	for i := 0; i < n && wire[i] != 0; i += int(wire[i]) + 1 {
		starts = append(starts, i)
	}
	var b strings.Builder
	b.Grow(n + 4)
	for j := len(starts) - 1; j >= 0; j-- {
		i := starts[j]
		for _, c := range wire[i+1 : i+1+int(wire[i])] {
			switch {
			case c <= 1:
				b.WriteByte(1)
				b.WriteByte(c + 1)
			case 'A' <= c && c <= 'Z':
				b.WriteByte(c + 'a' - 'A')
			default:
				b.WriteByte(c)
			}
		}
		b.WriteByte(0)
	}
	return b.String()
}

// lowerName returns name with its ASCII letters lower-cased, however they
// are written ("A", "\065" or even "\321", which miekg reads as "A").
func lowerName(name string) string {
	var wire [256]byte
	n, err := dns.PackDomainName(dns.Fqdn(name), wire[:], 0, nil, false)
	if err != nil {
		return asciiLower(name)
	}
	// Length octets are at most 63, below 'A': lower-case every octet.
	lower := []byte(asciiLower(string(wire[:n])))
	s, _, err := dns.UnpackDomainName(lower, 0)
	if err != nil {
		return asciiLower(name)
	}
	return s
}

// asciiLower lower-cases ASCII letters only, as DNS does; strings.ToLower
// would also rewrite bytes that are not UTF-8.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// isBelow reports whether name is origin or below it.
func isBelow(name, origin string) bool {
	n, o := nameKey(name), nameKey(origin)
	return strings.HasPrefix(n, o)
}

// relative returns name relative to origin without its trailing dot, "" for
// origin itself, or ok false if name is not below origin.
func relative(name, origin string) (rel string, ok bool) {
	if !isBelow(name, origin) {
		return "", false
	}
	labels := dns.Split(name)
	keep := len(labels) - dns.CountLabel(origin)
	if keep <= 0 {
		return "", true
	}
	if keep == len(labels) {
		return strings.TrimSuffix(name, "."), true // origin is the root
	}
	return name[:labels[keep]-1], true
}

// presentName returns name as miekg prints it, with special characters
// escaped. miekg does not export its printer, but prints a header's name
// first, up to a tab (a tab in a name is printed as \009).
func presentName(name string) string {
	h := dns.RR_Header{Name: name}
	s, _, _ := strings.Cut(h.String(), "\t")
	return s
}

// nameFields returns pointers to the domain names in rr's data that are
// checked for a missing trailing dot, written relative to the origin and
// compared ignoring case.
func nameFields(rr dns.RR) []*string {
	switch rr := rr.(type) {
	case *dns.NS:
		return []*string{&rr.Ns}
	case *dns.CNAME:
		return []*string{&rr.Target}
	case *dns.DNAME:
		return []*string{&rr.Target}
	case *dns.PTR:
		return []*string{&rr.Ptr}
	case *dns.MX:
		return []*string{&rr.Mx}
	case *dns.SRV:
		return []*string{&rr.Target}
	case *dns.SOA:
		return []*string{&rr.Ns, &rr.Mbox}
	}
	return nil
}

// rdataText returns rr's data as text, after applying fix to a copy of the
// names nameFields returns.
func rdataText(rr dns.RR, fix func(string) string) string {
	if fix != nil && nameFields(rr) != nil {
		rr = dns.Copy(rr)
		for _, p := range nameFields(rr) {
			*p = fix(*p)
		}
	}
	// The header is four fields, each ended by a tab; a tab in the owner
	// name is printed as \009. (Cutting off Header().String() would not do:
	// RFC3597 records print their class as CLASS1, not IN.)
	s := rr.String()
	for range 4 {
		_, s, _ = strings.Cut(s, "\t")
	}
	return s
}
