package main

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/quercus-dev/quercus/dns/dnsaddr"
	"github.com/quercus-dev/quercus/dns/secondary"
	"github.com/quercus-dev/quercus/dns/tsig"
)

// zoneFlags collects --zone, --catalog, --primary and --key in the order
// given: a --zone or --catalog opens a zone, and the --primary and --key
// that follow it are its own; a --key outside an open zone (or after its key) is a robur-style
// transfer key, <primary-ip>.<secondary-ip>._transfer.<zone>, whose name
// gives the zone and the primary (port 53). Another key before every
// zone comes from QUERCUS_KEY (the environment is read first): it is the
// key of the single zone or catalog given.
type zoneFlags struct {
	items []zoneItem
}

type zoneItem struct{ flag, value string }

// value is one of the four flags, appending to the shared list.
type value struct {
	z    *zoneFlags
	flag string
}

func (v value) String() string { return "" }

func (v value) Set(s string) error {
	v.z.items = append(v.z.items, zoneItem{v.flag, s})
	return nil
}

// zones turns the flags into the configurations of zones and catalogs.
func (z *zoneFlags) zones() (zones, catalogs []secondary.ZoneConfig, err error) {
	var out []secondary.ZoneConfig
	var isCatalog []bool
	open := -1          // the zone --primary and --key apply to
	var early *tsig.Key // a key before any zone: QUERCUS_KEY, set first
	for _, it := range z.items {
		switch it.flag {
		case "zone", "catalog":
			name := strings.TrimSpace(it.value)
			if name == "" || name == "." {
				return nil, nil, fmt.Errorf("--%s: a zone name is needed", it.flag)
			}
			out = append(out, secondary.ZoneConfig{Origin: name})
			isCatalog = append(isCatalog, it.flag == "catalog")
			open = len(out) - 1
		case "primary":
			if open < 0 || out[open].Primary.IsValid() {
				return nil, nil, fmt.Errorf("--primary %s: give it after its --zone or --catalog, once", it.value)
			}
			ap, err := dnsaddr.Parse(strings.TrimSpace(it.value))
			if err != nil {
				return nil, nil, fmt.Errorf("--primary: %w", err)
			}
			out[open].Primary = ap
		case "key":
			k, err := tsig.ParseFlag(it.value)
			if err != nil {
				return nil, nil, fmt.Errorf("--key: %w", err)
			}
			if open >= 0 && out[open].Key == nil {
				out[open].Key = &k
				continue
			}
			if !k.Primary.IsValid() || k.Rights&tsig.Transfer == 0 {
				if len(out) == 0 && early == nil {
					early = &k
					continue
				}
				return nil, nil, fmt.Errorf("--key %s: without --zone, the key must be named <primary-ip>.<secondary-ip>._transfer.<zone>", k.Name)
			}
			out = append(out, secondary.ZoneConfig{Origin: k.Zone, Primary: netip.AddrPortFrom(k.Primary, 53), Key: &k})
			isCatalog = append(isCatalog, false)
			open = -1
		}
	}
	if early != nil {
		// Only QUERCUS_KEY comes before every zone (the environment is
		// read before the arguments); it is for the only zone given.
		if len(out) == 0 {
			return nil, nil, fmt.Errorf("--key %s: without --zone, the key must be named <primary-ip>.<secondary-ip>._transfer.<zone>", early.Name)
		}
		if len(out) != 1 || out[0].Key != nil {
			return nil, nil, fmt.Errorf("--key %s (QUERCUS_KEY) before any --zone or --catalog: only for a single zone without a --key of its own, else give it after its zone", early.Name)
		}
		out[0].Key = early
	}
	for i, zc := range out {
		if !zc.Primary.IsValid() {
			flag := "--zone"
			if isCatalog[i] {
				flag = "--catalog"
			}
			return nil, nil, fmt.Errorf("%s %s: no --primary", flag, zc.Origin)
		}
		if isCatalog[i] {
			catalogs = append(catalogs, zc)
		} else {
			zones = append(zones, zc)
		}
	}
	return zones, catalogs, nil
}

// keyList is a repeatable NAME:ALG:SECRET flag.
type keyList []tsig.Key

func (l *keyList) String() string { return "" }

func (l *keyList) Set(s string) error {
	k, err := tsig.ParseFlag(s)
	if err != nil {
		return err
	}
	*l = append(*l, k)
	return nil
}
