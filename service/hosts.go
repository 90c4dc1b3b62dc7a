package service

import (
	"bufio"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"

	"golang.org/x/net/dns/dnsmessage"
)

// hostsTable is /etc/hosts as read at start, by lower-case name
// without the final dot.
//
// Go's resolver re-reads /etc/hosts every few seconds, and once the
// sandbox refuses the file it forgets every name in it: a remote at
// ssh://git.lan/ or http://localhost:3000/ would stop resolving a few
// seconds after start-up. The pinned resolver answers these names itself
// (hostsConn), as if a name server had them.
type hostsTable struct {
	names map[string]hostsEntry
	// byAddr has each address's names, as written, in file order: what
	// Go's resolver answers a reverse lookup with from the file.
	byAddr map[netip.Addr][]string
	// search and ndots are resolv.conf's: a name with fewer than ndots
	// dots is asked with each search domain appended before it is asked
	// alone. Go's resolver answers such a name from the hosts file
	// before it tries any of these, so the table answers them too: a
	// hosts name also in the name servers under a search domain keeps
	// the hosts file's addresses.
	search []string // lower case, without dots at either end
	ndots  int
}

// hostsEntry is one name of the hosts file: its addresses in file order,
// and its canonical name, the first name of the line where it first
// appears (itself, or the name it is an alias of), as Go reads the file.
type hostsEntry struct {
	canonical string
	addrs     []netip.Addr
}

func readHostsFile(path string) hostsTable {
	t := hostsTable{names: map[string]hostsEntry{}, byAddr: map[netip.Addr][]string{}, ndots: 1}
	f, err := os.Open(path)
	if err != nil {
		return t
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		a, err := netip.ParseAddr(fields[0])
		if err != nil {
			continue
		}
		// A zone cannot travel in a DNS answer; an IPv4-mapped address
		// is an IPv4 one to Go's resolver, as it reads the file.
		a = a.WithZone("").Unmap()
		canonical := hostsKey(fields[1])
		for _, name := range fields[1:] {
			t.byAddr[a] = append(t.byAddr[a], strings.TrimSuffix(name, "."))
			name = hostsKey(name)
			e, ok := t.names[name]
			if !ok {
				e.canonical = canonical
			}
			e.addrs = append(e.addrs, a)
			t.names[name] = e
		}
	}
	return t
}

func hostsKey(name string) string { return strings.TrimSuffix(strings.ToLower(name), ".") }

// lookup finds the entry for a query's name: the name itself, or a
// name with too few dots to be asked before the search domains, with
// one of them appended.
func (t hostsTable) lookup(name string) (hostsEntry, bool) {
	name = hostsKey(name)
	if e, ok := t.names[name]; ok {
		return e, true
	}
	for _, d := range t.search {
		short, ok := strings.CutSuffix(name, "."+d)
		if !ok || strings.Count(short, ".") >= t.ndots {
			continue
		}
		if e, ok := t.names[short]; ok {
			return e, true
		}
	}
	return hostsEntry{}, false
}

// answer answers query from the table, or returns nil when the name is
// not in it or the question is not one the file answers (the query goes
// to the name servers). The file has addresses and aliases only: it
// answers A, AAAA and CNAME, as Go's resolver does when it reads the
// file itself, with the addresses of the asked family, or none (NODATA),
// owned by the canonical name, and a CNAME to it from an alias; and PTR
// for the reverse name of one of its addresses, with all its names.
func (t hostsTable) answer(query []byte) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil
	}
	q, err := p.Question()
	if err != nil || q.Class != dnsmessage.ClassINET {
		return nil
	}
	switch q.Type {
	case dnsmessage.TypeA, dnsmessage.TypeAAAA, dnsmessage.TypeCNAME:
	case dnsmessage.TypePTR:
		return t.answerPTR(h, q)
	default:
		return nil
	}
	e, ok := t.lookup(q.Name.String())
	if !ok {
		return nil
	}
	canonical, err := dnsmessage.NewName(e.canonical + ".")
	if err != nil {
		return nil
	}
	b := startAnswer(h, q)
	if b == nil {
		return nil
	}
	if e.canonical != hostsKey(q.Name.String()) {
		rh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET}
		if b.CNAMEResource(rh, dnsmessage.CNAMEResource{CNAME: canonical}) != nil {
			return nil
		}
	}
	rh := dnsmessage.ResourceHeader{Name: canonical, Class: dnsmessage.ClassINET}
	for _, a := range e.addrs {
		switch {
		case q.Type == dnsmessage.TypeA && a.Is4():
			err = b.AResource(rh, dnsmessage.AResource{A: a.As4()})
		case q.Type == dnsmessage.TypeAAAA && a.Is6():
			err = b.AAAAResource(rh, dnsmessage.AAAAResource{AAAA: a.As16()})
		}
		if err != nil {
			return nil
		}
	}
	msg, err := b.Finish()
	if err != nil {
		return nil
	}
	return msg
}

// startAnswer begins the answer to question q of a query with header h.
func startAnswer(h dnsmessage.Header, q dnsmessage.Question) *dnsmessage.Builder {
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true})
	b.EnableCompression()
	if b.StartQuestions() != nil || b.Question(q) != nil || b.StartAnswers() != nil {
		return nil
	}
	return &b
}

func (t hostsTable) answerPTR(h dnsmessage.Header, q dnsmessage.Question) []byte {
	a, ok := reverseAddr(q.Name.String())
	if !ok {
		return nil
	}
	// A name a DNS message cannot carry (a label over 63 bytes, an
	// empty one) is left out, as Go's resolver leaves out names it finds
	// malformed; the others are still the table's answer.
	var names []dnsmessage.Name
	for _, name := range t.byAddr[a] {
		if n, err := dnsmessage.NewName(name + "."); err == nil && encodable(n) {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return nil
	}
	b := startAnswer(h, q)
	if b == nil {
		return nil
	}
	rh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET}
	for _, n := range names {
		if b.PTRResource(rh, dnsmessage.PTRResource{PTR: n}) != nil {
			return nil
		}
	}
	msg, err := b.Finish()
	if err != nil {
		return nil
	}
	return msg
}

// encodable reports whether n can be packed in a message. It is tried
// in a message of its own: a Builder whose resource failed half-way
// may keep compression pointers into what it dropped.
func encodable(n dnsmessage.Name) bool {
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{})
	rh := dnsmessage.ResourceHeader{Name: n, Class: dnsmessage.ClassINET}
	return b.StartAnswers() == nil && b.PTRResource(rh, dnsmessage.PTRResource{PTR: n}) == nil
}

// reverseAddr is the address whose reverse name (RFC 1035 §3.5,
// RFC 3596 §2.5) name is, in any case, with or without the final dot.
func reverseAddr(name string) (netip.Addr, bool) {
	name = hostsKey(name)
	if v4, ok := strings.CutSuffix(name, ".in-addr.arpa"); ok {
		labels := strings.Split(v4, ".")
		if len(labels) != 4 {
			return netip.Addr{}, false
		}
		slices.Reverse(labels)
		a, err := netip.ParseAddr(strings.Join(labels, "."))
		return a, err == nil && a.Is4()
	}
	v6, ok := strings.CutSuffix(name, ".ip6.arpa")
	nibbles := strings.Split(v6, ".")
	if !ok || len(nibbles) != 32 {
		return netip.Addr{}, false
	}
	var b [16]byte
	for i, n := range nibbles {
		if len(n) != 1 {
			return netip.Addr{}, false
		}
		d := strings.IndexByte("0123456789abcdef", n[0])
		if d < 0 {
			return netip.Addr{}, false
		}
		b[15-i/2] |= byte(d) << (4 * (i % 2))
	}
	return netip.AddrFrom16(b), true
}

// hostsConn is a connection to a name server that answers the names of
// a hostsTable itself. Go's resolver writes one query and reads its
// answer; the query decides whether the answer comes from the table or
// from the server. A UDP server's connection keeps its PacketConn
// methods (packetHostsConn), for the resolver frames messages by type:
// as they are on a PacketConn, with a two-byte length on a stream.
type hostsConn struct {
	net.Conn
	table   hostsTable
	stream  bool
	pending []byte // the table's answer, framed, not yet read
}

type packetHostsConn struct {
	*hostsConn
	net.PacketConn
}

func withHosts(c net.Conn, table hostsTable) net.Conn {
	hc := &hostsConn{Conn: c, table: table}
	if pc, ok := c.(net.PacketConn); ok {
		return packetHostsConn{hostsConn: hc, PacketConn: pc}
	}
	hc.stream = true
	return hc
}

func (c *hostsConn) Write(b []byte) (int, error) {
	query := b
	if c.stream {
		if len(b) < 2 {
			return c.Conn.Write(b)
		}
		query = b[2:]
	}
	msg := c.table.answer(query)
	if msg == nil {
		return c.Conn.Write(b)
	}
	if !c.stream && len(msg) > udpPayload(query) {
		// As a name server does: the resolver asks again over TCP.
		if msg = truncated(msg); msg == nil {
			return c.Conn.Write(b)
		}
	}
	if c.stream {
		msg = append([]byte{byte(len(msg) >> 8), byte(len(msg))}, msg...)
	}
	c.pending = msg
	return len(b), nil
}

func (c *hostsConn) Read(b []byte) (int, error) {
	if c.pending == nil {
		return c.Conn.Read(b)
	}
	n := copy(b, c.pending)
	if c.stream {
		c.pending = c.pending[n:]
	} else {
		c.pending = c.pending[len(c.pending):] // a datagram is read whole or cut
	}
	if len(c.pending) == 0 {
		c.pending = nil
	}
	return n, nil
}

// udpPayload is the largest answer the sender of query takes in a
// datagram: the payload size of its EDNS OPT record, or 512 without one
// (RFC 6891 §6.2.5).
func udpPayload(query []byte) int {
	var p dnsmessage.Parser
	if _, err := p.Start(query); err != nil {
		return 512
	}
	if p.SkipAllQuestions() != nil || p.SkipAllAnswers() != nil || p.SkipAllAuthorities() != nil {
		return 512
	}
	for {
		h, err := p.AdditionalHeader()
		if err != nil {
			return 512
		}
		if h.Type == dnsmessage.TypeOPT {
			return max(512, int(h.Class))
		}
		if p.SkipAdditional() != nil {
			return 512
		}
	}
}

// truncated is msg's header, with TC set, and question: nil if msg
// does not parse.
func truncated(msg []byte) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(msg)
	if err != nil {
		return nil
	}
	q, err := p.Question()
	if err != nil {
		return nil
	}
	h.Truncated = true
	b := dnsmessage.NewBuilder(nil, h)
	if b.StartQuestions() != nil || b.Question(q) != nil {
		return nil
	}
	out, err := b.Finish()
	if err != nil {
		return nil
	}
	return out
}
