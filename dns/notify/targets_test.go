package notify_test

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/authority"
	"github.com/quercus-dev/quercus/dns/notify"
	"github.com/quercus-dev/quercus/dns/tsig"
	"github.com/quercus-dev/quercus/dns/zone"
)

func parse(t testing.TB, src string) *authority.Zone {
	t.Helper()
	z, err := zone.Parse("example.com.", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	a, err := authority.New("example.com.", z.Records)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func key(t testing.TB, name string) tsig.Key {
	t.Helper()
	k, err := tsig.Generate(name, dns.HmacSHA256, strings.NewReader(strings.Repeat(name, 64)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

const targetsZone = `$TTL 300
@       SOA ns1 hostmaster 1 3600 900 1209600 300
@       NS  ns1                  ; the SOA MNAME: the primary, not notified
@       NS  ns2
@       NS  NS4
@       NS  ns3.example.net.     ; no address in the zone
@       NS  ns.sub               ; glue
ns1     A   192.0.2.1
ns2     A   192.0.2.2
ns2     AAAA 2001:db8::2
ns4     A   192.0.2.4
sub     NS  ns.sub               ; a delegation: its servers are not ours
ns.sub  A   192.0.2.9
other   A   192.0.2.10
`

func TestTargets(t *testing.T) {
	var (
		k7      = key(t, "192.0.2.1.192.0.2.7._transfer.example.com.")
		k2      = key(t, "192.0.2.1.192.0.2.2._transfer.example.com.")
		k2root  = key(t, "192.0.2.1.192.0.2.2._transfer.")
		k10root = key(t, "192.0.2.1.192.0.2.10._transfer.")
		update  = key(t, "ops._update.example.com.")
		note    = key(t, "ops._notify.example.com.")
		other   = key(t, "192.0.2.1.192.0.2.8._transfer.example.org.")
		primary = key(t, "192.0.2.1._transfer.example.com.")
	)
	ap := netip.MustParseAddrPort
	tests := []struct {
		name string
		zone string
		keys *tsig.Keyring
		also []netip.AddrPort
		want []notify.Target
	}{
		{
			name: "NS",
			zone: targetsZone,
			want: []notify.Target{
				{Addr: ap("192.0.2.2:53")}, {Addr: ap("[2001:db8::2]:53")},
				{Addr: ap("192.0.2.4:53")}, {Addr: ap("192.0.2.9:53")},
			},
		},
		{
			name: "only the primary",
			zone: "@ SOA ns1 hostmaster 1 3600 900 1209600 300\n@ NS ns1\nns1 A 192.0.2.1\n",
		},
		{
			name: "keys",
			zone: targetsZone,
			keys: tsig.NewKeyring(k7, k2, k2root, k10root, update, note, other, primary),
			want: []notify.Target{
				{Addr: ap("192.0.2.2:53"), Key: k2.Name}, // the closest zone's key
				{Addr: ap("[2001:db8::2]:53")},
				{Addr: ap("192.0.2.4:53")},
				{Addr: ap("192.0.2.9:53")},
				{Addr: ap("192.0.2.10:53"), Key: k10root.Name}, // a key for every zone
				{Addr: ap("192.0.2.7:53"), Key: k7.Name},
			},
		},
		{
			name: "also",
			zone: targetsZone,
			keys: tsig.NewKeyring(k7),
			also: []netip.AddrPort{
				ap("192.0.2.7:5353"),        // another port: signed too
				ap("[2001:db8::2]:53"),      // an NS already
				ap("[::ffff:192.0.2.4]:53"), // the same, mapped
				ap("198.51.100.1:53"),       // no key
				ap("192.0.2.1:53"),          // the MNAME's address, asked for
			},
			want: []notify.Target{
				{Addr: ap("192.0.2.2:53")}, {Addr: ap("[2001:db8::2]:53")},
				{Addr: ap("192.0.2.4:53")}, {Addr: ap("192.0.2.9:53")},
				{Addr: ap("192.0.2.7:53"), Key: k7.Name},
				{Addr: ap("192.0.2.7:5353"), Key: k7.Name},
				{Addr: ap("198.51.100.1:53")},
				{Addr: ap("192.0.2.1:53")},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := notify.Targets(parse(t, tt.zone), tt.keys, tt.also, 53)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Targets:\ngot  %v\nwant %v", got, tt.want)
			}
		})
	}
}
