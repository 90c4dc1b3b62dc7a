package tsig

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

const (
	secret32 = "kJJqipaQHQWqZL31Raar6uPnepGFIdtpjkXot9rv2xg="
	secret20 = "cDK6sKyvlt8UBerZlmxuD84ih2I="
)

func TestKeyFileZone(t *testing.T) {
	for file, want := range map[string]string{
		"_keys":              ".",
		"example.com._keys":  "example.com.",
		"Example.COM._keys":  "example.com.",
		"mirage._keys":       "mirage.",
		"example.com":        "",
		"._keys":             "",
		"x_keys":             "",
		"_keys.example.com":  "",
		"a..b._keys":         "",
		"zones/a.com._keys":  "",
		"a com._keys":        "",
		"example.com.._keys": "",
	} {
		zone, ok := KeyFileZone(file)
		if ok != (want != "") || zone != want {
			t.Errorf("KeyFileZone(%q) = %q, %v; want %q", file, zone, ok, want)
		}
	}
}

func TestParseKeyFileGood(t *testing.T) {
	src := `; keys for example.com, as robur's dns-primary-git keeps them
$TTL 3600
personal._update.example.com. DNSKEY 0 3 163 ` + secret32 + `
192.0.2.1.198.51.100.7._transfer IN DNSKEY 0 3 165 ` + secret32 + ` ; relative name
n._notify.sub 300 DNSKEY 0 3 161 ( cDK6sKyvlt8U
        BerZlmxuD84ih2I= )
`
	keys, problems, err := ParseKeyFile("example.com._keys", []byte(src))
	if err != nil || len(problems) != 0 {
		t.Fatalf("err %v, problems %v", err, problems)
	}
	want := []Key{
		{Name: "personal._update.example.com.", Algorithm: dns.HmacSHA256, Secret: secret32, Zone: "example.com.", Rights: Update | Transfer | Notify},
		{Name: "192.0.2.1.198.51.100.7._transfer.example.com.", Algorithm: dns.HmacSHA512, Secret: secret32, Zone: "example.com.", Rights: Transfer | Notify,
			Primary: netip.MustParseAddr("192.0.2.1"), Secondary: netip.MustParseAddr("198.51.100.7")},
		{Name: "n._notify.sub.example.com.", Algorithm: dns.HmacSHA1, Secret: secret20, Zone: "sub.example.com.", Rights: Notify},
	}
	if len(keys) != len(want) {
		t.Fatalf("got %d keys %+v, want %d", len(keys), keys, len(want))
	}
	for i := range want {
		if keys[i] != want[i] {
			t.Errorf("key %d: %+v, want %+v", i, keys[i], want[i])
		}
	}

	// Record writes what ParseKeyFile reads.
	var lines []string
	for _, k := range keys {
		lines = append(lines, k.Record())
	}
	if lines[0] != "personal._update.example.com. DNSKEY 0 3 163 "+secret32 {
		t.Errorf("Record() = %q", lines[0])
	}
	again, problems, err := ParseKeyFile("example.com._keys", []byte(strings.Join(lines, "\n")))
	if err != nil || len(problems) != 0 || len(again) != len(keys) {
		t.Fatalf("re-reading records: %v %v %v", again, problems, err)
	}
	for i := range keys {
		if again[i] != keys[i] {
			t.Errorf("re-read %+v, want %+v", again[i], keys[i])
		}
	}
}

func TestParseKeyFileProblems(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		src      string
		keys     int
		problems []string // substrings, one per problem, in order
	}{
		{
			name: "any zone in _keys",
			file: "_keys",
			src: "a._update.example.com. DNSKEY 0 3 163 " + secret32 + "\n" +
				"b._update.example.org. DNSKEY 0 3 163 " + secret32 + "\n" +
				"c._update. DNSKEY 0 3 163 " + secret32 + "\n",
			keys: 3,
		},
		{
			name:     "md5",
			file:     "example.com._keys",
			src:      "a._update.example.com. DNSKEY 0 3 157 " + secret32,
			problems: []string{"example.com._keys: a._update.example.com.: algorithm 157 (hmac-md5) is too weak"},
		},
		{
			name:     "DNSSEC algorithm",
			file:     "example.com._keys",
			src:      "a._update.example.com. DNSKEY 0 3 8 " + secret32,
			problems: []string{"algorithm 8 is no TSIG HMAC"},
		},
		{
			name: "key for another zone",
			file: "example.com._keys",
			src: "ok._update.example.com. DNSKEY 0 3 163 " + secret32 + "\n" +
				"evil._update.example.org. DNSKEY 0 3 163 " + secret32 + "\n" +
				"up._update.com. DNSKEY 0 3 163 " + secret32 + "\n" +
				"sub._update.sub.example.com. DNSKEY 0 3 163 " + secret32 + "\n",
			keys: 2,
			problems: []string{
				"evil._update.example.org.: key for zone example.org. does not belong in example.com._keys",
				"up._update.com.: key for zone com. does not belong",
			},
		},
		{
			// The name is below example.com, but it grants rights on com.
			name:     "name in zone, rights above it",
			file:     "x._update.com._keys",
			src:      "k.x._update.com. DNSKEY 0 3 163 " + secret32,
			problems: []string{"key for zone com. does not belong"},
		},
		{
			name:     "malformed base64",
			file:     "example.com._keys",
			src:      "a._update.example.com. DNSKEY 0 3 163 kJJqipaQHQWqZL31Raar6uPnepGFIdtpjkXot9rv2x*=",
			problems: []string{"secret is not base64"},
		},
		{
			name:     "base64 with stray bits",
			file:     "example.com._keys",
			src:      "a._update.example.com. DNSKEY 0 3 163 cx==",
			problems: []string{"secret is not base64"},
		},
		{
			name:     "no rights in name",
			file:     "example.com._keys",
			src:      "a.example.com. DNSKEY 0 3 163 " + secret32,
			problems: []string{"a.example.com.: no _update, _transfer or _notify label"},
		},
		{
			name:     "bad transfer address",
			file:     "example.com._keys",
			src:      "1.2.3.999._transfer.example.com. DNSKEY 0 3 163 " + secret32,
			problems: []string{"1.2.3.999 is not an IPv4 address"},
		},
		{
			name:     "protocol",
			file:     "example.com._keys",
			src:      "a._update.example.com. DNSKEY 0 2 163 " + secret32,
			problems: []string{"protocol 2"},
		},
		{
			name:     "flags",
			file:     "example.com._keys",
			src:      "a._update.example.com. DNSKEY 256 3 163 " + secret32,
			problems: []string{"flags 256"},
		},
		{
			name:     "other record type",
			file:     "example.com._keys",
			src:      "a._update.example.com. TXT \"hello\"\nb._update.example.com. DNSKEY 0 3 163 " + secret32,
			keys:     1,
			problems: []string{"TXT record: a key file holds only DNSKEY records"},
		},
		{
			name: "two keys, one name",
			file: "example.com._keys",
			src: "a._update.example.com. DNSKEY 0 3 163 " + secret32 + "\n" +
				"A._UPDATE.example.com. DNSKEY 0 3 165 " + secret32 + "\n" +
				"b._update.example.com. DNSKEY 0 3 163 " + secret32 + "\n",
			keys:     1,
			problems: []string{"a._update.example.com.: 2 records for one key name"},
		},
		{
			name:     "syntax error",
			file:     "example.com._keys",
			src:      "a._update.example.com. DNSKEY 0 3 163 " + secret32 + "\nb._update.example.com. DNSKEY zero 3 163 " + secret32,
			keys:     1,
			problems: []string{"example.com._keys: dns: bad DNSKEY Flags: \"zero\" at line: 2"},
		},
		{
			name:     "no generate",
			file:     "example.com._keys",
			src:      "a._update.example.com. DNSKEY 0 3 163 " + secret32 + "\n  $generate 1-65535 k$._update DNSKEY 0 3 163 " + secret32,
			problems: []string{"example.com._keys: line 2: $GENERATE is not allowed"},
		},
		{
			name:     "no includes",
			file:     "example.com._keys",
			src:      "$INCLUDE /etc/passwd\n",
			problems: []string{"$INCLUDE"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, problems, err := ParseKeyFile(tt.file, []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) != tt.keys {
				t.Errorf("%d keys %+v, want %d", len(keys), keys, tt.keys)
			}
			if len(problems) != len(tt.problems) {
				t.Fatalf("problems %q, want %q", problems, tt.problems)
			}
			for i, p := range problems {
				if s := p.String(); !strings.Contains(s, tt.problems[i]) || strings.Contains(s, "\n") {
					t.Errorf("problem %q, want one line containing %q", s, tt.problems[i])
				}
			}
		})
	}
}

func TestParseKeyFileName(t *testing.T) {
	for _, file := range []string{"example.com", "keys", "", "._keys"} {
		if _, _, err := ParseKeyFile(file, nil); err == nil {
			t.Errorf("ParseKeyFile(%q): want error", file)
		}
	}
	keys, problems, err := ParseKeyFile("_keys", nil)
	if err != nil || keys != nil || problems != nil {
		t.Errorf("empty file: %v %v %v", keys, problems, err)
	}
}
