package zone

import (
	"slices"
	"testing"
)

func TestDiff(t *testing.T) {
	const old = `@ 300 SOA ns1 hostmaster 1 1 1 1 1
@ 300 NS ns1
ns1 300 A 192.0.2.1
www 300 TXT "Hello"
`
	tests := []struct {
		name           string
		old, new       string
		added, removed []string
	}{
		{name: "same", old: old, new: old},
		{name: "other order", old: old, new: `www 300 TXT "Hello"
ns1 300 A 192.0.2.1
@ 300 NS ns1
@ 300 SOA ns1 hostmaster 1 1 1 1 1
`},
		{name: "name case", old: old, new: `@ 300 SOA NS1 Hostmaster 1 1 1 1 1
EXAMPLE.COM. 300 NS Ns1.Example.Com.
NS1 300 A 192.0.2.1
wWw 300 TXT "Hello"
`},
		{name: "text case matters", old: "www 300 TXT Hello\n", new: "www 300 TXT hello\n",
			added:   []string{"www.example.com.\t300\tIN\tTXT\t\"hello\""},
			removed: []string{"www.example.com.\t300\tIN\tTXT\t\"Hello\""}},
		{name: "TTL change", old: "ns1 300 A 192.0.2.1\n", new: "ns1 600 A 192.0.2.1\n",
			added:   []string{"ns1.example.com.\t600\tIN\tA\t192.0.2.1"},
			removed: []string{"ns1.example.com.\t300\tIN\tA\t192.0.2.1"}},
		{name: "added and removed", old: old, new: old + "mail 300 A 192.0.2.25\n",
			added: []string{"mail.example.com.\t300\tIN\tA\t192.0.2.25"}},
		{name: "removed", old: old + "mail 300 A 192.0.2.25\n", new: old,
			removed: []string{"mail.example.com.\t300\tIN\tA\t192.0.2.25"}},
		{name: "serial", old: "@ 300 SOA ns1 hostmaster 1 1 1 1 1\n", new: "@ 300 SOA ns1 hostmaster 2 1 1 1 1\n",
			added:   []string{"example.com.\t300\tIN\tSOA\tns1.example.com. hostmaster.example.com. 2 1 1 1 1"},
			removed: []string{"example.com.\t300\tIN\tSOA\tns1.example.com. hostmaster.example.com. 1 1 1 1 1"}},
		{name: "one of two copies", old: "a 1 A 192.0.2.1\na 1 A 192.0.2.1\n", new: "a 1 A 192.0.2.1\n",
			removed: []string{"a.example.com.\t1\tIN\tA\t192.0.2.1"}},
		{name: "class", old: "a 1 TXT x\n", new: "a 1 CH TXT x\n",
			added:   []string{"a.example.com.\t1\tCH\tTXT\t\"x\""},
			removed: []string{"a.example.com.\t1\tIN\tTXT\t\"x\""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			added, removed := Diff(mustParse(t, "example.com", tt.old), mustParse(t, "example.com", tt.new))
			var a, r []string
			for _, rr := range added {
				a = append(a, rr.String())
			}
			for _, rr := range removed {
				r = append(r, rr.String())
			}
			if !slices.Equal(a, tt.added) || !slices.Equal(r, tt.removed) {
				t.Errorf("Diff: added %q, removed %q; want added %q, removed %q", a, r, tt.added, tt.removed)
			}
		})
	}
}

func TestDiffNil(t *testing.T) {
	z := mustParse(t, "example.com", "a 1 A 192.0.2.1\n")
	if added, removed := Diff(nil, z); len(added) != 1 || len(removed) != 0 {
		t.Errorf("Diff(nil, z) = %v, %v", added, removed)
	}
	if added, removed := Diff(z, nil); len(added) != 0 || len(removed) != 1 {
		t.Errorf("Diff(z, nil) = %v, %v", added, removed)
	}
}
