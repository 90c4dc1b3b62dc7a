package zone

import (
	"strings"
	"testing"
)

func TestSetSerial(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{
			name: "one line",
			src:  "$ORIGIN example.com.\n@ 300 IN SOA ns1 host 7 3600 900 1209600 300 ; keep me\n@ 300 NS ns1\nns1 300 A 192.0.2.1\n",
			want: "$ORIGIN example.com.\n@ 300 IN SOA ns1 host 2026112201 3600 900 1209600 300 ; keep me\n@ 300 NS ns1\nns1 300 A 192.0.2.1\n",
		},
		{
			name: "parentheses and comments",
			src:  "$TTL 300\n; SOA 1 2 3 in a comment\n@ IN SOA ( ns1.example.com. ; primary\n  hostmaster.example.com. ; \"quoted\"\n  41 ; serial\n  3600 900 1209600 300 )\n@ NS ns1\nns1 A 192.0.2.1\n",
			want: "$TTL 300\n; SOA 1 2 3 in a comment\n@ IN SOA ( ns1.example.com. ; primary\n  hostmaster.example.com. ; \"quoted\"\n  2026112201 ; serial\n  3600 900 1209600 300 )\n@ NS ns1\nns1 A 192.0.2.1\n",
		},
		{
			name: "a TXT record mentioning SOA before it",
			src:  "$TTL 300\ntxt TXT \"SOA a b 1\"\n@ SOA ns1 host 5 1 1 1 1\n@ NS ns1\nns1 A 192.0.2.1\n",
			want: "$TTL 300\ntxt TXT \"SOA a b 1\"\n@ SOA ns1 host 2026112201 1 1 1 1\n@ NS ns1\nns1 A 192.0.2.1\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, z, err := SetSerial("example.com.", []byte(tc.src), 2026112201)
			if err != nil {
				t.Fatal(err)
			}
			if z.Serial() != 2026112201 {
				t.Errorf("returned zone has serial %d", z.Serial())
			}
			if string(got) != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
	if _, _, err := SetSerial("example.com.", []byte("$TTL 300\n@ NS ns1\n"), 2); err == nil || !strings.Contains(err.Error(), "SOA") {
		t.Errorf("zone without SOA: %v", err)
	}
}
