// Package zonetest turns zone-file text into an indexed zone for tests. It
// stands apart from internal/dnstest, which imports dns/server, so that
// dns/server's own (internal) tests can use it too.
package zonetest

import (
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/authority"
)

// Zone parses zone-file text into an indexed zone at origin, failing the
// test on any error.
func Zone(t testing.TB, origin, src string) *authority.Zone {
	t.Helper()
	zp := dns.NewZoneParser(strings.NewReader(src), origin, "")
	var rrs []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	z, err := authority.New(origin, rrs)
	if err != nil {
		t.Fatal(err)
	}
	return z
}
