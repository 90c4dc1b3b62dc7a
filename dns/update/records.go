package update

import (
	"bytes"
	"reflect"

	"github.com/miekg/dns"
)

// nameKey returns a key for a domain name, equal for names equal in DNS:
// the name in wire format with ASCII letters lower-cased (RFC 4343), so
// escapes and case do not matter. A name that cannot be packed gets a key
// starting with 0xff, which no wire name does (labels are at most 63 long),
// so it is in no zone.
func nameKey(name string) string {
	var buf [256]byte
	n, err := dns.PackDomainName(dns.Fqdn(name), buf[:], 0, nil, false)
	if err != nil {
		return "\xff" + name
	}
	b := buf[:n]
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// below reports whether the name with key name is the name with key origin
// or below it: whether origin is a suffix of name that starts at a label.
func below(name, origin string) bool {
	for i := 0; i < len(name); i += int(name[i]) + 1 {
		if name[i:] == origin {
			return true
		}
		if name[i] == 0 || name[i] > 63 {
			break
		}
	}
	return false
}

// sameRdata reports whether a and b have the same type and data. Domain
// names in the data are compared ignoring case, as dns.IsDuplicate does;
// comparing the wire forms too makes spellings that differ only in the
// text (escapes, RFC 3597 hex digits) equal.
func sameRdata(a, b dns.RR) bool {
	if a == b {
		return true
	}
	ha := a.Header()
	if ha.Rrtype != b.Header().Rrtype {
		return false
	}
	c := dns.Copy(b)
	*c.Header() = *ha // IsDuplicate compares the headers too
	if dns.IsDuplicate(a, c) {
		return true
	}
	wa, okA := rdataWire(a)
	wb, okB := rdataWire(b)
	return okA && okB && bytes.Equal(wa, wb)
}

// rdataWire returns rr packed under a fixed header, so that the bytes
// differ only where the data does.
func rdataWire(rr dns.RR) ([]byte, bool) {
	c := dns.Copy(rr)
	*c.Header() = dns.RR_Header{Name: ".", Rrtype: rr.Header().Rrtype, Class: dns.ClassINET}
	buf := make([]byte, dns.Len(c)+16)
	n, err := dns.PackRR(c, buf, 0, nil, false)
	if err != nil {
		return nil, false
	}
	return buf[:n], true
}

// identical reports whether a and b, records at the same name, are the
// same record: same type, TTL and data.
func identical(a, b dns.RR) bool {
	return a.Header().Ttl == b.Header().Ttl && sameRdata(a, b)
}

// hasRdata reports whether rr carries data. Messages built with miekg's
// update helpers hold *dns.ANY records, which have none. A record unpacked
// from the wire knows its RDLENGTH; one with RDLENGTH 0 is left as miekg
// made it, every field zero. So is a record built without data.
func hasRdata(rr dns.RR) bool {
	switch rr := rr.(type) {
	case *dns.ANY:
		return false
	case *dns.RFC3597:
		return rr.Rdata != ""
	}
	h := rr.Header()
	if h.Rdlength > 0 {
		return true
	}
	newRR, ok := dns.TypeToRR[h.Rrtype]
	if !ok {
		return true
	}
	blank := newRR()
	*blank.Header() = *h
	return !reflect.DeepEqual(rr, blank)
}

// mayBeEmpty reports whether records of type t may have empty data: NULL
// (RFC 1035 §3.3.10), APL (RFC 3123 §4) and types unknown to us (RFC 3597).
func mayBeEmpty(t uint16) bool {
	if _, known := dns.TypeToRR[t]; !known {
		return true
	}
	return t == dns.TypeNULL || t == dns.TypeAPL
}

// isMeta reports whether t is no data type (RFC 6895 §3.1): reserved 0,
// OPT, or a QTYPE or meta-TYPE (128–255: TKEY, TSIG, IXFR, AXFR, MAILB,
// MAILA, ANY, ...).
func isMeta(t uint16) bool {
	return t == 0 || t == dns.TypeOPT || (128 <= t && t <= 255)
}

// cnameCompanion reports whether records of type t may share a name with a
// CNAME (RFC 4035 §2.5, RFC 2181 §10.1).
func cnameCompanion(t uint16) bool {
	return t == dns.TypeCNAME || t == dns.TypeRRSIG || t == dns.TypeNSEC
}

// serialLess reports whether serial a is less than b (RFC 1982 §3.2).
func serialLess(a, b uint32) bool {
	d := b - a
	return d != 0 && d < 1<<31
}
