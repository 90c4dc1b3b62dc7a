package catalog

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// Version is the catalog schema version read: the version property,
// version.<catalog> TXT "2".
const Version = "2"

// The ways a catalog is broken; an *Error wraps one of them.
var (
	ErrNoVersion       = errors.New("no version property")
	ErrVersion         = errors.New("unsupported catalog version")
	ErrMultiplePTR     = errors.New("more than one PTR record under a member's unique id")
	ErrDuplicateMember = errors.New("a member zone listed under two unique ids")
	ErrBadMember       = errors.New("a member that is not a valid zone name")
	ErrClass           = errors.New("a record of class other than IN")
)

// Error says which record made a catalog broken.
type Error struct {
	Catalog string
	Name    string // the owner name at fault
	Err     error  // one of the Err values above
	Detail  string
}

func (e *Error) Error() string {
	s := fmt.Sprintf("catalog %s: %s: %v", e.Catalog, e.Name, e.Err)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Member is one member zone of a catalog.
type Member struct {
	Zone string // canonical FQDN
	ID   string // the unique-N label, lowercase
	// COO, if not empty, is the catalog the member is moving to
	// (the coo property), canonical FQDN.
	COO string
}

// Catalog is a parsed catalog zone.
type Catalog struct {
	Origin  string   // canonical FQDN
	Members []Member // sorted by zone
}

// Member returns the member for zone, if listed.
func (c *Catalog) Member(zone string) (Member, bool) {
	i, ok := slices.BinarySearchFunc(c.Members, dns.CanonicalName(zone), func(m Member, z string) int { return strings.Compare(m.Zone, z) })
	if !ok {
		return Member{}, false
	}
	return c.Members[i], true
}

// Parse reads the records of the catalog zone at origin. Records outside
// version.<origin> and the member nodes under zones.<origin> are ignored,
// as are properties it does not know.
func Parse(origin string, rrs []dns.RR) (*Catalog, error) {
	origin = dns.CanonicalName(origin)
	fail := func(name string, err error, detail string) (*Catalog, error) {
		return nil, &Error{Catalog: origin, Name: name, Err: err, Detail: detail}
	}
	version := "version." + origin
	zones := "zones." + origin
	var versions []string
	ptrs := map[string][]string{} // unique id -> member names
	coos := map[string][]string{} // unique id -> coo targets
	for _, rr := range rrs {
		h := rr.Header()
		name := dns.CanonicalName(h.Name)
		if h.Class != dns.ClassINET {
			return fail(name, ErrClass, dns.ClassToString[h.Class])
		}
		if name == version && h.Rrtype == dns.TypeTXT {
			versions = append(versions, strings.Join(rr.(*dns.TXT).Txt, ""))
			continue
		}
		if h.Rrtype != dns.TypePTR || !dns.IsSubDomain(zones, name) || name == zones {
			continue
		}
		labels := dns.SplitDomainName(strings.TrimSuffix(name, "."+zones))
		target := rr.(*dns.PTR).Ptr
		switch {
		case len(labels) == 1:
			ptrs[labels[0]] = append(ptrs[labels[0]], target)
		case len(labels) == 2 && labels[0] == "coo":
			coos[labels[1]] = append(coos[labels[1]], target)
		}
	}
	switch {
	case len(versions) == 0:
		return fail(version, ErrNoVersion, "")
	case len(versions) > 1:
		return fail(version, ErrVersion, fmt.Sprintf("%d TXT records", len(versions)))
	case versions[0] != Version:
		return fail(version, ErrVersion, fmt.Sprintf("%q, want %q", versions[0], Version))
	}
	c := &Catalog{Origin: origin}
	byZone := map[string]string{} // member zone -> unique id
	for _, id := range slices.Sorted(maps.Keys(ptrs)) {
		targets := ptrs[id]
		owner := id + "." + zones
		if len(targets) > 1 {
			return fail(owner, ErrMultiplePTR, strings.Join(targets, " "))
		}
		zone := dns.CanonicalName(targets[0])
		if reason := badZone(zone, origin); reason != "" {
			return fail(owner, ErrBadMember, fmt.Sprintf("%q %s", targets[0], reason))
		}
		if other, ok := byZone[zone]; ok {
			return fail(owner, ErrDuplicateMember, fmt.Sprintf("%s under %s and %s", zone, other, id))
		}
		byZone[zone] = id
		m := Member{Zone: zone, ID: id}
		switch coo := coos[id]; len(coo) {
		case 0:
		case 1:
			m.COO = dns.CanonicalName(coo[0])
		default:
			return fail("coo."+owner, ErrMultiplePTR, strings.Join(coo, " "))
		}
		c.Members = append(c.Members, m)
	}
	slices.SortFunc(c.Members, func(a, b Member) int { return strings.Compare(a.Zone, b.Zone) })
	return c, nil
}

// badZone says why zone cannot be a member of the catalog, or "".
func badZone(zone, catalog string) string {
	if zone == "." {
		return "is the root"
	}
	if _, ok := dns.IsDomainName(zone); !ok {
		return "is not a domain name"
	}
	if len(zone) > 254 {
		return "is longer than 255 octets"
	}
	if dns.IsSubDomain(catalog, zone) {
		return "is the catalog or below it"
	}
	return ""
}
