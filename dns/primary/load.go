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

// served is one zone as loaded from one file content.
type served struct {
	digest string // of the file it came from
	zone   *zone.Zone
	auth   *authority.Zone
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
	a, err := authority.New(origin, z.Records)
	if err != nil {
		return nil, nil, &ZoneError{Zone: origin, Problems: []string{err.Error()}}
	}
	return z, a, nil
}

// loadKeys reads every key file of a snapshot. Problems with single keys
// are reported and the keys skipped; the rest stay usable.
func loadKeys(ctx context.Context, snap kv.Snapshot, entries []kv.Entry) (*tsig.Keyring, []error) {
	var keys []tsig.Key
	var errs []error
	for _, e := range entries {
		if !zone.IsKeyFile(e.Key) {
			continue
		}
		b, err := snap.Get(ctx, e.Key)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ks, problems, err := tsig.ParseKeyFile(e.Key, b)
		if err != nil {
			errs = append(errs, fmt.Errorf("key file %s: %w", e.Key, err))
			continue
		}
		for _, p := range problems {
			errs = append(errs, fmt.Errorf("key file %s: %s", e.Key, p))
		}
		keys = append(keys, ks...)
	}
	return tsig.NewKeyring(keys...), errs
}

// topLevel keeps the files at the repository's top level, where zones
// and keys live.
func topLevel(entries []kv.Entry) []kv.Entry {
	return slices.DeleteFunc(entries, func(e kv.Entry) bool { return strings.Contains(e.Key, "/") })
}
