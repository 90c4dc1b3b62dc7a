package zone

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
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
// with its TTL and class, as decoded from its wire form; names at or below
// the origin are written relative to it when that is plain text. A record
// whose text miekg would not read back is written in the generic form of
// RFC 3597 (\# length hex). Parse of the output gives the same records.
// Write does not modify z.
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
	wire := make([]byte, 256+dns.MaxMsgSize) // a name and the longest data
	for i, rr := range z.Records {
		h := rr.Header()
		text, err := recordText(decoded(rr, wire), origin)
		if err != nil {
			return err
		}
		key := nameKey(h.Name)
		lines[i] = line{soa: h.Rrtype == dns.TypeSOA && key == originKey, key: key, typ: h.Rrtype, text: text}
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

// decoded returns rr as read from its wire form, so that records equal on
// the wire are written the same, whatever text they were read from ("\065"
// or "A", "\010" or a line break in a TXT string). wire is room to encode
// rr in. It returns rr itself if rr cannot be encoded.
func decoded(rr dns.RR, wire []byte) dns.RR {
	// PackRR sets the Rdlength of what it packs: pack a copy, for callers
	// may share z between goroutines.
	n, err := dns.PackRR(dns.Copy(rr), wire, 0, nil, false)
	if err != nil {
		return rr
	}
	back, _, err := dns.UnpackRR(wire[:n], 0)
	if err != nil {
		return rr
	}
	return back
}

// recordText returns rr as one line of a master file whose origin is
// origin, with names relative to it where possible.
func recordText(rr dns.RR, origin string) (string, error) {
	h := rr.Header()
	if _, ok := dns.IsDomainName(h.Name); !ok || h.Name == "" {
		return "", fmt.Errorf("zone: Write: record with bad owner name %q", h.Name)
	}
	var rdata string
	// miekg's parser takes the line after an IPSECKEY's key for part of
	// it, and may print data it cannot read: write those in the generic
	// form of RFC 3597.
	if h.Rrtype != dns.TypeIPSECKEY && readsBack(rr) {
		rdata = rdataText(rr, func(name string) string {
			if rel, ok := relative(name, origin); ok && plain(rel) {
				return rel
			}
			return name // the origin itself ("@" would print as "\@"), outside it, or not plain
		})
	} else {
		generic := new(dns.RFC3597)
		if err := generic.ToRFC3597(rr); err != nil {
			return "", fmt.Errorf("zone: Write: %s: %w", rr, err)
		}
		rdata = rdataText(generic, nil)
	}
	s := ownerText(h.Name, origin) + "\t" + strconv.FormatUint(uint64(h.Ttl), 10) + "\t" +
		dns.Class(h.Class).String() + "\t" + dns.Type(h.Rrtype).String()
	if rdata != "" {
		s += "\t" + rdata
	}
	return s, nil
}

// readsBack reports whether miekg's parser reads rr's text as a record
// with the same text. (Comparing fields would be too strict: miekg keeps
// escapes in text fields as written.)
func readsBack(rr dns.RR) bool {
	text := rr.String()
	back, err := dns.NewRR(text)
	return err == nil && back != nil && back.String() == text
}

func ownerText(name, origin string) string {
	rel, ok := relative(name, origin)
	switch {
	case ok && rel == "":
		return "@"
	case ok && plain(rel):
		return rel
	}
	return presentName(name)
}

// plain reports whether a relative name is written only with letters,
// digits and "-_*/.", so that it cannot be mistaken for anything else
// ("$ttl" for a directive) and miekg reads it back (it does not read a
// name that is just \" in an SOA). Other names are written in full.
func plain(rel string) bool {
	if rel == "" {
		return false
	}
	for _, c := range []byte(rel) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-' || c == '_' || c == '*' || c == '/' || c == '.':
		default:
			return false
		}
	}
	return true
}
