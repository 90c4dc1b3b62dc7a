package zone

import "testing"

func TestQuickKey(t *testing.T) {
	for _, name := range []string{
		"", ".", "a", "a.", "A.Example.COM.", "www.example.com", "..", "a..b.", ".a.",
		"a\\.b.", "\\065.", "a b.", "x\x00.", "\xff.", "*._tcp.example.", "@.(x);",
		string(make([]byte, 64)) + ".",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.",
	} {
		if got, want := quickKey(name), nameKey(name); got != want {
			t.Errorf("quickKey(%q) = %q, nameKey = %q", name, got, want)
		}
	}
	// names about the longest the wire takes
	for n := 240; n < 260; n++ {
		var b []byte
		for len(b) < n {
			b = append(b, "abcdefghi."...)
		}
		for _, name := range []string{string(b[:n]), string(b[:n]) + "."} {
			if got, want := quickKey(name), nameKey(name); got != want {
				t.Errorf("quickKey of %d octets = %q, nameKey = %q", len(name), got, want)
			}
		}
	}
}

func FuzzQuickKey(f *testing.F) {
	for _, s := range []string{"www.example.com.", "A.b", ".", "a..b", "\\097.x."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if got, want := quickKey(name), nameKey(name); got != want {
			t.Errorf("quickKey(%q) = %q, nameKey = %q", name, got, want)
		}
	})
}
