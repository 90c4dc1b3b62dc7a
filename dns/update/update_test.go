package update

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

const origin = "example.com."

// zoneText is the zone every case starts from. b.example.com. is an
// empty non-terminal; Mail is spelled with a capital.
const zoneText = `$ORIGIN example.com.
$TTL 3600
@      SOA   ns1 hostmaster 100 7200 900 1209600 300
@      NS    ns1
@      NS    ns2
@      MX    10 Mail
ns1    A     192.0.2.1
ns2    A     192.0.2.2
www    A     192.0.2.10
www    A     192.0.2.11
Mail   A     192.0.2.25
alias  CNAME www
txt    TXT   "hello world"
a.b    A     192.0.2.30
blob   TYPE65280 \# 4 0a000001
`

func testZone(tb testing.TB) []dns.RR {
	tb.Helper()
	zp := dns.NewZoneParser(strings.NewReader(zoneText), origin, "")
	var rrs []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		tb.Fatal(err)
	}
	return rrs
}

// rrs parses records written in full, one per string.
func rrs(ss ...string) []dns.RR {
	var out []dns.RR
	for _, s := range ss {
		rr, err := dns.NewRR(s)
		if err != nil || rr == nil {
			panic(fmt.Sprintf("bad test record %q: %v", s, err))
		}
		out = append(out, rr)
	}
	return out
}

// hdr is a record without data, for the helpers that only look at the
// name and type.
func hdr(name string, t uint16) []dns.RR {
	return []dns.RR{&dns.ANY{Hdr: dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET}}}
}

// raw is a record as a client could send it, header and all.
func raw(name string, t, class uint16, ttl uint32, ip string) dns.RR {
	h := dns.RR_Header{Name: name, Rrtype: t, Class: class, Ttl: ttl}
	if ip == "" {
		return &dns.ANY{Hdr: h}
	}
	return &dns.A{Hdr: h, A: net.ParseIP(ip).To4()}
}

const (
	soa100 = "example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 100 7200 900 1209600 300"
	www10  = "www.example.com. 3600 IN A 192.0.2.10"
	www11  = "www.example.com. 3600 IN A 192.0.2.11"
	mailA  = "Mail.example.com. 3600 IN A 192.0.2.25"
	mx     = "example.com. 3600 IN MX 10 Mail.example.com."
	ns1    = "example.com. 3600 IN NS ns1.example.com."
	ns2    = "example.com. 3600 IN NS ns2.example.com."
	alias  = "alias.example.com. 3600 IN CNAME www.example.com."
	blob   = `blob.example.com. 3600 IN TYPE65280 \# 4 0a000001`
	new50  = "new.example.com. 3600 IN A 192.0.2.50"

	rrsigA   = "www.example.com. 3600 IN RRSIG A 13 3 3600 20300101000000 20200101000000 12345 example.com. AAAA"
	rrsigTXT = "www.example.com. 300 IN RRSIG TXT 13 3 300 20300101000000 20200101000000 12345 example.com. AAAA"
)

func soa(serial uint32) string {
	return fmt.Sprintf("example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. %d 7200 900 1209600 300", serial)
}

type testCase struct {
	name  string
	msg   func(m *dns.Msg) // fills in m, made by m.SetUpdate(origin)
	rcode int
	del   []string // Plan.Delete, in order
	add   []string // Plan.Add, in order
	soa   bool     // Plan.SOA set
}

var cases = []testCase{
	// §3.1: the zone section.
	{name: "zone/none", rcode: dns.RcodeFormatError,
		msg: func(m *dns.Msg) { m.Question = nil }},
	{name: "zone/two", rcode: dns.RcodeFormatError,
		msg: func(m *dns.Msg) { m.Question = append(m.Question, m.Question[0]) }},
	{name: "zone/type A", rcode: dns.RcodeFormatError,
		msg: func(m *dns.Msg) { m.Question[0].Qtype = dns.TypeA }},
	{name: "zone/class CH", rcode: dns.RcodeNotAuth,
		msg: func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassCHAOS }},
	{name: "zone/other zone", rcode: dns.RcodeNotAuth,
		msg: func(m *dns.Msg) { m.SetUpdate("example.org.") }},
	{name: "zone/name ignores case", add: []string{new50},
		msg: func(m *dns.Msg) { m.SetUpdate("EXAMPLE.Com."); m.Insert(rrs(new50)) }},

	// §2.4.1: RRset exists (value independent).
	{name: "2.4.1/exists",
		msg: func(m *dns.Msg) { m.RRsetUsed(hdr("www.example.com.", dns.TypeA)) }},
	{name: "2.4.1/exists, name ignores case",
		msg: func(m *dns.Msg) { m.RRsetUsed(hdr("WWW.Example.COM.", dns.TypeA)) }},
	{name: "2.4.1/exists, unknown type",
		msg: func(m *dns.Msg) { m.RRsetUsed(hdr("blob.example.com.", 65280)) }},
	{name: "2.4.1/missing", rcode: dns.RcodeNXRrset,
		msg: func(m *dns.Msg) { m.RRsetUsed(hdr("www.example.com.", dns.TypeAAAA)) }},
	{name: "2.4.1/missing name", rcode: dns.RcodeNXRrset,
		msg: func(m *dns.Msg) { m.RRsetUsed(hdr("nothere.example.com.", dns.TypeA)) }},
	{name: "2.4.1/TTL not 0", rcode: dns.RcodeFormatError,
		msg: func(m *dns.Msg) {
			m.Answer = append(m.Answer, raw("www.example.com.", dns.TypeA, dns.ClassANY, 300, ""))
		}},
	{name: "2.4.1/with data", rcode: dns.RcodeFormatError,
		msg: func(m *dns.Msg) {
			m.Answer = append(m.Answer, raw("www.example.com.", dns.TypeA, dns.ClassANY, 0, "192.0.2.10"))
		}},

	// §2.4.2: RRset exists (value dependent).
	{name: "2.4.2/same RRset",
		msg: func(m *dns.Msg) { m.Used(rrs(www10, www11)) }},
	{name: "2.4.2/same RRset, other order, repeated",
		msg: func(m *dns.Msg) { m.Used(rrs(www11, www10, www11)) }},
	{name: "2.4.2/names in data ignore case",
		msg: func(m *dns.Msg) {
			m.Used(rrs("EXAMPLE.com. NS NS1.example.COM.", "example.com. NS ns2.EXAMPLE.com."))
		}},
	{name: "2.4.2/unknown type",
		msg: func(m *dns.Msg) { m.Used(rrs(blob)) }},
	{name: "2.4.2/subset", rcode: dns.RcodeNXRrset,
		msg: func(m *dns.Msg) { m.Used(rrs(www10)) }},
	{name: "2.4.2/superset", rcode: dns.RcodeNXRrset,
		msg: func(m *dns.Msg) { m.Used(rrs(www10, www11, "www.example.com. A 192.0.2.12")) }},
	{name: "2.4.2/missing RRset", rcode: dns.RcodeNXRrset,
		msg: func(m *dns.Msg) { m.Used(rrs("www.example.com. AAAA 2001:db8::1")) }},
	{name: "2.4.2/second RRset differs", rcode: dns.RcodeNXRrset,
		msg: func(m *dns.Msg) { m.Used(rrs(www10, www11, "ns1.example.com. A 192.0.2.9")) }},
	{name: "2.4.2/TTL not 0", rcode: dns.RcodeFormatError,
		msg: func(m *dns.Msg) { m.Answer = append(m.Answer, rrs(www10)...) }},

	// §2.4.3: RRset does not exist.
	{name: "2.4.3/absent",
		msg: func(m *dns.Msg) { m.RRsetNotUsed(hdr("www.example.com.", dns.TypeAAAA)) }},
	{name: "2.4.3/exists", rcode: dns.RcodeYXRrset,
		msg: func(m *dns.Msg) { m.RRsetNotUsed(hdr("www.example.com.", dns.TypeA)) }},
	{name: "2.4.3/exists, name ignores case", rcode: dns.RcodeYXRrset,
		msg: func(m *dns.Msg) { m.RRsetNotUsed(hdr("mail.EXAMPLE.com.", dns.TypeA)) }},
	{name: "2.4.3/with data", rcode: dns.RcodeFormatError,
		msg: func(m *dns.Msg) {
			m.Answer = append(m.Answer, raw("www.example.com.", dns.TypeA, dns.ClassNONE, 0, "192.0.2.10"))
		}},
	{name: "2.4.3/TTL not 0", rcode: dns.RcodeFormatError,
		msg: func(m *dns.Msg) {
			m.Answer = append(m.Answer, raw("www.example.com.", dns.TypeAAAA, dns.ClassNONE, 1, ""))
		}},

	// §2.4.4: name is in use.
	{name: "2.4.4/in use",
		msg: func(m *dns.Msg) { m.NameUsed(hdr("ALIAS.example.com.", dns.TypeANY)) }},
	{name: "2.4.4/not in use", rcode: dns.RcodeNameError,
		msg: func(m *dns.Msg) { m.NameUsed(hdr("nothere.example.com.", dns.TypeANY)) }},
	{name: "2.4.4/empty non-terminal is not in use", rcode: dns.RcodeNameError,
		msg: func(m *dns.Msg) { m.NameUsed(hdr("b.example.com.", dns.TypeANY)) }},

	// §2.4.5: name is not in use.
	{name: "2.4.5/not in use",
		msg: func(m *dns.Msg) { m.NameNotUsed(hdr("nothere.example.com.", dns.TypeANY)) }},
	{name: "2.4.5/empty non-terminal",
		msg: func(m *dns.Msg) { m.NameNotUsed(hdr("b.example.com.", dns.TypeANY)) }},
	{name: "2.4.5/in use", rcode: dns.RcodeYXDomain,
		msg: func(m *dns.Msg) { m.NameNotUsed(hdr("www.example.com.", dns.TypeANY)) }},

	// §3.2: other prerequisite checks.
	{name: "3.2/outside the zone", rcode: dns.RcodeNotZone,
		msg: func(m *dns.Msg) { m.RRsetUsed(hdr("www.example.org.", dns.TypeA)) }},
	{name: "3.2/suffix but not a label", rcode: dns.RcodeNotZone,
		msg: func(m *dns.Msg) { m.NameNotUsed(hdr("notexample.com.", dns.TypeANY)) }},
	{name: "3.2/class CH", rcode: dns.RcodeFormatError,
		msg: func(m *dns.Msg) {
			m.Answer = append(m.Answer, raw("www.example.com.", dns.TypeA, dns.ClassCHAOS, 0, ""))
		}},
	{name: "3.2.5/each record is checked before whole RRsets", rcode: dns.RcodeYXDomain,
		msg: func(m *dns.Msg) {
			m.Used(rrs(www10)) // NXRRSET, but only after the loop
			m.NameNotUsed(hdr("www.example.com.", dns.TypeANY))
		}},
	{name: "3.2/failed prerequisite changes nothing", rcode: dns.RcodeNXRrset,
		msg: func(m *dns.Msg) {
			m.RRsetUsed(hdr("www.example.com.", dns.TypeAAAA))
			m.Insert(rrs(new50))
		}},
	{name: "3.2/prerequisites met, update done", add: []string{new50},
		msg: func(m *dns.Msg) {
			m.NameNotUsed(hdr("new.example.com.", dns.TypeANY))
			m.Insert(rrs(new50))
		}},

	// §3.4.1: prescan of the update section.
	{name: "3.4.1/outside the zone", rcode: dns.RcodeNotZone,
		msg: func(m *dns.Msg) { m.Insert(rrs("www.example.org. A 192.0.2.1")) }},
	{name: "3.4.1/outside the zone, after a good add", rcode: dns.RcodeNotZone,
		msg: func(m *dns.Msg) { m.Insert(rrs(new50, "example.org. A 192.0.2.1")) }},
	{name: "3.4.1/delete outside the zone", rcode: dns.RcodeNotZone,
		msg: func(m *dns.Msg) { m.RemoveName(hdr("com.", dns.TypeANY)) }},
	{name: "3.4.1/add AXFR", rcode: dns.RcodeFormatError,
		msg: func(m *dns.Msg) { m.Ns = append(m.Ns, raw("new.example.com.", dns.TypeAXFR, dns.ClassINET, 0, "")) }},
	{name: "3.4.1/add IXFR", rcode: dns.RcodeFormatError,
		msg: func(m *dns.Msg) { m.Ns = append(m.Ns, raw("new.example.com.", dns.TypeIXFR, dns.ClassINET, 0, "")) }},
	{name: "3.4.1/add MAILA", rcode: dns.RcodeFormatError,
		msg: func(m *dns.Msg) { m.Ns = append(m.Ns, raw("new.example.com.", dns.TypeMAILA, dns.ClassINET, 0, "")) }},
	{name: "3.4.1/add MAILB", rcode: dns.RcodeFormatError,
		msg: func(m *dns.Msg) { m.Ns = append(m.Ns, raw("new.example.com.", dns.TypeMAILB, dns.ClassINET, 0, "")) }},
	{name: "3.4.1/add ANY", rcode: dns.RcodeFormatError,
		msg: func(m *dns.Msg) { m.Ns = append(m.Ns, raw("new.example.com.", dns.TypeANY, dns.ClassINET, 0, "")) }},
	{name: "3.4.1/add without data", rcode: dns.RcodeFormatError,
		msg: func(m *dns.Msg) {
			m.Insert([]dns.RR{&dns.A{Hdr: dns.RR_Header{Name: "new.example.com.", Rrtype: dns.TypeA, Ttl: 300}}})
		}},
	{name: "3.4.1/delete RRset with TTL", rcode: dns.RcodeFormatError,
		msg: func(m *dns.Msg) { m.Ns = append(m.Ns, raw("www.example.com.", dns.TypeA, dns.ClassANY, 300, "")) }},
	{name: "3.4.1/delete RRset with data", rcode: dns.RcodeFormatError,
		msg: func(m *dns.Msg) {
			m.Ns = append(m.Ns, raw("www.example.com.", dns.TypeA, dns.ClassANY, 0, "192.0.2.10"))
		}},
	{name: "3.4.1/delete RRset of type AXFR", rcode: dns.RcodeFormatError,
		msg: func(m *dns.Msg) { m.RemoveRRset(hdr("www.example.com.", dns.TypeAXFR)) }},
	{name: "3.4.1/delete RR with TTL", rcode: dns.RcodeFormatError,
		msg: func(m *dns.Msg) {
			m.Ns = append(m.Ns, raw("www.example.com.", dns.TypeA, dns.ClassNONE, 300, "192.0.2.10"))
		}},
	{name: "3.4.1/delete RR of type ANY", rcode: dns.RcodeFormatError,
		msg: func(m *dns.Msg) { m.Ns = append(m.Ns, raw("www.example.com.", dns.TypeANY, dns.ClassNONE, 0, "")) }},
	{name: "3.4.1/class CH", rcode: dns.RcodeFormatError,
		msg: func(m *dns.Msg) {
			m.Ns = append(m.Ns, raw("www.example.com.", dns.TypeA, dns.ClassCHAOS, 300, "192.0.2.10"))
		}},

	// §3.4.2.2: add.
	{name: "add/new name", add: []string{new50},
		msg: func(m *dns.Msg) { m.Insert(rrs(new50)) }},
	{name: "add/to an RRset", add: []string{"www.example.com. 3600 IN A 192.0.2.12"},
		msg: func(m *dns.Msg) { m.Insert(rrs("www.example.com. 3600 A 192.0.2.12")) }},
	{name: "add/existing record is a no-op",
		msg: func(m *dns.Msg) { m.Insert(rrs(www10)) }},
	{name: "add/existing record, name in other case, is a no-op",
		msg: func(m *dns.Msg) { m.Insert(rrs("WWW.EXAMPLE.COM. 3600 A 192.0.2.10")) }},
	{name: "add/twice in one update", add: []string{new50},
		msg: func(m *dns.Msg) { m.Insert(rrs(new50, new50)) }},
	{name: "add/other TTL sets the RRset's TTL (RFC 2181 §5.2)",
		del: []string{www10, www11},
		add: []string{"www.example.com. 300 IN A 192.0.2.10", "www.example.com. 300 IN A 192.0.2.11", "www.example.com. 300 IN A 192.0.2.12"},
		msg: func(m *dns.Msg) { m.Insert(rrs("www.example.com. 300 A 192.0.2.12")) }},
	{name: "add/existing data with other TTL replaces it",
		del: []string{www10, www11},
		add: []string{"www.example.com. 300 IN A 192.0.2.11", "www.example.com. 300 IN A 192.0.2.10"},
		msg: func(m *dns.Msg) { m.Insert(rrs("www.example.com. 300 A 192.0.2.10")) }},
	{name: "add/unknown type", add: []string{`blob.example.com. 3600 IN TYPE65280 \# 4 0a000002`},
		msg: func(m *dns.Msg) { m.Insert(rrs(`blob.example.com. 3600 TYPE65280 \# 4 0a000002`)) }},
	{name: "add/unknown type, existing data in other hex case, is a no-op",
		msg: func(m *dns.Msg) { m.Insert(rrs(`blob.example.com. 3600 TYPE65280 \# 4 0A000001`)) }},
	{name: "add/unknown type without data", add: []string{`new.example.com. 300 IN TYPE65281 \# 0`},
		msg: func(m *dns.Msg) {
			m.Insert([]dns.RR{&dns.RFC3597{Hdr: dns.RR_Header{Name: "new.example.com.", Rrtype: 65281, Ttl: 300}}})
		}},
	{name: "add/RRSIGs keep their TTLs (RFC 4034 §3)",
		add: []string{rrsigA, rrsigTXT},
		msg: func(m *dns.Msg) { m.Insert(rrs(rrsigA, rrsigTXT)) }},
	{name: "add/CNAME to a name with data is ignored",
		msg: func(m *dns.Msg) { m.Insert(rrs("www.example.com. CNAME Mail.example.com.")) }},
	{name: "add/data to a CNAME is ignored",
		msg: func(m *dns.Msg) { m.Insert(rrs("alias.example.com. A 192.0.2.60")) }},
	{name: "add/CNAME at the apex is ignored",
		msg: func(m *dns.Msg) { m.Insert(rrs("example.com. CNAME www.example.com.")) }},
	{name: "add/CNAME replaces the CNAME",
		del: []string{alias}, add: []string{"alias.example.com. 3600 IN CNAME Mail.example.com."},
		msg: func(m *dns.Msg) { m.Insert(rrs("alias.example.com. 3600 CNAME Mail.example.com.")) }},
	{name: "add/NSEC next to a CNAME", add: []string{"alias.example.com. 3600 IN NSEC blob.example.com. CNAME RRSIG NSEC"},
		msg: func(m *dns.Msg) { m.Insert(rrs("alias.example.com. 3600 NSEC blob.example.com. CNAME RRSIG NSEC")) }},
	{name: "add/CNAME after deleting the name",
		del: []string{www10, www11}, add: []string{"www.example.com. 3600 IN CNAME Mail.example.com."},
		msg: func(m *dns.Msg) {
			m.RemoveName(hdr("www.example.com.", dns.TypeANY))
			m.Insert(rrs("www.example.com. 3600 CNAME Mail.example.com."))
		}},
	{name: "add/SOA with greater serial replaces the SOA",
		del: []string{soa100}, add: []string{soa(101)}, soa: true,
		msg: func(m *dns.Msg) { m.Insert(rrs(soa(101))) }},
	{name: "add/SOA serial greater around 2^32 (RFC 1982)",
		del: []string{soa100}, add: []string{soa(100 + 1<<31 - 1)}, soa: true,
		msg: func(m *dns.Msg) { m.Insert(rrs(soa(100 + 1<<31 - 1))) }},
	{name: "add/SOA with equal serial is ignored",
		msg: func(m *dns.Msg) { m.Insert(rrs(strings.Replace(soa(100), "7200", "7201", 1))) }},
	{name: "add/SOA with lower serial is ignored",
		msg: func(m *dns.Msg) { m.Insert(rrs(soa(99))) }},
	{name: "add/SOA serial 2^31 ahead is undefined, ignored",
		msg: func(m *dns.Msg) { m.Insert(rrs(soa(100 + 1<<31))) }},
	{name: "add/SOA below the apex is ignored",
		msg: func(m *dns.Msg) {
			m.Insert(rrs(strings.Replace(soa(101), "example.com. 3600", "www.example.com. 3600", 1)))
		}},

	// §3.4.2.3: delete an RRset, delete all RRsets at a name.
	{name: "delete RRset", del: []string{www10, www11},
		msg: func(m *dns.Msg) { m.RemoveRRset(hdr("www.example.com.", dns.TypeA)) }},
	{name: "delete RRset/name in other case keeps the zone's spelling", del: []string{mailA},
		msg: func(m *dns.Msg) { m.RemoveRRset(hdr("mail.example.COM.", dns.TypeA)) }},
	{name: "delete RRset/missing is a no-op",
		msg: func(m *dns.Msg) { m.RemoveRRset(hdr("www.example.com.", dns.TypeAAAA)) }},
	{name: "delete RRset/apex NS is ignored",
		msg: func(m *dns.Msg) { m.RemoveRRset(hdr("example.com.", dns.TypeNS)) }},
	{name: "delete RRset/apex SOA is ignored",
		msg: func(m *dns.Msg) { m.RemoveRRset(hdr("Example.com.", dns.TypeSOA)) }},
	{name: "delete RRset/apex MX", del: []string{mx},
		msg: func(m *dns.Msg) { m.RemoveRRset(hdr("example.com.", dns.TypeMX)) }},
	{name: "delete RRset/unknown type", del: []string{blob},
		msg: func(m *dns.Msg) { m.RemoveRRset(hdr("blob.example.com.", 65280)) }},
	{name: "delete name", del: []string{www10, www11},
		msg: func(m *dns.Msg) { m.RemoveName(hdr("www.example.com.", dns.TypeANY)) }},
	{name: "delete name/apex keeps SOA and NS", del: []string{mx},
		msg: func(m *dns.Msg) { m.RemoveName(hdr("EXAMPLE.COM.", dns.TypeANY)) }},
	{name: "delete name/missing is a no-op",
		msg: func(m *dns.Msg) { m.RemoveName(hdr("b.example.com.", dns.TypeANY)) }},

	// §3.4.2.4: delete an RR from an RRset.
	{name: "delete RR", del: []string{www10},
		msg: func(m *dns.Msg) { m.Remove(rrs(www10)) }},
	{name: "delete RR/missing is a no-op",
		msg: func(m *dns.Msg) { m.Remove(rrs("www.example.com. A 192.0.2.99")) }},
	{name: "delete RR/name in other case keeps the zone's spelling", del: []string{mailA},
		msg: func(m *dns.Msg) { m.Remove(rrs("MAIL.example.com. A 192.0.2.25")) }},
	{name: "delete RR/names in data ignore case", del: []string{mx},
		msg: func(m *dns.Msg) { m.Remove(rrs("example.com. MX 10 mail.EXAMPLE.com.")) }},
	{name: "delete RR/one apex NS", del: []string{ns1},
		msg: func(m *dns.Msg) { m.Remove(rrs(ns1)) }},
	{name: "delete RR/the last apex NS stays", del: []string{ns1},
		msg: func(m *dns.Msg) { m.Remove(rrs(ns1, ns2)) }},
	{name: "delete RR/apex SOA is ignored",
		msg: func(m *dns.Msg) { m.Remove(rrs(soa100)) }},
	{name: "delete RR/unknown type", del: []string{blob},
		msg: func(m *dns.Msg) { m.Remove(rrs(blob)) }},

	// §3.4.2: updates in order; the plan is the net change.
	{name: "order/empty update"},
	{name: "order/delete then add back is a no-op",
		msg: func(m *dns.Msg) { m.Remove(rrs(www10)); m.Insert(rrs(www10)) }},
	{name: "order/add then delete is a no-op",
		msg: func(m *dns.Msg) { m.Insert(rrs(new50)); m.Remove(rrs(new50)) }},
	{name: "order/delete RRset then add",
		del: []string{www10, www11}, add: []string{"www.example.com. 3600 IN A 192.0.2.12"},
		msg: func(m *dns.Msg) {
			m.RemoveRRset(hdr("www.example.com.", dns.TypeA))
			m.Insert(rrs("www.example.com. 3600 A 192.0.2.12"))
		}},
	{name: "order/add then delete the name", del: []string{www10, www11},
		msg: func(m *dns.Msg) {
			m.Insert(rrs("www.example.com. 3600 A 192.0.2.12"))
			m.RemoveName(hdr("www.example.com.", dns.TypeANY))
		}},
}

// request builds the message of a case.
func (tc testCase) request() *dns.Msg {
	m := new(dns.Msg)
	m.SetUpdate(origin)
	if tc.msg != nil {
		tc.msg(m)
	}
	return m
}

func TestApply(t *testing.T) {
	zone := testZone(t)
	before := texts(zone)
	for _, tc := range cases {
		built := tc.request()
		b, err := built.Pack()
		if err != nil {
			t.Fatalf("%s: pack: %v", tc.name, err)
		}
		wire := new(dns.Msg)
		if err := wire.Unpack(b); err != nil {
			t.Fatalf("%s: unpack: %v", tc.name, err)
		}
		// The same case as built by the helpers and as the server sees
		// it, unpacked from the wire.
		for _, req := range []struct {
			how string
			m   *dns.Msg
		}{{"built", built}, {"wire", wire}} {
			t.Run(tc.name+"/"+req.how, func(t *testing.T) {
				reqText := req.m.String()
				p, rcode, err := Apply(origin, zone, req.m)
				if rcode != tc.rcode {
					t.Fatalf("rcode %s (%v), want %s", dns.RcodeToString[rcode], err, dns.RcodeToString[tc.rcode])
				}
				if got := texts(zone); strings.Join(got, "\n") != strings.Join(before, "\n") {
					t.Fatal("Apply changed the zone's records")
				}
				if req.m.String() != reqText {
					t.Fatal("Apply changed the request")
				}
				if rcode != dns.RcodeSuccess {
					var e *Error
					if !errors.As(err, &e) || e.Rcode != rcode || !p.Empty() || p.SOA != nil {
						t.Fatalf("err %v, plan %v: want an *Error with rcode %d and an empty plan", err, p, rcode)
					}
					return
				}
				if err != nil {
					t.Fatalf("NOERROR with error %v", err)
				}
				compare(t, "Delete", p.Delete, tc.del)
				compare(t, "Add", p.Add, tc.add)
				if (p.SOA != nil) != tc.soa {
					t.Errorf("SOA %v, want set: %v", p.SOA, tc.soa)
				}
				res := Result(zone, p)
				if err := checkZone(res); err != nil {
					t.Error(err)
				}
				if len(res) != len(zone)-len(p.Delete)+len(p.Add) {
					t.Errorf("Result has %d records, want %d", len(res), len(zone)-len(p.Delete)+len(p.Add))
				}
			})
		}
	}
}

func texts(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		out = append(out, rr.String())
	}
	return out
}

func compare(t *testing.T, what string, got []dns.RR, want []string) {
	t.Helper()
	g, w := strings.Join(texts(got), "\n"), strings.Join(texts(rrs(want...)), "\n")
	if g != w {
		t.Errorf("%s:\n%s\nwant:\n%s", what, g, w)
	}
}

// checkZone checks what every successful update must keep: the SOA first
// and the only one, an apex NS, no duplicate records, one TTL per RRset,
// and no CNAME next to other data.
func checkZone(rrs []dns.RR) error {
	apex := nameKey(origin)
	if len(rrs) == 0 || rrs[0].Header().Rrtype != dns.TypeSOA {
		return errors.New("SOA is not first")
	}
	soas, nss := 0, 0
	for i, a := range rrs {
		ka, ta := nameKey(a.Header().Name), a.Header().Rrtype
		if ta == dns.TypeSOA {
			soas++
			if ka != apex {
				return fmt.Errorf("SOA below the apex: %s", a)
			}
		}
		if ka == apex && ta == dns.TypeNS {
			nss++
		}
		for _, b := range rrs[i+1:] {
			if nameKey(b.Header().Name) != ka {
				continue
			}
			tb := b.Header().Rrtype
			switch {
			case ta == tb && sameRdata(a, b):
				return fmt.Errorf("duplicate records:\n%s\n%s", a, b)
			case ta == tb && ta != dns.TypeRRSIG && a.Header().Ttl != b.Header().Ttl:
				return fmt.Errorf("TTLs differ in an RRset:\n%s\n%s", a, b)
			case ta == dns.TypeCNAME && !cnameCompanion(tb), tb == dns.TypeCNAME && !cnameCompanion(ta):
				return fmt.Errorf("CNAME and other data:\n%s\n%s", a, b)
			}
		}
	}
	if soas != 1 {
		return fmt.Errorf("%d SOA records", soas)
	}
	if nss == 0 {
		return errors.New("no apex NS")
	}
	return nil
}

func TestResult(t *testing.T) {
	zone := testZone(t)
	req := new(dns.Msg)
	req.SetUpdate(origin)
	req.Remove(rrs(www10))
	req.Insert(rrs(soa(101), new50))
	p, rcode, err := Apply(origin, zone, req)
	if rcode != dns.RcodeSuccess {
		t.Fatal(err)
	}
	got := texts(Result(zone, p))
	want := texts(rrs(soa(101)))
	for _, rr := range zone[1:] {
		if rr.String() != rrs(www10)[0].String() {
			want = append(want, rr.String())
		}
	}
	want = append(want, texts(rrs(new50))...)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Result:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestDescribe(t *testing.T) {
	p := Plan{Delete: rrs(www10), Add: rrs(new50, "new.example.com. 3600 IN TXT \"a b\"")}
	want := "- www.example.com.\t3600\tIN\tA\t192.0.2.10\n" +
		"+ new.example.com.\t3600\tIN\tA\t192.0.2.50\n" +
		"+ new.example.com.\t3600\tIN\tTXT\t\"a b\"\n"
	if got := Describe(p); got != want {
		t.Errorf("Describe:\n%q\nwant\n%q", got, want)
	}
	if got := Describe(Plan{}); got != "" {
		t.Errorf("Describe(empty) = %q", got)
	}
}

func TestError(t *testing.T) {
	req := new(dns.Msg)
	req.SetUpdate(origin)
	req.RRsetUsed(hdr("www.example.com.", dns.TypeAAAA))
	_, _, err := Apply(origin, testZone(t), req)
	want := "update: prerequisite www.example.com. 0 CLASS255 AAAA: RRset does not exist (NXRRSET)"
	if err == nil || err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if _, rcode, _ := Apply(origin, nil, nil); rcode != dns.RcodeFormatError {
		t.Errorf("nil message: rcode %d", rcode)
	}
}

// TestIgnored: the parts RFC 2136 skips to keep a zone valid are reported,
// so that a server can refuse them instead.
func TestIgnored(t *testing.T) {
	zone := testZone(t)
	tests := []struct {
		name   string
		build  func(m *dns.Msg)
		reason string
	}{
		{"CNAME beside data", func(m *dns.Msg) { m.Insert(rrs("www.example.com. 300 CNAME example.com.")) }, "CNAME"},
		{"delete the apex NS RRset", func(m *dns.Msg) { m.RemoveRRset(rrs("example.com. 0 NS ns1.example.com.")) }, "apex NS"},
		{"delete the SOA", func(m *dns.Msg) {
			m.Remove(rrs("example.com. 0 SOA ns1.example.com. hostmaster.example.com. 100 7200 900 1209600 300"))
		}, "SOA"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := new(dns.Msg)
			m.SetUpdate("example.com.")
			tc.build(m)
			plan, rcode, err := Apply("example.com.", zone, m)
			if rcode != dns.RcodeSuccess || err != nil {
				t.Fatalf("rcode %s, %v", dns.RcodeToString[rcode], err)
			}
			if !plan.Empty() || len(plan.Ignored) != 1 || !strings.Contains(plan.Ignored[0].Reason, tc.reason) {
				t.Errorf("plan %+v, want nothing done and one ignored part about %s", plan, tc.reason)
			}
		})
	}
	// Deleting everything at the apex keeps SOA and NS without complaint.
	m := new(dns.Msg)
	m.SetUpdate("example.com.")
	m.RemoveName(rrs("example.com. 0 A 192.0.2.1"))
	if plan, _, _ := Apply("example.com.", zone, m); len(plan.Ignored) != 0 {
		t.Errorf("delete all at the apex reported %v", plan.Ignored)
	}
}
