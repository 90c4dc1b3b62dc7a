package dnsaddr

import (
	"fmt"
	"net/netip"
	"strings"
)

// Port is the port an address without one gets.
const Port = 53

// Parse reads ADDR or ADDR:PORT ([ADDR]:PORT for IPv6).
func Parse(s string) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%q: want an IP address, optionally with :PORT", s)
	}
	return netip.AddrPortFrom(a, Port), nil
}

// List is a flag.Value of comma-separated ADDR[:PORT]s; each use of the
// flag adds to the list.
type List []netip.AddrPort

func (l *List) String() string {
	var s []string
	for _, a := range *l {
		s = append(s, a.String())
	}
	return strings.Join(s, ",")
}

// Set adds the addresses of v; empty items are skipped.
func (l *List) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		ap, err := Parse(part)
		if err != nil {
			return err
		}
		*l = append(*l, ap)
	}
	return nil
}
