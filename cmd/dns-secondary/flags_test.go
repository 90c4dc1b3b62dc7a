package main

import (
	"strings"
	"testing"
)

const secret = "kJJqipaQHQWqZL31Raar6uPnepGFIdtpjkXot9rv2xg="

func TestZoneFlags(t *testing.T) {
	tests := []struct {
		name string
		args [][2]string
		want string // zone primary key, one line per zone; catalogs start with "catalog "
		err  string
	}{
		{"explicit", [][2]string{{"zone", "example.com"}, {"primary", "192.0.2.1:5300"}, {"key", "k._transfer.example.com:hmac-sha256:" + secret}},
			"example.com 192.0.2.1:5300 k._transfer.example.com.", ""},
		{"default port, no key", [][2]string{{"zone", "example.com"}, {"primary", "192.0.2.1"}},
			"example.com 192.0.2.1:53 -", ""},
		{"robur key", [][2]string{{"key", "192.0.2.1.192.0.2.2._transfer.example.org:hmac-sha256:" + secret}},
			"example.org. 192.0.2.1:53 192.0.2.1.192.0.2.2._transfer.example.org.", ""},
		{"robur key after a zone with its key", [][2]string{
			{"zone", "example.com"}, {"primary", "192.0.2.1"}, {"key", "k._update.example.com:hmac-sha256:" + secret},
			{"key", "192.0.2.1.192.0.2.2._transfer.example.org:hmac-sha256:" + secret}},
			"example.com 192.0.2.1:53 k._update.example.com.\nexample.org. 192.0.2.1:53 192.0.2.1.192.0.2.2._transfer.example.org.", ""},
		{"catalog", [][2]string{{"catalog", "catalog.invalid"}, {"primary", "192.0.2.1:5300"}, {"key", "xfr._transfer:hmac-sha256:" + secret},
			{"zone", "example.com"}, {"primary", "192.0.2.2"}},
			"catalog catalog.invalid 192.0.2.1:5300 xfr._transfer.\nexample.com 192.0.2.2:53 -", ""},
		{"robur key after a catalog with its key", [][2]string{
			{"catalog", "catalog.invalid"}, {"primary", "192.0.2.1"}, {"key", "xfr._transfer:hmac-sha256:" + secret},
			{"key", "192.0.2.1.192.0.2.2._transfer.example.org:hmac-sha256:" + secret}},
			"catalog catalog.invalid 192.0.2.1:53 xfr._transfer.\nexample.org. 192.0.2.1:53 192.0.2.1.192.0.2.2._transfer.example.org.", ""},
		// The environment's values come first (service.Parse sets them
		// before the arguments): QUERCUS_KEY for the one zone given.
		{"key from the environment, for the single zone", [][2]string{
			{"key", "k._transfer.example.com:hmac-sha256:" + secret}, {"zone", "example.com"}, {"primary", "192.0.2.1"}},
			"example.com 192.0.2.1:53 k._transfer.example.com.", ""},
		{"key from the environment, for the single catalog", [][2]string{
			{"key", "xfr._transfer:hmac-sha256:" + secret}, {"catalog", "catalog.invalid"}, {"primary", "192.0.2.1"}},
			"catalog catalog.invalid 192.0.2.1:53 xfr._transfer.", ""},
		{"key from the environment, two zones", [][2]string{
			{"key", "k._transfer:hmac-sha256:" + secret}, {"zone", "example.com"}, {"primary", "192.0.2.1"}, {"zone", "example.org"}, {"primary", "192.0.2.1"}},
			"", "single"},
		{"key from the environment, the zone has its own", [][2]string{
			{"key", "k._transfer:hmac-sha256:" + secret}, {"zone", "example.com"}, {"primary", "192.0.2.1"}, {"key", "j._transfer:hmac-sha256:" + secret}},
			"", "single"},
		{"zone without primary", [][2]string{{"zone", "example.com"}}, "", "no --primary"},
		{"catalog without primary", [][2]string{{"catalog", "catalog.invalid"}}, "", "--catalog catalog.invalid: no --primary"},
		{"catalog without name", [][2]string{{"catalog", " "}}, "", "--catalog: a zone name is needed"},
		{"primary without zone", [][2]string{{"primary", "192.0.2.1"}}, "", "after its --zone"},
		{"key without addresses", [][2]string{{"key", "k._transfer.example.com:hmac-sha256:" + secret}}, "", "must be named"},
		{"bad address", [][2]string{{"zone", "example.com"}, {"primary", "ns1.example.com"}}, "", "want an IP address"},
		{"bad key", [][2]string{{"zone", "example.com"}, {"primary", "192.0.2.1"}, {"key", "k:hmac-md5:" + secret}}, "", "--key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var zf zoneFlags
			for _, a := range tc.args {
				value{&zf, a[0]}.Set(a[1])
			}
			zones, catalogs, err := zf.zones()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			for i, z := range append(catalogs, zones...) {
				key := "-"
				if z.Key != nil {
					key = z.Key.Name
				}
				line := z.Origin + " " + z.Primary.String() + " " + key
				if i < len(catalogs) {
					line = "catalog " + line
				}
				lines = append(lines, line)
			}
			if got := strings.Join(lines, "\n"); got != tc.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}
