package zone

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// base is a zone without problems; each case adds lines to it.
const base = `$TTL 3600
@	SOA	ns1 hostmaster 1 7200 3600 1209600 300
@	NS	ns1
@	NS	ns.example.net.
ns1	A	192.0.2.53
`

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		src  string // the whole zone if full, else lines added to base
		full bool
		want []string // Problem.String() of each problem, in order
	}{
		{name: "good", src: ""},
		{name: "good with everything", src: `www CNAME @
www RRSIG CNAME 8 3 3600 20300101000000 20200101000000 1 example.com. AAAA
www NSEC x CNAME RRSIG NSEC
sub NS ns.sub
sub NS ns.example.net.
ns.sub AAAA 2001:db8::1
mail A 192.0.2.1
@ MX 10 mail
_sip._udp SRV 0 0 5060 mail
x 300 A 192.0.2.1
x 300 A 192.0.2.2
x 600 TXT "another RRset"
x RRSIG A 8 3 300 20300101000000 20200101000000 1 example.com. AAAA
x RRSIG TXT 8 3 600 20300101000000 20200101000000 1 example.com. AAAA
`},
		{name: "no SOA", full: true, src: "@ NS ns.example.net.\n",
			want: []string{"example.com: example.com. SOA: no SOA record"}},
		{name: "two SOAs", src: "@ SOA ns1 hostmaster 2 1 1 1 1\n",
			want: []string{"example.com: example.com. SOA: 2 SOA records, there must be one"}},
		{name: "SOA not at origin", full: true, src: "@ NS ns.example.net.\nsub SOA a b 1 1 1 1 1\n",
			want: []string{"example.com: sub.example.com. SOA: SOA record not at the origin example.com."}},
		{name: "no NS", full: true, src: "@ SOA ns1.example.net. h 1 1 1 1 1\nsub NS ns.example.net.\n",
			want: []string{"example.com: example.com. NS: no NS records at the origin"}},
		{name: "CNAME beside other data", src: "www CNAME @\nwww A 192.0.2.1\nwww TXT x\n",
			want: []string{"example.com: www.example.com. CNAME: CNAME beside other data (A, TXT)"}},
		{name: "two CNAMEs", src: "www CNAME a\nWWW CNAME b\n",
			want: []string{"example.com: www.example.com. CNAME: 2 CNAME records at one name"}},
		{name: "CNAME at origin", src: "@ CNAME example.net.\n",
			want: []string{
				"example.com: example.com. CNAME: CNAME at the origin",
				"example.com: example.com. CNAME: CNAME beside other data (NS, SOA)",
			}},
		{name: "outside the zone", src: "www.example.net. A 192.0.2.1\nexample.com.net. A 192.0.2.1\nwww.example.net. AAAA ::1\n",
			want: []string{
				"example.com: www.example.net.: outside the zone example.com.",
				"example.com: example.com.net.: outside the zone example.com.",
			}},
		{name: "name server without address", src: "@ NS ns2\n",
			want: []string{"example.com: example.com. NS: name server ns2.example.com. has no A or AAAA record in the zone"}},
		{name: "name server below a delegation without glue", src: "sub NS ns.sub\nsub NS ns.example.net.\n",
			want: []string{"example.com: sub.example.com. NS: name server ns.sub.example.com. has no A or AAAA record in the zone"}},
		{name: "name server with only AAAA", src: "@ NS ns6\nns6 AAAA 2001:db8::53\n"},
		{name: "forgotten trailing dot in NS", src: "@ NS ns1.example.com\n",
			want: []string{"example.com: example.com. NS: ns1.example.com.example.com. ends in the origin twice: did you forget the trailing dot in ns1.example.com?"}},
		{name: "forgotten trailing dot in owner", src: "www.example.com A 192.0.2.1\n",
			want: []string{"example.com: www.example.com.example.com.: www.example.com.example.com. ends in the origin twice: did you forget the trailing dot in www.example.com?"}},
		{name: "forgotten trailing dot everywhere", src: `a CNAME host.example.com
b MX 10 mail.example.com
c SRV 0 0 1 example.com
d PTR host.example.com
e DNAME x.example.com
`, want: []string{
			"example.com: a.example.com. CNAME: host.example.com.example.com. ends in the origin twice: did you forget the trailing dot in host.example.com?",
			"example.com: b.example.com. MX: mail.example.com.example.com. ends in the origin twice: did you forget the trailing dot in mail.example.com?",
			"example.com: c.example.com. SRV: example.com.example.com. ends in the origin twice: did you forget the trailing dot in example.com?",
			"example.com: d.example.com. PTR: host.example.com.example.com. ends in the origin twice: did you forget the trailing dot in host.example.com?",
			"example.com: e.example.com. DNAME: x.example.com.example.com. ends in the origin twice: did you forget the trailing dot in x.example.com?",
		}},
		{name: "forgotten trailing dot in SOA", full: true, src: "@ SOA ns1.example.com hostmaster.example.com 1 1 1 1 1\n@ NS ns.example.net.\n",
			want: []string{
				"example.com: example.com. SOA: ns1.example.com.example.com. ends in the origin twice: did you forget the trailing dot in ns1.example.com?",
				"example.com: example.com. SOA: hostmaster.example.com.example.com. ends in the origin twice: did you forget the trailing dot in hostmaster.example.com?",
			}},
		{name: "origin once is fine", src: "a CNAME example.com.\nexample A 192.0.2.1\nb MX 0 @\n"},
		{name: "different TTLs in an RRset", src: "x 300 A 192.0.2.1\nx 600 A 192.0.2.2\n",
			want: []string{"example.com: x.example.com. A: records of one RRset with different TTLs, from 300 to 600"}},
		{name: "duplicate with different TTL", src: "x 300 A 192.0.2.1\nx 600 A 192.0.2.1\n",
			want: []string{"example.com: x.example.com. A: records of one RRset with different TTLs, from 300 to 600"}},
		{name: "same record twice", src: "x A 192.0.2.1\nX A 192.0.2.1\n",
			want: []string{"example.com: X.example.com. A: record given twice (192.0.2.1)"}},
		{name: "class other than IN", src: "x CH TXT hello\n",
			want: []string{"example.com: x.example.com. TXT: class CH, only IN is served"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := tt.src
			if !tt.full {
				src = base + src
			}
			var got []string
			for _, p := range Check(mustParse(t, "example.com", src)) {
				got = append(got, p.String())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("Check:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// Parse refuses records too long for the wire, but a zone may be built
// otherwise.
func TestCheckRecordTooLong(t *testing.T) {
	z := mustParse(t, "example.com", base)
	txt := &dns.TXT{Hdr: dns.RR_Header{Name: "x.example.com.", Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 1}}
	for range 260 {
		txt.Txt = append(txt.Txt, strings.Repeat("a", 255))
	}
	z.Records = append(z.Records, txt)
	var got []string
	for _, p := range Check(z) {
		got = append(got, p.String())
	}
	want := "example.com: x.example.com. TXT: record too long (66585 octets)"
	if strings.Join(got, "\n") != want {
		t.Errorf("Check = %q, want %q", got, want)
	}
}

func TestCheckTestdata(t *testing.T) {
	for _, origin := range []string{"example.com", "2.0.192.in-addr.arpa", "mirage"} {
		z := mustParse(t, origin, string(mustRead(t, "testdata/"+origin+".zone")))
		if p := Check(z); p != nil {
			t.Errorf("Check(%s) = %v, want nil", origin, p)
		}
	}
}

func TestCheckRootZone(t *testing.T) {
	z := mustParse(t, ".", `. SOA a.root-servers.net. nstld.verisign-grs.com. 1 1 1 1 1
. NS a.root-servers.net.
a.root-servers.net. A 198.41.0.4
com. NS a.gtld-servers.net.
`)
	for _, p := range Check(z) {
		if p.String() != ".: com. NS: name server a.gtld-servers.net. has no A or AAAA record in the zone" {
			t.Errorf("unexpected problem: %s", p)
		}
	}
}

func TestProblemString(t *testing.T) {
	p := Problem{Zone: "example.com.", Name: "www.example.com.", Type: "CNAME", Msg: "CNAME beside other data (A)"}
	if got, want := p.String(), "example.com: www.example.com. CNAME: CNAME beside other data (A)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	p = Problem{Zone: ".", Name: "x.", Msg: "m"}
	if got, want := p.String(), ".: x.: m"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
