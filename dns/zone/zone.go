package zone

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// MaxSize is the largest zone file Parse accepts, in bytes. 256 MiB is
// about 5,000,000 ordinary records: large zones (a million records is a
// figure we track) load, while a runaway file cannot exhaust memory; the
// parsed form takes several times the text.
const MaxSize = 256 << 20

// DefaultTTL is the TTL of records before the first $TTL or explicit TTL,
// as in robur's zone parser.
const DefaultTTL = 3600

// Errors wrapped by a *ParseError, for errors.Is.
var (
	ErrTooLarge = errors.New("zone file larger than 256 MiB")
	// ErrInclude: $INCLUDE would read files, and a service has none after
	// start-up (nor does robur's parser support it).
	ErrInclude = errors.New("$INCLUDE is not supported")
	// ErrGenerate: robur's parser does not know $GENERATE, files we write
	// never hold it, and expanding it costs more than its text suggests.
	ErrGenerate = errors.New("$GENERATE is not supported")
	ErrOrigin   = errors.New("bad origin")
	// ErrRecord: a record miekg's parser accepts but a zone must not hold,
	// such as one without data (an UPDATE form) or one of a meta type.
	ErrRecord = errors.New("record not allowed in a zone")
)

// ParseError says why a zone file could not be parsed, and where.
type ParseError struct {
	Origin string // the zone's origin, as given to Parse
	Line   int    // 1-based; 0 if the error is about the whole file
	Column int    // 1-based, of the offending token; 0 if unknown
	Msg    string
	Err    error // the cause: one of the Err variables or a *dns.ParseError
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("zone ")
	b.WriteString(e.Origin)
	if e.Line > 0 {
		fmt.Fprintf(&b, ": line %d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

func (e *ParseError) Unwrap() error { return e.Err }

// Zone is a parsed zone: its origin and its records.
type Zone struct {
	// Origin is the zone's name as given to Parse, fully qualified.
	Origin string
	// Records are in file order, with $ORIGIN, $TTL and relative names
	// resolved.
	Records []dns.RR
}

// Parse parses a zone file for the zone origin. Relative names are relative
// to origin until an $ORIGIN line says otherwise; a record without a TTL
// takes the last one given ($TTL or explicit), else DefaultTTL.
//
// Parse refuses files over MaxSize, $INCLUDE and $GENERATE. Errors are of
// type *ParseError.
func Parse(origin string, src []byte) (*Zone, error) {
	if _, ok := dns.IsDomainName(origin); !ok || origin == "" {
		return nil, &ParseError{Origin: origin, Msg: fmt.Sprintf("bad origin %q", origin), Err: ErrOrigin}
	}
	origin = dns.Fqdn(origin)
	if len(src) > MaxSize {
		return nil, &ParseError{Origin: origin, Msg: ErrTooLarge.Error(), Err: ErrTooLarge}
	}
	clean, err := prepare(src)
	if err != nil {
		err.Origin = origin
		return nil, err
	}

	r := &lineReader{src: clean}
	zp := dns.NewZoneParser(r, origin, "")
	zp.SetDefaultTTL(DefaultTTL)
	// Room for a record a line: growing the slice of a million records
	// by appends took a tenth of Parse.
	z := &Zone{Origin: origin, Records: make([]dns.RR, 0, bytes.Count(clean, []byte{'\n'})+1)}
	// room to encode a record twice: a name and the longest data, each
	wire := make([]byte, 2*(256+dns.MaxMsgSize))
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		if msg := badRecord(rr, wire); msg != "" {
			return nil, &ParseError{Origin: origin, Line: r.line, Msg: msg, Err: ErrRecord}
		}
		z.Records = append(z.Records, rr)
	}
	if err := zp.Err(); err != nil {
		return nil, fromDNSError(origin, err)
	}
	switch spare := cap(z.Records) - len(z.Records); {
	case len(z.Records) == 0:
		z.Records = nil // as appends to nil left it
	case spare > len(z.Records)/4:
		// many comments, blank or continued lines: keep no more room
		// than growing the slice would have left
		z.Records = slices.Clone(z.Records)
	}
	return z, nil
}

// badRecord says why miekg's parser accepted rr but a zone must not hold
// it, or returns "". Such records could not be served, and some would not
// survive Write and Parse. wire is room to encode rr in twice.
func badRecord(rr dns.RR, wire []byte) string {
	h := rr.Header()
	t := dns.Type(h.Rrtype)
	switch {
	case h.Name == "":
		return "no owner name: a line starting with a blank repeats the previous owner, and there is none"
	case !ownerFqdn(h.Name):
		// miekg miscounts escapes after bytes that are not ASCII: it takes
		// "\xd1\xb6\\\." for a full name although its last dot is escaped.
		return fmt.Sprintf("bad owner name %s", presentName(h.Name))
	case h.Rrtype == dns.TypeNone || h.Rrtype == dns.TypeOPT || h.Rrtype >= 128 && h.Rrtype <= 255:
		return fmt.Sprintf("type %s is not zone data", t)
	case h.Rrtype == dns.TypeNULL:
		return "NULL records are not allowed in master files (RFC 1035 §3.3.10)"
	}
	if empty(rr) {
		return fmt.Sprintf("%s record without data", t)
	}
	if plainRecord(rr) {
		return ""
	}
	return wireProblem(rr, t, wire)
}

// wireProblem says why rr, of type t, does not survive encoding, decoding
// and encoding again, or returns "". wire is room to encode rr in twice.
func wireProblem(rr dns.RR, t dns.Type, wire []byte) string {
	// miekg checks some data only when encoding it (base64, hex, lengths),
	// and encodes some it cannot decode (an SOA from a short \# form).
	first, second := wire[:len(wire)/2], wire[len(wire)/2:]
	n, err := dns.PackRR(rr, first, 0, nil, false)
	if err != nil {
		return fmt.Sprintf("%s record cannot be encoded: %v", t, err)
	}
	back, _, err := dns.UnpackRR(first[:n], 0)
	if err != nil {
		return fmt.Sprintf("%s record cannot be decoded: %v", t, err)
	}
	if m, err := dns.PackRR(back, second, 0, nil, false); err != nil || !bytes.Equal(first[:n], second[:m]) {
		return fmt.Sprintf("%s record does not survive encoding", t)
	}
	if empty(back) { // its data was all dropped in encoding, such as "\"
		return fmt.Sprintf("%s record without data", t)
	}
	return ""
}

// plainRecord reports whether rr surely survives the wire, which most
// records of large zones do, so that badRecord need not encode it to know:
// an address of the right length, or plain names and strings (no escapes,
// see plainName) of the lengths the wire takes. Any other record is
// encoded. rr has data (empty is false).
func plainRecord(rr dns.RR) bool {
	h := rr.Header()
	if !plainName(h.Name) {
		return false
	}
	switch rr := rr.(type) {
	case *dns.A:
		return h.Rrtype == dns.TypeA && rr.A.To4() != nil
	case *dns.AAAA:
		return h.Rrtype == dns.TypeAAAA && len(rr.AAAA) == net.IPv6len
	case *dns.CNAME:
		return h.Rrtype == dns.TypeCNAME && plainName(rr.Target)
	case *dns.NS:
		return h.Rrtype == dns.TypeNS && plainName(rr.Ns)
	case *dns.PTR:
		return h.Rrtype == dns.TypePTR && plainName(rr.Ptr)
	case *dns.MX:
		return h.Rrtype == dns.TypeMX && plainName(rr.Mx)
	case *dns.TXT:
		if h.Rrtype != dns.TypeTXT || len(rr.Txt) > 200 {
			return false
		}
		for _, s := range rr.Txt {
			if len(s) > 255 || strings.Contains(s, "\\") {
				return false
			}
		}
		return true
	}
	return false
}

// plainName reports whether name is fully qualified and plain: labels that
// the wire takes, of printable ASCII that needs no escape in miekg's text.
func plainName(name string) bool {
	return dns.IsFqdn(name) && plainText(name) && plainLabels(name)
}

// ownerFqdn reports whether an owner name ends in a dot as miekg prints
// it. A name of plain octets is printed as it is, and most are plain.
func ownerFqdn(name string) bool {
	if plainText(name) {
		return dns.IsFqdn(name)
	}
	return dns.IsFqdn(presentName(name))
}

// plainText reports whether miekg prints s, a name, as it is: it holds
// only printable ASCII that needs no escape.
func plainText(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\'', '@', ';', '(', ')', '"', '\\':
			return false
		default:
			if c < ' ' || c > '~' {
				return false
			}
		}
	}
	return true
}

// empty reports whether rr has no data: miekg accepts such records, as in
// an RFC 2136 UPDATE that deletes an RRset, leaving their fields zero.
//
// That is, whether its data prints as a record of its type with zero
// fields does (emptyByText). For the common types the fields say so
// without printing: the text of a name is empty only if the name is, or
// is a dangling escape (left to emptyByText); an address prints only if
// it is not nil; TXT strings print quotes, even an empty one.
func empty(rr dns.RR) bool {
	t := rr.Header().Rrtype
	var name string // the one name a type below holds
	switch rr := rr.(type) {
	case *dns.A:
		if t == dns.TypeA {
			return rr.A == nil
		}
	case *dns.AAAA:
		if t == dns.TypeAAAA {
			return rr.AAAA == nil
		}
	case *dns.TXT:
		if t == dns.TypeTXT {
			return len(rr.Txt) == 0
		}
	case *dns.CNAME:
		if t == dns.TypeCNAME {
			name = rr.Target
		}
	case *dns.NS:
		if t == dns.TypeNS {
			name = rr.Ns
		}
	case *dns.PTR:
		if t == dns.TypePTR {
			name = rr.Ptr
		}
	case *dns.MX:
		if t == dns.TypeMX {
			if rr.Preference != 0 {
				return false // "10 " is not "0 "
			}
			name = rr.Mx
		}
	}
	if name != "" && !strings.Contains(name, "\\") {
		return false
	}
	return emptyByText(rr)
}

// emptyByText is empty for any record: it compares the text of rr's data
// with that of a record of its type without data.
func emptyByText(rr dns.RR) bool {
	t := rr.Header().Rrtype
	zero, ok := emptyText.Load(t)
	if !ok {
		newRR, known := dns.TypeToRR[t]
		if !known {
			return false
		}
		z := newRR()
		*z.Header() = *rr.Header()
		// The data's text does not depend on the header: one per type.
		zero, _ = emptyText.LoadOrStore(t, rdataText(z, nil))
	}
	return rdataText(rr, nil) == zero.(string)
}

// emptyText caches, per type, the text of a record without data.
var emptyText sync.Map // uint16 -> string

// lineReader gives miekg's lexer the text one byte at a time (it then
// buffers nothing) and knows the line of the last byte read: the line where
// the record just returned ends.
type lineReader struct {
	src     []byte
	off     int
	line    int
	newline bool // the last byte read was '\n'
}

func (r *lineReader) ReadByte() (byte, error) {
	if r.off >= len(r.src) {
		return 0, io.EOF
	}
	c := r.src[r.off]
	r.off++
	if r.line == 0 || r.newline {
		r.line++
	}
	r.newline = c == '\n'
	return c, nil
}

// Read is there to make lineReader an io.Reader; the lexer calls ReadByte.
func (r *lineReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c, err := r.ReadByte()
		if err != nil {
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		p[n] = c
		n++
	}
	return n, nil
}

// fromDNSError turns miekg's error into a *ParseError. miekg keeps the
// position in unexported fields, so it is read back from the message, which
// ends in `at line: L:C`.
func fromDNSError(origin string, err error) *ParseError {
	pe := &ParseError{Origin: origin, Msg: strings.TrimPrefix(err.Error(), "dns: "), Err: err}
	i := strings.LastIndex(pe.Msg, " at line: ")
	if i < 0 {
		return pe
	}
	lineStr, colStr, _ := strings.Cut(pe.Msg[i+len(" at line: "):], ":")
	line, err1 := strconv.Atoi(lineStr)
	col, err2 := strconv.Atoi(colStr)
	if err1 != nil || err2 != nil {
		return pe
	}
	pe.Msg, pe.Line, pe.Column = pe.Msg[:i], line, col
	// miekg gives the column of the token's last byte; point at its first.
	if j := strings.LastIndex(pe.Msg, `: "`); j >= 0 {
		if tok, err := strconv.Unquote(pe.Msg[j+2:]); err == nil && len(tok) > 1 && len(tok) < col {
			pe.Column = col - len(tok) + 1
		}
	}
	return pe
}

// SOA returns the first SOA record at the origin, or nil if there is none.
func (z *Zone) SOA() *dns.SOA {
	origin := nameKey(z.Origin)
	for _, rr := range z.Records {
		if soa, ok := rr.(*dns.SOA); ok && nameKey(soa.Hdr.Name) == origin {
			return soa
		}
	}
	return nil
}

// Serial returns the serial of the zone's SOA record, or 0 if it has none.
func (z *Zone) Serial() uint32 {
	if soa := z.SOA(); soa != nil {
		return soa.Serial
	}
	return 0
}
