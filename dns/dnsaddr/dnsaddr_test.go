package dnsaddr

import (
	"net/netip"
	"slices"
	"testing"
)

var parseTests = []struct {
	in   string
	want string // "" for an error
}{
	{"192.0.2.1", "192.0.2.1:53"},
	{"192.0.2.1:5353", "192.0.2.1:5353"},
	{"2001:db8::1", "[2001:db8::1]:53"},
	{"[2001:db8::1]:5353", "[2001:db8::1]:5353"},
	{"[2001:db8::1]", ""},
	{"ns1.example.com", ""},
	{"ns1.example.com:53", ""},
	{"192.0.2.1:", ""},
	{"192.0.2.1:99999", ""},
	{"", ""},
}

func TestParse(t *testing.T) {
	for _, tt := range parseTests {
		got, err := Parse(tt.in)
		switch {
		case tt.want == "" && err == nil:
			t.Errorf("Parse(%q) = %v, want an error", tt.in, got)
		case tt.want != "" && (err != nil || got.String() != tt.want):
			t.Errorf("Parse(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

func TestList(t *testing.T) {
	var l List
	for _, v := range []string{"192.0.2.1, 192.0.2.2:5353", "", "::1"} {
		if err := l.Set(v); err != nil {
			t.Fatalf("Set(%q): %v", v, err)
		}
	}
	want := []netip.AddrPort{
		netip.MustParseAddrPort("192.0.2.1:53"),
		netip.MustParseAddrPort("192.0.2.2:5353"),
		netip.MustParseAddrPort("[::1]:53"),
	}
	if !slices.Equal(l, want) {
		t.Errorf("List = %v, want %v", l, want)
	}
	if got := l.String(); got != "192.0.2.1:53,192.0.2.2:5353,[::1]:53" {
		t.Errorf("String() = %q", got)
	}
	if err := l.Set("192.0.2.3,nowhere"); err == nil {
		t.Error("Set with a name: no error")
	}
}

// FuzzParse: what Parse accepts, it prints back in a form it reads
// again to the same address.
func FuzzParse(f *testing.F) {
	for _, tt := range parseTests {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ap, err := Parse(s)
		if err != nil {
			return
		}
		again, err := Parse(ap.String())
		if err != nil || again != ap {
			t.Errorf("Parse(%q) = %v, which reads back as %v, %v", s, ap, again, err)
		}
	})
}
