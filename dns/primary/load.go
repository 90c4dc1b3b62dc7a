package primary

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/authority"
	"github.com/quercus-dev/quercus/dns/tsig"
	"github.com/quercus-dev/quercus/dns/zone"
	"github.com/quercus-dev/quercus/kv"
)

// served is one zone as loaded from one file content. It keeps the
// parsed records only in auth: a second slice of them would cost 16 bytes
// a record for as long as the zone is served.
type served struct {
	digest string // of the file it came from
	origin string // as given to zone.Parse
	serial uint32
	auth   *authority.Zone
}

func newServed(digest string, z *zone.Zone, a *authority.Zone) *served {
	return &served{digest: digest, origin: z.Origin, serial: z.Serial(), auth: a}
}

// zone returns the zone served as dns/zone's type, for comparisons with a
// new version; its records are in authority's order.
func (s *served) zone() *zone.Zone {
	return &zone.Zone{Origin: s.origin, Records: s.auth.Records()}
}

// ZoneError says why a zone file was not served.
type ZoneError struct {
	Zone     string
	Problems []string
}

func (e *ZoneError) Error() string {
	return fmt.Sprintf("zone %s rejected: %s", e.Zone, strings.Join(e.Problems, "; "))
}

// loadZone parses and checks one zone file.
func loadZone(name string, src []byte) (*zone.Zone, *authority.Zone, error) {
	origin := dns.Fqdn(name)
	z, err := zone.Parse(origin, src)
	if err != nil {
		return nil, nil, &ZoneError{Zone: origin, Problems: []string{err.Error()}}
	}
	if problems := zone.Check(z); len(problems) > 0 {
		e := &ZoneError{Zone: origin}
		for _, p := range problems {
			e.Problems = append(e.Problems, p.String())
		}
		return nil, nil, e
	}
	shareOwners(z.Records)
	a, err := authority.New(origin, z.Records)
	if err != nil {
		return nil, nil, &ZoneError{Zone: origin, Problems: []string{err.Error()}}
	}
	return z, a, nil
}

// shareOwners makes records that repeat the owner name of the record
// before them share its string. The parser allocates one for every owner
// it reads, and only a line without one reuses the previous; in a file
// that names the owner on every line, a name with five records held five
// copies of it. The records are the caller's alone: nothing else reads
// them yet.
func shareOwners(rrs []dns.RR) {
	for i := 1; i < len(rrs); i++ {
		if h, prev := rrs[i].Header(), rrs[i-1].Header(); h.Name == prev.Name {
			h.Name = prev.Name
		}
	}
}

// keyFile is the keys of one key file as last loaded.
type keyFile struct {
	digest string
	keys   []tsig.Key
}

// loadKeys reads the key files of a snapshot. A file whose new version
// has problems keeps its last good version, as zones do, so that a typo
// in _keys cannot lock every client out; a file seen for the first time
// serves the keys that did parse.
func loadKeys(ctx context.Context, snap kv.Snapshot, entries []kv.Entry, old map[string]keyFile) (*tsig.Keyring, map[string]keyFile, []error) {
	next := map[string]keyFile{}
	var errs []error
	for _, e := range entries {
		if !zone.IsKeyFile(e.Key) {
			continue
		}
		prev, had := old[e.Key]
		if had && prev.digest == e.Digest {
			next[e.Key] = prev
			continue
		}
		b, err := snap.Get(ctx, e.Key)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ks, problems, err := tsig.ParseKeyFile(e.Key, b)
		if err != nil {
			problems = append(problems, tsig.Problem{File: e.Key, Msg: err.Error()})
		}
		for _, p := range problems {
			errs = append(errs, fmt.Errorf("key file %s: %s", e.Key, p))
		}
		if len(problems) > 0 && had {
			errs = append(errs, fmt.Errorf("key file %s: keeping its previous version", e.Key))
			next[e.Key] = prev
			continue
		}
		next[e.Key] = keyFile{digest: e.Digest, keys: ks}
	}
	var keys []tsig.Key
	for _, e := range entries { // in file order, so a repeated name resolves the same way each time
		keys = append(keys, next[e.Key].keys...)
	}
	return tsig.NewKeyring(keys...), next, errs
}

// topLevel keeps the files at the repository's top level, where zones
// and keys live.
func topLevel(entries []kv.Entry) []kv.Entry {
	return slices.DeleteFunc(entries, func(e kv.Entry) bool { return strings.Contains(e.Key, "/") })
}
