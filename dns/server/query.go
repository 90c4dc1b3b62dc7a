package server

import (
	"encoding/binary"

	"github.com/miekg/dns"
)

// maxName is the longest name in wire format (RFC 1035 §2.3.4).
const maxName = 255

// query is what the fast path reads of a UDP query: the parts its answer
// depends on. Everything else of the message was checked to be absent or
// of no effect on the general path's answer.
type query struct {
	id    uint16
	rd    bool   // recursion desired: copied into the answer
	cd    bool   // checking disabled: copied into the answer
	name  []byte // the question name in wire format, as spelled in the query
	lname []byte // name with ASCII letters lowered
	upper bool   // name has upper-case letters
	qtype uint16
	edns  bool // an OPT record of version 0 came with it
	size  int  // the largest answer the client takes, as fit computes it
	hash  uint64
}

// parseQuery reads a plain query of the kind the fast path answers: QUERY
// opcode, one question of class IN whose labels hold only letters, digits,
// '-', '_' and '*' (nothing miekg would escape), and nothing else but an
// optional OPT record of version 0 with no options other than cookies. It
// returns ok false for anything else, which the general path answers:
// responses, other opcodes, TSIG, zone transfers, other classes, escaped
// or compressed names, unusual EDNS, trailing bytes, malformed messages.
// lname receives the lowered name; the query keeps slices of pkt and
// lname, so parseQuery allocates nothing.
func parseQuery(pkt []byte, lname *[maxName]byte) (q query, ok bool) {
	const hdr = 12
	if len(pkt) < hdr+5 {
		return q, false
	}
	if pkt[2]&0xF8 != 0 { // QR set, or an opcode other than QUERY
		return q, false
	}
	qd, an, ns, ar := be16(pkt[4:]), be16(pkt[6:]), be16(pkt[8:]), be16(pkt[10:])
	if qd != 1 || an != 0 || ns != 0 || ar > 1 {
		return q, false
	}
	q.id = be16(pkt)
	q.rd = pkt[2]&0x01 != 0
	q.cd = pkt[3]&0x10 != 0

	h := uint64(14695981039346656037) // FNV-1a
	off := hdr
	for {
		if off >= len(pkt) {
			return q, false
		}
		l := int(pkt[off])
		if l == 0 {
			lname[off-hdr] = 0
			off++
			break
		}
		if l > 63 || off+1+l >= len(pkt) || off+1+l-hdr >= maxName {
			return q, false // a pointer, an extended label type, or too long
		}
		lname[off-hdr] = byte(l)
		for i := off + 1; i <= off+l; i++ {
			c := pkt[i]
			switch {
			case 'A' <= c && c <= 'Z':
				q.upper = true
				c += 'a' - 'A'
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '*':
			default:
				return q, false
			}
			lname[i-hdr] = c
			h = (h ^ uint64(c)) * 1099511628211
		}
		h = (h ^ uint64(l)) * 1099511628211
		off += 1 + l
	}
	q.name, q.lname = pkt[hdr:off], lname[:off-hdr]
	if off+4 > len(pkt) {
		return q, false
	}
	q.qtype = be16(pkt[off:])
	if be16(pkt[off+2:]) != dns.ClassINET || q.qtype == dns.TypeAXFR || q.qtype == dns.TypeIXFR {
		return q, false
	}
	off += 4
	q.size = plainUDPSize
	if ar == 1 {
		// The OPT record: root owner, type, UDP size, extended rcode,
		// version, flags, rdata length, options.
		if off+11 > len(pkt) || pkt[off] != 0 || be16(pkt[off+1:]) != dns.TypeOPT || pkt[off+6] != 0 {
			return q, false
		}
		q.edns = true
		q.size = max(plainUDPSize, min(int(be16(pkt[off+3:])), DefaultUDPSize))
		rdlen := int(be16(pkt[off+9:]))
		off += 11
		if off+rdlen != len(pkt) {
			return q, false
		}
		for end := off + rdlen; off < end; {
			if off+4 > end {
				return q, false
			}
			code, l := be16(pkt[off:]), int(be16(pkt[off+2:]))
			if code != dns.EDNS0COOKIE || off+4+l > end {
				return q, false
			}
			off += 4 + l
		}
	}
	if off != len(pkt) {
		return q, false
	}
	h = (h ^ uint64(q.qtype)) * 1099511628211
	if q.edns {
		h = (h ^ 1) * 1099511628211
	}
	q.hash = h
	return q, true
}

func be16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }

// presentation returns a wire name of the kind parseQuery accepts in
// presentation format: no byte of it needs escaping.
func presentation(wire []byte) string {
	if len(wire) <= 1 {
		return "."
	}
	b := make([]byte, 0, len(wire))
	for off := 0; wire[off] != 0; off += 1 + int(wire[off]) {
		b = append(b, wire[off+1:off+1+int(wire[off])]...)
		b = append(b, '.')
	}
	return string(b)
}
