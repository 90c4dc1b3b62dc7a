package authority

import (
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestIndex checks the zone's layout against the records it was given:
// every RRset is found at its name in the order given, every ancestor is
// a node, names not in the zone are not, and Records gives back each
// record kept once, SOA first. The zone has deep names, so that the empty
// non-terminals outnumber the records and the index has to grow, records
// of one name far apart in the file, mixed case, and records New drops.
func TestIndex(t *testing.T) {
	rrs := parse(t, "example.org.", `$ORIGIN example.org.
$TTL 300
a.b.c.d.e.f.g.h  A     192.0.2.1
@                NS    ns
www              A     192.0.2.2
x.y.z.u.v.w      TXT   "deep"
WWW              TXT   "text"
@                SOA   ns hostmaster 1 7200 900 1209600 300
www              A     192.0.2.3
*.w              MX    10 www
ns               A     192.0.2.4
www              AAAA  2001:db8::2
@                SOA   ns hostmaster 2 7200 900 1209600 300
www.example.net. A     192.0.2.5
`)
	z, err := New("Example.ORG", rrs)
	if err != nil {
		t.Fatal(err)
	}
	checkIndex(t, z, rrs)
	if z.soa.Serial != 1 {
		t.Errorf("SOA serial %d, want the first SOA's", z.soa.Serial)
	}
	for _, name := range []string{"org.", "b.c.d.e.f.g.h.example.org.x.", "q.example.org.", "www.example.net.", "WWW.example.org."} {
		if _, ok := z.find(name); ok {
			t.Errorf("%s: found a node", name)
		}
	}
	if n, _ := z.find("w.example.org."); z.wildcard(n) < 0 {
		t.Errorf("w.example.org.: no wildcard child")
	}
}

// FuzzNew indexes random zone text: every record kept is found where it
// belongs (see checkIndex).
func FuzzNew(f *testing.F) {
	for _, text := range []string{comZone, netZone, subZone} {
		f.Add(text)
	}
	f.Add("@ SOA ns h 1 2 3 4 5\na.b.c A 192.0.2.1\n*.b.c TXT x\nB.c NS ns\nb.c DNAME x.\n@ SOA ns h 2 2 3 4 5\n")
	f.Fuzz(func(t *testing.T, text string) {
		zp := dns.NewZoneParser(strings.NewReader(text), "example.com.", "")
		var rrs []dns.RR
		for rr, ok := zp.Next(); ok && len(rrs) < 1000; rr, ok = zp.Next() {
			rrs = append(rrs, rr)
		}
		z, err := New("example.com.", rrs)
		if err != nil {
			return
		}
		checkIndex(t, z, rrs)
	})
}

// checkIndex checks z's layout against the records it was made of: every
// RRset is found at its name in the order given, every ancestor is a node,
// Records gives back each record kept once, SOA first, and the flags say
// what the records do.
func checkIndex(t *testing.T, z *Zone, rrs []dns.RR) {
	t.Helper()
	type key struct {
		name string
		typ  uint16
	}
	want := map[key][]dns.RR{}
	var kept []dns.RR
	for _, rr := range rrs {
		h := rr.Header()
		name := lower(dns.Fqdn(h.Name))
		if !within(name, z.origin) || (h.Rrtype == dns.TypeSOA && name == z.origin && rr != dns.RR(z.soa)) {
			continue
		}
		kept = append(kept, rr)
		k := key{name, h.Rrtype}
		want[k] = append(want[k], rr)
	}
	for k, rrs := range want {
		n, ok := z.find(k.name)
		if !ok {
			t.Errorf("%s: no node", k.name)
			continue
		}
		if got := z.get(n, k.typ); !slices.Equal(got, rrs) {
			t.Errorf("%s %s: got %v, want %v", k.name, dns.TypeToString[k.typ], got, rrs)
		}
		if k.typ == dns.TypeNS && z.is(n, cut) != (n != 0) {
			t.Errorf("%s: cut flag %v", k.name, z.is(n, cut))
		}
		for off := 0; len(k.name)-off >= len(z.origin); off = up(k.name, off) {
			if _, ok := z.find(k.name[off:]); !ok {
				t.Errorf("%s: ancestor %s is no node", k.name, k.name[off:])
			}
		}
	}
	for n := range int32(len(z.nodes) - 1) {
		if m, ok := z.find(z.nodes[n].name); !ok || m != n {
			t.Errorf("node %d (%s): found as %d, %v", n, z.nodes[n].name, m, ok)
		}
	}

	got := z.Records()
	if got[0] != dns.RR(z.soa) {
		t.Errorf("Records()[0] = %v, want the SOA", got[0])
	}
	pos := map[dns.RR]int{}
	for i, rr := range kept {
		pos[rr] = i
	}
	less := func(a, b dns.RR) int { return pos[a] - pos[b] }
	if slices.SortFunc(got, less); !slices.Equal(got, kept) {
		t.Errorf("Records() = %v,\nwant %v", got, kept)
	}
}
