package catalog_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/catalog"
)

const head = `$ORIGIN catalog.invalid.
$TTL 0
@ SOA invalid. invalid. 1 3600 600 86400 0
@ NS invalid.
`

// records parses a zone text under head.
func records(t testing.TB, body string) []dns.RR {
	t.Helper()
	zp := dns.NewZoneParser(strings.NewReader(head+body), "catalog.invalid.", "")
	var rrs []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	return rrs
}

// show writes members one a line: zone id [coo].
func show(c *catalog.Catalog) string {
	var b strings.Builder
	for _, m := range c.Members {
		fmt.Fprintf(&b, "%s %s", m.Zone, m.ID)
		if m.COO != "" {
			fmt.Fprintf(&b, " coo=%s", m.COO)
		}
		b.WriteString("\n")
	}
	return b.String()
}

var tests = []struct {
	name string
	body string
	want string // members, when err is nil
	err  error
}{
	{"empty catalog", `version TXT "2"`, "", nil},
	{"members sorted by zone", `version TXT "2"
b1.zones PTR example.org.
a2.zones PTR Example.COM.
`, "example.com. a2\nexample.org. b1\n", nil},
	{"group and unknown properties ignored", `version TXT "2"
m.zones PTR example.com.
group.m.zones TXT "g1"
ext.m.zones TXT "whatever"
x.y.m.zones PTR other.example.
zones TXT "at zones"
m.zones TXT "not a member"
`, "example.com. m\n", nil},
	{"coo kept", `version TXT "2"
m.zones PTR example.com.
coo.m.zones PTR other-catalog.invalid.
`, "example.com. m coo=other-catalog.invalid.\n", nil},
	{"unique ids are case-insensitive labels", `version TXT "2"
ID1.zones PTR example.com.
`, "example.com. id1\n", nil},

	{"no version", `m.zones PTR example.com.`, "", catalog.ErrNoVersion},
	{"version 1", `version TXT "1"`, "", catalog.ErrVersion},
	{"version 3", `version TXT "3"`, "", catalog.ErrVersion},
	{"two versions", "version TXT \"2\"\nversion TXT \"1\"", "", catalog.ErrVersion},
	{"two PTRs under one id", `version TXT "2"
m.zones PTR example.com.
m.zones PTR example.org.
`, "", catalog.ErrMultiplePTR},
	{"duplicate unique ids differing in case", `version TXT "2"
m.zones PTR example.com.
M.zones PTR example.org.
`, "", catalog.ErrMultiplePTR},
	{"two coo", `version TXT "2"
m.zones PTR example.com.
coo.m.zones PTR a.invalid.
coo.m.zones PTR b.invalid.
`, "", catalog.ErrMultiplePTR},
	{"one zone under two ids", `version TXT "2"
m1.zones PTR example.com.
m2.zones PTR example.com.
`, "", catalog.ErrDuplicateMember},
	{"root as member", `version TXT "2"
m.zones PTR .
`, "", catalog.ErrBadMember},
	{"the catalog as member", `version TXT "2"
m.zones PTR catalog.invalid.
`, "", catalog.ErrBadMember},
	{"below the catalog", `version TXT "2"
m.zones PTR x.catalog.invalid.
`, "", catalog.ErrBadMember},
	{"class CH", `version TXT "2"
m.zones CH PTR example.com.
`, "", catalog.ErrClass},
}

func TestParse(t *testing.T) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := catalog.Parse("Catalog.Invalid", records(t, tc.body))
			if tc.err != nil {
				var ce *catalog.Error
				if !errors.Is(err, tc.err) || !errors.As(err, &ce) || ce.Catalog != "catalog.invalid." {
					t.Fatalf("err %v, want %v in a *catalog.Error", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := show(c); got != tc.want {
				t.Fatalf("members:\n%swant:\n%s", got, tc.want)
			}
		})
	}
}

func TestMemberLookup(t *testing.T) {
	c, err := catalog.Parse("catalog.invalid", records(t, "version TXT \"2\"\na.zones PTR a.example.\nb.zones PTR b.example.\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := c.Member("B.example"); !ok || m.ID != "b" {
		t.Errorf("Member(B.example) = %v, %v", m, ok)
	}
	if _, ok := c.Member("c.example."); ok {
		t.Error("c.example. found")
	}
}

// A bad member name can come only from the wire: the zone parser refuses
// it. The PTR's target is taken as it is, escapes and all.
func TestBadMemberFromWire(t *testing.T) {
	rrs := records(t, `version TXT "2"`)
	ptr := &dns.PTR{Hdr: dns.RR_Header{Name: "m.zones.catalog.invalid.", Rrtype: dns.TypePTR, Class: dns.ClassINET}, Ptr: "no..good."}
	if _, err := catalog.Parse("catalog.invalid.", append(rrs, ptr)); !errors.Is(err, catalog.ErrBadMember) {
		t.Fatalf("err %v, want ErrBadMember", err)
	}
}

// FuzzParse: Parse never panics, and what it accepts is a catalog of
// valid, distinct members, in order, whatever the records' order.
func FuzzParse(f *testing.F) {
	for _, tc := range tests {
		f.Add(tc.body)
	}
	f.Fuzz(func(t *testing.T, body string) {
		zp := dns.NewZoneParser(strings.NewReader(head+body), "catalog.invalid.", "")
		var rrs []dns.RR
		for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
			rrs = append(rrs, rr)
		}
		if zp.Err() != nil {
			return
		}
		c, err := catalog.Parse("catalog.invalid.", rrs)
		reversed := make([]dns.RR, len(rrs))
		for i, rr := range rrs {
			reversed[len(rrs)-1-i] = rr
		}
		c2, err2 := catalog.Parse("catalog.invalid.", reversed)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("order changes the verdict: %v / %v", err, err2)
		}
		if err != nil {
			var ce *catalog.Error
			if !errors.As(err, &ce) {
				t.Fatalf("not a *catalog.Error: %v", err)
			}
			return
		}
		if show(c) != show(c2) {
			t.Fatalf("order changes the members:\n%s\n%s", show(c), show(c2))
		}
		for i, m := range c.Members {
			if _, ok := dns.IsDomainName(m.Zone); !ok || m.Zone != dns.CanonicalName(m.Zone) || m.Zone == "." {
				t.Fatalf("bad member %q", m.Zone)
			}
			if i > 0 && c.Members[i-1].Zone >= m.Zone {
				t.Fatalf("members out of order or repeated: %q, %q", c.Members[i-1].Zone, m.Zone)
			}
		}
	})
}
