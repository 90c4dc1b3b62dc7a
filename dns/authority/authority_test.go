package authority

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// long is a 63-octet label: a DNAME to three of them overflows a name.
var long = strings.Repeat("l", 63)

// comZone is the main test zone. Every feature has a name in it.
var comZone = `
$ORIGIN example.com.
$TTL 3600
@          SOA   ns1 hostmaster 1 7200 900 1209600 300
@          NS    ns1
@          NS    ns.example.net.
@          MX    10 mail
@          MX    20 mx.example.net.
@          A     192.0.2.1
ns1        A     192.0.2.53
ns1        AAAA  2001:db8::53
mail       A     192.0.2.25
www        A     192.0.2.80
www        AAAA  2001:db8::80
Upper      A     192.0.2.81
alias      CNAME www
chain      CNAME alias
loop1      CNAME loop2
loop2      CNAME loop1
out        CNAME www.example.net.
dangling   CNAME missing
toupper    CNAME UPPER
a.b.c      TXT   "deep"
*.wild     TXT   "wild"
*.wild     MX    10 mail
host.wild  A     192.0.2.90
*.cn       CNAME www
_sip._tcp  SRV   0 5 5060 sip
sip        AAAA  2001:db8::5060
unk        TYPE65280 \# 4 0a000001
dn         DNAME example.net.
grow       DNAME ` + long + `.` + long + `.` + long + `.example.net.
sub        NS    ns.sub
sub        NS    ns1
sub        DS    12345 13 2 ` + strings.Repeat("ab", 32) + `
ns.sub     A     192.0.2.54
tosub      CNAME www.sub
*.wd       NS    ns1
www.example.org. A 203.0.113.1
`

// netZone is a second zone, target of CNAMEs and DNAMEs from comZone.
// Its SOA TTL is below its MINIMUM, to test the other side of RFC 2308 §3.
const netZone = `
$ORIGIN example.net.
$TTL 120
@    SOA ns hostmaster 1 7200 900 1209600 600
@    NS  ns
ns   A   198.51.100.53
www  A   198.51.100.80
`

// subZone is the child zone delegated from comZone.
const subZone = `
$ORIGIN sub.example.com.
$TTL 3600
@    SOA ns hostmaster 1 7200 900 1209600 300
@    NS  ns
ns   A   192.0.2.54
www  A   192.0.2.100
`

func parse(t testing.TB, origin, text string) []dns.RR {
	t.Helper()
	zp := dns.NewZoneParser(strings.NewReader(text), origin, "")
	var rrs []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("parse %s: %v", origin, err)
	}
	return rrs
}

func mustZone(t testing.TB, origin, text string) *Zone {
	t.Helper()
	z, err := New(origin, parse(t, origin, text))
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func testSet(t testing.TB) *Set {
	return NewSet(
		mustZone(t, "example.com.", comZone),
		mustZone(t, "example.net.", netZone),
		mustZone(t, "sub.example.com.", subZone),
	)
}

// question parses "name TYPE", name relative to example.com. unless it
// ends in a dot.
func question(t testing.TB, s string) dns.Question {
	t.Helper()
	f := strings.Fields(s)
	name := f[0]
	if name == "@" {
		name = "example.com."
	} else if !strings.HasSuffix(name, ".") {
		name += ".example.com."
	}
	typ, ok := dns.StringToType[f[1]]
	if !ok {
		if _, err := fmt.Sscanf(f[1], "TYPE%d", &typ); err != nil {
			t.Fatalf("bad type in %q", s)
		}
	}
	return dns.Question{Name: name, Qtype: typ, Qclass: dns.ClassINET}
}

// strs renders records one per line, relative names resolved.
func strs(rrs []dns.RR) []string {
	out := make([]string, len(rrs))
	for i, rr := range rrs {
		out[i] = rr.String()
	}
	return out
}

// want parses expected records written like zone file lines relative to
// example.com.
func want(t testing.TB, lines []string) []string {
	t.Helper()
	return strs(parse(t, "example.com.", strings.Join(lines, "\n")))
}

type expect struct {
	rcode  int
	aa     bool
	answer []string
	ns     []string
	extra  []string
}

func check(t *testing.T, got Result, w expect) {
	t.Helper()
	if got.Rcode != w.rcode {
		t.Errorf("rcode = %s, want %s", dns.RcodeToString[got.Rcode], dns.RcodeToString[w.rcode])
	}
	if got.Authoritative != w.aa {
		t.Errorf("AA = %v, want %v", got.Authoritative, w.aa)
	}
	for _, sec := range []struct {
		name      string
		got, want []string
	}{
		{"answer", strs(got.Answer), want(t, w.answer)},
		{"authority", strs(got.Ns), want(t, w.ns)},
		{"additional", strs(got.Extra), want(t, w.extra)},
	} {
		if !slices.Equal(sec.got, sec.want) {
			t.Errorf("%s:\n got  %q\n want %q", sec.name, sec.got, sec.want)
		}
	}
}

const (
	noerr = dns.RcodeSuccess
	nx    = dns.RcodeNameError
	// neg is the SOA of negative answers: TTL min(3600, 300) (RFC 2308 §3).
	neg = "@ 300 SOA ns1 hostmaster 1 7200 900 1209600 300"
)

type lines = []string

// answerTests specify answers from comZone alone (Zone.Answer).
var answerTests = []struct {
	q string
	expect
}{
	// Plain data, NODATA, NXDOMAIN (RFC 1034 §4.3.2, RFC 2308).
	{"www A", expect{noerr, true, lines{"www 3600 A 192.0.2.80"}, nil, nil}},
	{"www AAAA", expect{noerr, true, lines{"www 3600 AAAA 2001:db8::80"}, nil, nil}},
	{"www TXT", expect{noerr, true, nil, lines{neg}, nil}},
	{"nope A", expect{nx, true, nil, lines{neg}, nil}},
	{"@ SOA", expect{noerr, true, lines{"@ 3600 SOA ns1 hostmaster 1 7200 900 1209600 300"}, nil, nil}},

	// Case: owners take the query's spelling, rdata the zone's.
	{"WwW.ExAmple.CoM. A", expect{noerr, true, lines{"WwW.ExAmple.CoM. 3600 A 192.0.2.80"}, nil, nil}},
	{"upper A", expect{noerr, true, lines{"upper 3600 A 192.0.2.81"}, nil, nil}},
	{"NoPe.Example.COM. A", expect{nx, true, nil, lines{"Example.COM. 300 SOA ns1 hostmaster 1 7200 900 1209600 300"}, nil}},

	// Empty non-terminals exist: NODATA, and they stop the search for
	// a closest encloser (RFC 8020, RFC 4592 §2.2.2).
	{"c A", expect{noerr, true, nil, lines{neg}, nil}},
	{"b.c A", expect{noerr, true, nil, lines{neg}, nil}},
	{"a.b.c TXT", expect{noerr, true, lines{`a.b.c 3600 TXT "deep"`}, nil, nil}},
	{"x.b.c TXT", expect{nx, true, nil, lines{neg}, nil}},

	// Additional section: in-zone addresses of MX, NS and SRV targets.
	{"@ MX", expect{noerr, true,
		lines{"@ 3600 MX 10 mail", "@ 3600 MX 20 mx.example.net."}, nil,
		lines{"mail 3600 A 192.0.2.25"}}},
	{"@ NS", expect{noerr, true,
		lines{"@ 3600 NS ns1", "@ 3600 NS ns.example.net."}, nil,
		lines{"ns1 3600 A 192.0.2.53", "ns1 3600 AAAA 2001:db8::53"}}},
	{"_sip._tcp SRV", expect{noerr, true,
		lines{"_sip._tcp 3600 SRV 0 5 5060 sip"}, nil,
		lines{"sip 3600 AAAA 2001:db8::5060"}}},

	// CNAME (RFC 1034 §3.6.2, §4.3.2 step 3a; RFC 6604 for the rcode).
	{"alias A", expect{noerr, true, lines{"alias 3600 CNAME www", "www 3600 A 192.0.2.80"}, nil, nil}},
	{"alias AAAA", expect{noerr, true, lines{"alias 3600 CNAME www", "www 3600 AAAA 2001:db8::80"}, nil, nil}},
	{"alias CNAME", expect{noerr, true, lines{"alias 3600 CNAME www"}, nil, nil}},
	{"alias TXT", expect{noerr, true, lines{"alias 3600 CNAME www"}, lines{neg}, nil}},
	{"chain A", expect{noerr, true,
		lines{"chain 3600 CNAME alias", "alias 3600 CNAME www", "www 3600 A 192.0.2.80"}, nil, nil}},
	{"loop1 A", expect{noerr, true, lines{"loop1 3600 CNAME loop2", "loop2 3600 CNAME loop1"}, nil, nil}},
	{"out A", expect{noerr, true, lines{"out 3600 CNAME www.example.net."}, nil, nil}},
	{"dangling A", expect{nx, true, lines{"dangling 3600 CNAME missing"}, lines{neg}, nil}},
	{"toupper A", expect{noerr, true, lines{"toupper 3600 CNAME UPPER", "UPPER 3600 A 192.0.2.81"}, nil, nil}},

	// Wildcards (RFC 4592): synthesized at the query name, only where
	// the closest encloser owns the wildcard.
	{"foo.wild TXT", expect{noerr, true, lines{`foo.wild 3600 TXT "wild"`}, nil, nil}},
	{"a.b.wild TXT", expect{noerr, true, lines{`a.b.wild 3600 TXT "wild"`}, nil, nil}},
	{"FOO.wild TXT", expect{noerr, true, lines{`FOO.wild 3600 TXT "wild"`}, nil, nil}},
	{"foo.wild MX", expect{noerr, true, lines{"foo.wild 3600 MX 10 mail"}, nil, lines{"mail 3600 A 192.0.2.25"}}},
	{"foo.wild A", expect{noerr, true, nil, lines{neg}, nil}},
	{"*.wild TXT", expect{noerr, true, lines{`*.wild 3600 TXT "wild"`}, nil, nil}},
	{"wild TXT", expect{noerr, true, nil, lines{neg}, nil}},
	{"host.wild TXT", expect{noerr, true, nil, lines{neg}, nil}},
	{"x.host.wild TXT", expect{nx, true, nil, lines{neg}, nil}},
	{"x.cn A", expect{noerr, true, lines{"x.cn 3600 CNAME www", "www 3600 A 192.0.2.80"}, nil, nil}},
	{"x.cn CNAME", expect{noerr, true, lines{"x.cn 3600 CNAME www"}, nil, nil}},

	// Delegation (RFC 1034 §4.3.2 step 3b): referrals, with glue; DS
	// from the parent side (RFC 4035 §3.1.4.1).
	{"sub NS", expect{noerr, false, nil,
		lines{"sub 3600 NS ns.sub", "sub 3600 NS ns1"},
		lines{"ns.sub 3600 A 192.0.2.54", "ns1 3600 A 192.0.2.53", "ns1 3600 AAAA 2001:db8::53"}}},
	{"www.sub A", expect{noerr, false, nil,
		lines{"sub 3600 NS ns.sub", "sub 3600 NS ns1"},
		lines{"ns.sub 3600 A 192.0.2.54", "ns1 3600 A 192.0.2.53", "ns1 3600 AAAA 2001:db8::53"}}},
	{"ns.sub A", expect{noerr, false, nil,
		lines{"sub 3600 NS ns.sub", "sub 3600 NS ns1"},
		lines{"ns.sub 3600 A 192.0.2.54", "ns1 3600 A 192.0.2.53", "ns1 3600 AAAA 2001:db8::53"}}},
	{"X.SUB.example.com. A", expect{noerr, false, nil,
		lines{"SUB.example.com. 3600 NS ns.sub", "SUB.example.com. 3600 NS ns1"},
		lines{"ns.sub 3600 A 192.0.2.54", "ns1 3600 A 192.0.2.53", "ns1 3600 AAAA 2001:db8::53"}}},
	{"sub DS", expect{noerr, true, lines{"sub 3600 DS 12345 13 2 " + strings.Repeat("ab", 32)}, nil, nil}},
	{"ns.sub DS", expect{noerr, false, nil,
		lines{"sub 3600 NS ns.sub", "sub 3600 NS ns1"},
		lines{"ns.sub 3600 A 192.0.2.54", "ns1 3600 A 192.0.2.53", "ns1 3600 AAAA 2001:db8::53"}}},

	{"tosub A", expect{noerr, true, lines{"tosub 3600 CNAME www.sub"},
		lines{"sub 3600 NS ns.sub", "sub 3600 NS ns1"},
		lines{"ns.sub 3600 A 192.0.2.54", "ns1 3600 A 192.0.2.53", "ns1 3600 AAAA 2001:db8::53"}}},
	// NS at a wildcard (ill-defined, RFC 4592 §4.2): a delegation at the
	// query name.
	{"x.wd A", expect{noerr, false, nil,
		lines{"x.wd 3600 NS ns1"}, lines{"ns1 3600 A 192.0.2.53", "ns1 3600 AAAA 2001:db8::53"}}},
	{"*.wd A", expect{noerr, false, nil,
		lines{"*.wd 3600 NS ns1"}, lines{"ns1 3600 A 192.0.2.53", "ns1 3600 AAAA 2001:db8::53"}}},
	{"x.wd DS", expect{noerr, true, nil, lines{neg}, nil}},

	// Unknown types (RFC 3597) are data like any other.
	{"unk TYPE65280", expect{noerr, true, lines{`unk 3600 TYPE65280 \# 4 0a000001`}, nil, nil}},
	{"unk TYPE65281", expect{noerr, true, nil, lines{neg}, nil}},

	// ANY (RFC 8482 §4.1): the RRset of the lowest type at the name.
	{"www ANY", expect{noerr, true, lines{"www 3600 A 192.0.2.80"}, nil, nil}},
	{"@ ANY", expect{noerr, true,
		lines{"@ 3600 A 192.0.2.1"}, nil, nil}},
	{"alias ANY", expect{noerr, true, lines{"alias 3600 CNAME www"}, nil, nil}},
	{"c ANY", expect{noerr, true, nil, lines{neg}, nil}},
	{"foo.wild ANY", expect{noerr, true, lines{"foo.wild 3600 MX 10 mail"}, nil, lines{"mail 3600 A 192.0.2.25"}}},
	{"nope ANY", expect{nx, true, nil, lines{neg}, nil}},

	// DNAME (RFC 6672): the DNAME and a synthesized CNAME; the target
	// is in another zone, so the chain ends here.
	{"dn DNAME", expect{noerr, true, lines{"dn 3600 DNAME example.net."}, nil, nil}},
	{"dn A", expect{noerr, true, nil, lines{neg}, nil}},
	{"www.dn A", expect{noerr, true,
		lines{"dn 3600 DNAME example.net.", "www.dn 3600 CNAME www.example.net."}, nil, nil}},
	{"A.B.Dn.example.com. A", expect{noerr, true,
		lines{"Dn.example.com. 3600 DNAME example.net.", "A.B.Dn.example.com. 3600 CNAME A.B.example.net."}, nil, nil}},
	{long + ".grow A", expect{dns.RcodeYXDomain, true,
		lines{"grow 3600 DNAME " + long + "." + long + "." + long + ".example.net."}, nil, nil}},

	// Not ours.
	{"www.example.org. A", expect{dns.RcodeRefused, false, nil, nil, nil}},
	{"com. SOA", expect{dns.RcodeRefused, false, nil, nil, nil}},
}

func TestZoneAnswer(t *testing.T) {
	z := mustZone(t, "example.com.", comZone)
	for _, tt := range answerTests {
		t.Run(tt.q, func(t *testing.T) {
			check(t, z.Answer(question(t, tt.q)), tt.expect)
		})
	}
}

// setTests specify answers from a set of example.com, its child
// sub.example.com and example.net: chains cross zones, DS comes from the
// parent.
var setTests = []struct {
	q string
	expect
}{
	{"www A", expect{noerr, true, lines{"www 3600 A 192.0.2.80"}, nil, nil}},
	{"www.sub A", expect{noerr, true, lines{"www.sub 3600 A 192.0.2.100"}, nil, nil}},
	{"sub NS", expect{noerr, true, lines{"sub 3600 NS ns.sub"}, nil, lines{"ns.sub 3600 A 192.0.2.54"}}},
	{"sub DS", expect{noerr, true, lines{"sub 3600 DS 12345 13 2 " + strings.Repeat("ab", 32)}, nil, nil}},
	{"nope.sub A", expect{nx, true, nil, lines{"sub 300 SOA ns.sub hostmaster.sub 1 7200 900 1209600 300"}, nil}},
	{"out A", expect{noerr, true,
		lines{"out 3600 CNAME www.example.net.", "www.example.net. 120 A 198.51.100.80"}, nil, nil}},
	{"www.dn A", expect{noerr, true,
		lines{"dn 3600 DNAME example.net.", "www.dn 3600 CNAME www.example.net.", "www.example.net. 120 A 198.51.100.80"}, nil, nil}},
	{"nope.dn A", expect{nx, true,
		lines{"dn 3600 DNAME example.net.", "nope.dn 3600 CNAME nope.example.net."},
		lines{"example.net. 120 SOA ns.example.net. hostmaster.example.net. 1 7200 900 1209600 600"}, nil}},
	{"tosub A", expect{noerr, true,
		lines{"tosub 3600 CNAME www.sub", "www.sub 3600 A 192.0.2.100"}, nil, nil}},
	{"www.example.net. TXT", expect{noerr, true, nil,
		lines{"example.net. 120 SOA ns.example.net. hostmaster.example.net. 1 7200 900 1209600 600"}, nil}},
	{"www.example.org. A", expect{dns.RcodeRefused, false, nil, nil, nil}},
	{"net. NS", expect{dns.RcodeRefused, false, nil, nil, nil}},
	{". NS", expect{dns.RcodeRefused, false, nil, nil, nil}},
}

func TestSetAnswer(t *testing.T) {
	s := testSet(t)
	for _, tt := range setTests {
		t.Run(tt.q, func(t *testing.T) {
			check(t, s.Answer(question(t, tt.q)), tt.expect)
		})
	}

	// Without the parent, the child answers DS itself: NODATA.
	child := s.Zone("sub.example.com.")
	check(t, child.Answer(question(t, "sub DS")), expect{noerr, true, nil,
		lines{"sub 300 SOA ns.sub hostmaster.sub 1 7200 900 1209600 300"}, nil})
}

func TestChainBound(t *testing.T) {
	var b strings.Builder
	b.WriteString("$ORIGIN example.com.\n@ 3600 SOA ns hostmaster 1 2 3 4 5\n")
	for i := range 20 {
		fmt.Fprintf(&b, "c%d 60 CNAME c%d\n", i, i+1)
	}
	b.WriteString("c20 60 A 192.0.2.1\n")
	z := mustZone(t, "example.com.", b.String())

	// c12 reaches the address in 8 redirections: all of it.
	r := z.Answer(question(t, "c12 A"))
	if len(r.Answer) != 9 || r.Answer[8].Header().Rrtype != dns.TypeA {
		t.Errorf("c12: got %d records %q, want 8 CNAMEs and the A", len(r.Answer), strs(r.Answer))
	}
	// c0 would need 20: the chain stops after following 8.
	r = z.Answer(question(t, "c0 A"))
	if len(r.Answer) != maxChain+1 || r.Rcode != noerr || !r.Authoritative {
		t.Errorf("c0: got %s %d records %q, want %d CNAMEs", dns.RcodeToString[r.Rcode], len(r.Answer), strs(r.Answer), maxChain+1)
	}
}

func TestClass(t *testing.T) {
	z := mustZone(t, "example.com.", comZone)
	q := question(t, "www A")
	q.Qclass = dns.ClassCHAOS
	check(t, z.Answer(q), expect{dns.RcodeRefused, false, nil, nil, nil})
	q.Qclass = dns.ClassANY
	check(t, z.Answer(q), expect{noerr, true, lines{"www 3600 A 192.0.2.80"}, nil, nil})
}

func TestNew(t *testing.T) {
	z := mustZone(t, "Example.COM", comZone)
	if z.Origin() != "example.com." {
		t.Errorf("Origin = %q", z.Origin())
	}
	if z.SOA() == nil || z.SOA().Serial != 1 {
		t.Errorf("SOA = %v", z.SOA())
	}
	recs := z.Records()
	if recs[0] != dns.RR(z.SOA()) {
		t.Errorf("Records()[0] = %v, want the SOA", recs[0])
	}
	all := parse(t, "example.com.", comZone)
	if len(recs) != len(all)-1 { // www.example.org. is not in the zone
		t.Errorf("Records: %d records, want %d", len(recs), len(all)-1)
	}
	for _, rr := range recs {
		if strings.HasSuffix(rr.Header().Name, "example.org.") {
			t.Errorf("Records holds out-of-zone %v", rr)
		}
	}
	recs[0] = nil // the caller's slice
	if z.Records()[0] == nil {
		t.Error("Records shares its slice with the zone")
	}

	_, err := New("example.com.", parse(t, "example.com.", "www 60 IN A 192.0.2.1"))
	if !errors.Is(err, ErrNoSOA) {
		t.Errorf("New without SOA: err = %v, want ErrNoSOA", err)
	}
	_, err = New("example.com.", parse(t, "example.net.", netZone))
	if !errors.Is(err, ErrNoSOA) {
		t.Errorf("New with another zone's SOA: err = %v, want ErrNoSOA", err)
	}
}

func TestSet(t *testing.T) {
	com := mustZone(t, "example.com.", comZone)
	net := mustZone(t, "example.net.", netZone)
	sub := mustZone(t, "sub.example.com.", subZone)
	s := NewSet(com, net)

	for _, tt := range []struct {
		name string
		want *Zone
	}{
		{"example.com.", com},
		{"WWW.Example.Com", com},
		{"x.y.sub.example.com.", com},
		{"example.net.", net},
		{"example.org.", nil},
		{"com.", nil},
		{".", nil},
	} {
		if got := s.Find(tt.name); got != tt.want {
			t.Errorf("Find(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}

	s2 := s.With(sub)
	if s2.Find("x.y.sub.example.com.") != sub || s.Find("x.y.sub.example.com.") != com {
		t.Error("With: the new set finds the child, the old one must not")
	}
	if s2.Zone("SUB.example.com") != sub || s2.Zone("www.sub.example.com.") != nil {
		t.Error("Zone: exact origins only")
	}
	s3 := s2.Without("Example.COM.")
	if s3.Zone("example.com.") != nil || s2.Zone("example.com.") != com {
		t.Error("Without: the new set lacks the zone, the old one keeps it")
	}
	if got := s2.Zones(); !slices.Equal(got, []*Zone{com, net, sub}) {
		t.Errorf("Zones = %v", got)
	}

	var empty *Set
	if empty.Find("example.com.") != nil || empty.Zone("example.com.") != nil || len(empty.Zones()) != 0 {
		t.Error("nil Set is not empty")
	}
	if r := empty.Answer(question(t, "www A")); r.Rcode != dns.RcodeRefused || r.Authoritative {
		t.Errorf("nil Set answered %+v", r)
	}
	if empty.With(com).Zone("example.com.") != com {
		t.Error("nil Set With")
	}
}

// TestConcurrent answers from many goroutines at once (run with -race) and
// checks the zone's records are never modified.
func TestConcurrent(t *testing.T) {
	s := testSet(t)
	before := strs(s.Zone("example.com.").Records())
	var qs []dns.Question
	for _, tt := range answerTests {
		q := question(t, tt.q)
		qs = append(qs, q)
		q.Name = strings.ToUpper(q.Name)
		qs = append(qs, q)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 400 {
				s.Answer(qs[(g+i)%len(qs)])
			}
		})
	}
	wg.Wait()
	if after := strs(s.Zone("example.com.").Records()); !slices.Equal(before, after) {
		t.Error("answering modified the zone's records")
	}
}

// TestExpire: an expired zone answers SERVFAIL, stops CNAME chains that
// reach it, and keeps its data; the zone it was made from is unchanged.
func TestExpire(t *testing.T) {
	com := mustZone(t, "example.com.", comZone)
	net := mustZone(t, "example.net.", netZone)
	exp := net.Expire()
	if !exp.Expired() || net.Expired() {
		t.Fatal("Expire must mark the copy only")
	}
	if exp.Origin() != net.Origin() || exp.SOA() != net.SOA() || len(exp.Records()) != len(net.Records()) {
		t.Error("Expire must keep origin, SOA and records")
	}
	check(t, exp.Answer(question(t, "www.example.net. A")), expect{dns.RcodeServerFailure, false, nil, nil, nil})
	check(t, NewSet(com, exp).Answer(question(t, "www.example.net. TXT")), expect{dns.RcodeServerFailure, false, nil, nil, nil})
	check(t, net.Answer(question(t, "www.example.net. TXT")), expect{noerr, true, nil,
		lines{"example.net. 120 SOA ns.example.net. hostmaster.example.net. 1 7200 900 1209600 600"}, nil})
}
