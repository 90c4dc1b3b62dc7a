package notify

import (
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/authority"
	"github.com/quercus-dev/quercus/dns/tsig"
)

// Target is one server to notify.
type Target struct {
	Addr netip.AddrPort
	Key  string // name of the TSIG key to sign with; "" for none
}

// Targets returns the servers to notify of z's change, each once, in this
// order: the addresses of z's apex NS targets but the SOA MNAME, found in
// z's A and AAAA records; the secondaries of the _transfer keys for z
// (keys may be nil); then also. NS and key targets use port. Each target
// gets the _transfer key that names its address as the secondary, if any.
func Targets(z *authority.Zone, keys *tsig.Keyring, also []netip.AddrPort, port int) []Target {
	origin := z.Origin()
	transfer := transferKeys(keys, origin)

	var out []Target
	seen := map[netip.AddrPort]bool{}
	add := func(a netip.AddrPort) {
		a = netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
		if seen[a] || !a.IsValid() {
			return
		}
		seen[a] = true
		out = append(out, Target{Addr: a, Key: transfer[a.Addr()].Name})
	}

	mname := canonical(z.SOA().Ns)
	addrs := map[string][]netip.Addr{} // by canonical owner name
	var servers []string
	for _, rr := range z.Records() {
		switch rr := rr.(type) {
		case *dns.NS:
			if canonical(rr.Hdr.Name) == origin && canonical(rr.Ns) != mname {
				servers = append(servers, canonical(rr.Ns))
			}
		case *dns.A:
			if a, ok := netip.AddrFromSlice(rr.A.To4()); ok {
				addrs[canonical(rr.Hdr.Name)] = append(addrs[canonical(rr.Hdr.Name)], a)
			}
		case *dns.AAAA:
			if a, ok := netip.AddrFromSlice(rr.AAAA); ok {
				addrs[canonical(rr.Hdr.Name)] = append(addrs[canonical(rr.Hdr.Name)], a)
			}
		}
	}
	for _, ns := range servers {
		for _, a := range addrs[ns] {
			add(netip.AddrPortFrom(a, uint16(port)))
		}
	}
	for _, k := range keys.ForZone(origin) { // sorted by name
		if _, ok := transfer[k.Secondary]; ok {
			add(netip.AddrPortFrom(k.Secondary, uint16(port)))
		}
	}
	for _, a := range also {
		add(a)
	}
	return out
}

// transferKeys returns, by secondary address, the _transfer key to sign
// notifies of zone with: of several for one address, the one for the
// closest zone, then the first by name.
func transferKeys(keys *tsig.Keyring, zone string) map[netip.Addr]tsig.Key {
	out := map[netip.Addr]tsig.Key{}
	for _, k := range keys.ForZone(zone) {
		if !k.Secondary.IsValid() || !k.Allows(tsig.Transfer|tsig.Notify, zone) {
			continue
		}
		if have, ok := out[k.Secondary]; !ok || dns.CountLabel(k.Zone) > dns.CountLabel(have.Zone) {
			out[k.Secondary] = k
		}
	}
	return out
}

func canonical(name string) string { return strings.ToLower(dns.Fqdn(name)) }
