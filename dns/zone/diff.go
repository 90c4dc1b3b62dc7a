package zone

import (
	"strconv"

	"github.com/miekg/dns"
)

// Diff returns the records of new that are not in old (added) and those of
// old not in new (removed), each in its zone's order. Records are compared
// by their wire form, ignoring order and the case of names; a record whose
// TTL changed is removed and added. A record given n times counts n times.
func Diff(old, new *Zone) (added, removed []dns.RR) {
	return missing(new, old), missing(old, new)
}

// missing returns the records of a not in b.
func missing(a, b *Zone) []dns.RR {
	var have map[string]int
	if b != nil {
		have = make(map[string]int, len(b.Records))
		for _, rr := range b.Records {
			have[recordKey(rr)]++
		}
	}
	var out []dns.RR
	if a != nil {
		for _, rr := range a.Records {
			k := recordKey(rr)
			if have[k] > 0 {
				have[k]--
			} else {
				out = append(out, rr)
			}
		}
	}
	return out
}

// recordKey identifies a record by its wire form, ignoring the case of its
// owner and of the names nameFields returns. The wire form, not the text,
// because miekg prints some data as it was written ("\010" or a raw line
// break in a TXT string) and the same data read from the wire otherwise.
func recordKey(rr dns.RR) string {
	owner := nameKey(rr.Header().Name)
	cp := dns.Copy(rr)
	cp.Header().Name = "." // one octet, cut off below
	for _, p := range nameFields(cp) {
		*p = lowerName(*p)
	}
	wire := make([]byte, dns.Len(cp)+64)
	n, err := dns.PackRR(cp, wire, 0, nil, false)
	if err != nil {
		// not encodable (Parse never returns such a record): use its text
		return "text:" + owner + "\t" + rdataText(cp, nil) + cp.Header().String()
	}
	return strconv.Itoa(len(owner)) + ":" + owner + string(wire[1:n])
}
