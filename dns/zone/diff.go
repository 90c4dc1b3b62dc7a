package zone

import (
	"strconv"

	"github.com/miekg/dns"
)

// Diff returns the records of new that are not in old (added) and those of
// old not in new (removed), each in its zone's order. Records are compared
// ignoring order and the case of names; a record whose TTL changed is
// removed and added. A record given n times counts n times.
func Diff(old, new *Zone) (added, removed []dns.RR) {
	return missing(new, old), missing(old, new)
}

// missing returns the records of a not in b.
func missing(a, b *Zone) []dns.RR {
	have := map[string]int{}
	if b != nil {
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

// recordKey identifies a record ignoring the case of its owner and of the
// names in its data.
func recordKey(rr dns.RR) string {
	h := rr.Header()
	return nameKey(h.Name) + "\t" + strconv.FormatUint(uint64(h.Ttl), 10) + " " +
		strconv.Itoa(int(h.Class)) + " " + strconv.Itoa(int(h.Rrtype)) + "\t" + rdataText(rr, asciiLower)
}
