package davxml

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
		inner    string // Inner of the root's first child
	}{
		{"propfind", `<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>`, true, ""},
		{"dead value keeps namespaces", `<D:set xmlns:D="DAV:"><D:prop><x:p xmlns:x="urn:x"><y xmlns="urn:y" a="1">t&amp;</y></x:p></D:prop></D:set>`, true,
			`<p xmlns="urn:x"><y xmlns="urn:y" a="1">t&amp;</y></p>`},
		{"xml:lang", `<a xmlns="u"><b><c xml:lang="en">v</c></b></a>`, true, `<c xmlns="u" xml:lang="en">v</c>`},
		{"DTD", `<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>`, false, ""},
		{"undeclared prefix", `<x:a/>`, false, ""},
		{"empty prefix binding", `<a xmlns:x=""/>`, false, ""},
		{"two roots", `<a/><b/>`, false, ""},
		{"unclosed", `<a><b></a>`, false, ""},
		{"too deep", strings.Repeat("<a>", 40) + strings.Repeat("</a>", 40), false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := Parse(strings.NewReader(tt.in), Limits{})
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if tt.inner != "" {
				if got := n.Children[0].Inner; got != tt.inner {
					t.Errorf("inner %q, want %q", got, tt.inner)
				}
			}
		})
	}
}

// FuzzParse: Parse never panics, and Inner re-parses.
func FuzzParse(f *testing.F) {
	f.Add(`<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>`)
	f.Add(`<a xmlns="u"><b x:y="1" xmlns:x="v">t</b></a>`)
	f.Add(`<!DOCTYPE a><a/>`)
	f.Fuzz(func(t *testing.T, in string) {
		n, err := Parse(strings.NewReader(in), Limits{MaxBytes: 1 << 16})
		if err != nil {
			return
		}
		if _, err := Parse(strings.NewReader("<r>"+n.Inner+"</r>"), Limits{}); err != nil {
			t.Errorf("Inner %q does not re-parse: %v", n.Inner, err)
		}
	})
}
