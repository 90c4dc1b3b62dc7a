package zone

import (
	"bufio"
	"cmp"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// Write writes z as a canonical master file: the same records always give
// the same bytes, whatever their order in z. It writes an $ORIGIN line, the
// SOA records at the origin, then the other records sorted by owner in DNS
// canonical order (RFC 4034 §6.1), type and text. Every record is one line
// with its TTL and class; names at or below the origin are written relative
// to it. Parse of the output gives the same records.
func Write(w io.Writer, z *Zone) error {
	if z == nil {
		return errors.New("zone: Write of a nil zone")
	}
	if _, ok := dns.IsDomainName(z.Origin); !ok || z.Origin == "" {
		return errors.New("zone: Write: bad origin " + strconv.Quote(z.Origin))
	}
	origin := dns.Fqdn(z.Origin)
	originKey := nameKey(origin)

	type line struct {
		soa  bool // an SOA at the origin, written first
		key  string
		typ  uint16
		text string
	}
	lines := make([]line, len(z.Records))
	for i, rr := range z.Records {
		h := rr.Header()
		key := nameKey(h.Name)
		lines[i] = line{
			soa:  h.Rrtype == dns.TypeSOA && key == originKey,
			key:  key,
			typ:  h.Rrtype,
			text: recordText(rr, origin),
		}
	}
	slices.SortFunc(lines, func(a, b line) int {
		if a.soa != b.soa {
			if a.soa {
				return -1
			}
			return 1
		}
		return cmp.Or(strings.Compare(a.key, b.key), cmp.Compare(a.typ, b.typ), strings.Compare(a.text, b.text))
	})

	bw := bufio.NewWriter(w)
	bw.WriteString("$ORIGIN " + presentName(origin) + "\n")
	for _, l := range lines {
		bw.WriteString(l.text)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// recordText returns rr as one line of a master file whose origin is
// origin, with names relative to it where possible.
func recordText(rr dns.RR, origin string) string {
	h := rr.Header()
	rdata := rdataText(rr, func(name string) string {
		if rel, ok := relative(name, origin); ok && rel != "" {
			return rel
		}
		return name // the origin itself ("@" would print as "\@") or outside it
	})
	s := ownerText(h.Name, origin) + "\t" + strconv.FormatUint(uint64(h.Ttl), 10) + "\t" +
		dns.Class(h.Class).String() + "\t" + dns.Type(h.Rrtype).String()
	if rdata != "" {
		// miekg reads a type followed by a blank as a record missing data,
		// but a type alone as one with none (an empty APL list).
		s += "\t" + rdata
	}
	return s
}

func ownerText(name, origin string) string {
	rel, ok := relative(name, origin)
	switch {
	case !ok:
		return presentName(name)
	case rel == "":
		return "@"
	}
	s := presentName(rel)
	if strings.HasPrefix(s, "$") {
		// "$ttl" at the start of a line would be read as a directive
		return presentName(name)
	}
	return s
}
