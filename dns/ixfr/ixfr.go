package ixfr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/authority"
	"github.com/quercus-dev/quercus/dns/zone"
	"github.com/quercus-dev/quercus/kv"
)

// Defaults for the zero values of Source's fields.
const (
	DefaultMaxSteps     = 64
	DefaultMaxVersions  = 256
	DefaultCacheRecords = 1 << 18
	DefaultTimeout      = 10 * time.Second
)

// Why Answer gives no incremental answer; the server sends the whole zone.
var (
	// ErrUnknownSerial: no version the walk reached has the serial.
	ErrUnknownSerial = errors.New("ixfr: serial not in the zone's history")
	// ErrTooOld: the serial is more than MaxSteps serial changes behind.
	ErrTooOld = errors.New("ixfr: serial too far behind")
	// ErrAmbiguous: versions with the serial differ, so the client's copy
	// is not known.
	ErrAmbiguous = errors.New("ixfr: versions with this serial differ")
	// ErrNotBehind: the serial is not older than the zone served.
	ErrNotBehind = errors.New("ixfr: serial not older than the zone served")
)

// Source computes incremental transfers from a store's history. Store is
// required; the zero value of every other field works. A Source is safe
// for concurrent use and must not be copied after first use.
type Source struct {
	// Store holds the zone files, one per zone, named by the zone without
	// its final dot.
	Store kv.Store
	// MaxSteps is how many serial changes a client may be behind and still
	// get an incremental answer. Default DefaultMaxSteps.
	MaxSteps int
	// MaxVersions is how many versions of a zone's file are looked at,
	// counting those skipped (bad, or a comment changed). Default
	// DefaultMaxVersions.
	MaxVersions int
	// CacheRecords bounds the parsed versions kept, counted in records.
	// Default DefaultCacheRecords.
	CacheRecords int
	// Timeout bounds the store reads of one answer. Default DefaultTimeout.
	Timeout time.Duration
	// Logger says why a client gets the whole zone (at debug level) and
	// reports store errors. Default slog.Default().
	Logger *slog.Logger

	once  sync.Once
	cache *cache[*version]

	// The last history read of each file, by the head it was read at:
	// the secondaries a NOTIFY wakes all ask at the same head, and
	// reading a file's history can mean walking many commits.
	histMu  sync.Mutex
	history map[string]revisions
}

type revisions struct {
	head string
	revs []kv.Revision
}

// version is one version of a zone file, parsed.
type version struct {
	zone *zone.Zone // nil if the file did not parse or failed zone.Check
	soa  *dns.SOA
}

func (s *Source) init() {
	s.once.Do(func() {
		limit := s.CacheRecords
		if limit <= 0 {
			limit = DefaultCacheRecords
		}
		s.cache = newCache[*version](limit)
		s.history = map[string]revisions{}
	})
}

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

func (s *Source) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

// IXFR implements the wire server's IXFRSource (dns/server): ok is
// false whenever Answer fails.
func (s *Source) IXFR(z *authority.Zone, serial uint32) ([]dns.RR, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), orDefault(s.Timeout, DefaultTimeout))
	defer cancel()
	rrs, err := s.Answer(ctx, z, serial)
	switch {
	case err == nil:
		return rrs, true
	case errors.Is(err, ErrUnknownSerial), errors.Is(err, ErrTooOld),
		errors.Is(err, ErrAmbiguous), errors.Is(err, ErrNotBehind):
		s.logger().Debug("ixfr: sending the whole zone", "zone", z.Origin(), "serial", serial, "why", err)
	default:
		s.logger().Warn("ixfr: cannot read the zone's history; sending the whole zone", "zone", z.Origin(), "serial", serial, "err", err)
	}
	return nil, false
}

// Answer returns the records of an IXFR answer (RFC 1995 §4) that takes a
// client at serial to the zone z served now, in one step (see the package
// documentation), or an error saying why it cannot.
func (s *Source) Answer(ctx context.Context, z *authority.Zone, serial uint32) ([]dns.RR, error) {
	cur := z.SOA()
	if !zone.SerialLess(serial, cur.Serial) {
		return nil, ErrNotBehind
	}
	old, err := s.find(ctx, z, serial)
	if err != nil {
		return nil, err
	}
	added, removed := zone.Diff(old.zone, &zone.Zone{Origin: z.Origin(), Records: z.Records()})
	out := make([]dns.RR, 0, len(added)+len(removed)+4)
	out = append(out, cur, old.soa)
	out = appendNoSOA(out, removed)
	out = append(out, cur)
	out = appendNoSOA(out, added)
	return append(out, cur), nil
}

// appendNoSOA appends rrs but the SOA, whose change the SOAs that frame
// each part of a step already say (RFC 1995 §4).
func appendNoSOA(out, rrs []dns.RR) []dns.RR {
	for _, rr := range rrs {
		if rr.Header().Rrtype != dns.TypeSOA {
			out = append(out, rr)
		}
	}
	return out
}

// find walks the history of z's file, newest first, to the version a
// client at serial holds.
func (s *Source) find(ctx context.Context, z *authority.Zone, serial uint32) (*version, error) {
	key, err := s.fileOf(ctx, z.Origin())
	if err != nil {
		return nil, err
	}
	revs, err := s.revisions(ctx, key)
	if err != nil {
		return nil, err
	}
	var (
		cur      = z.SOA().Serial
		prev     = cur   // serial of the last good version walked
		started  = false // walked a version at or below cur
		steps    = 0
		found    []*version
		maxSteps = orDefault(s.MaxSteps, DefaultMaxSteps)
	)
walk:
	for _, rev := range revs {
		v, err := s.version(ctx, key, z.Origin(), rev.Version)
		if errors.Is(err, kv.ErrNotFound) {
			break // deleted: what came before is another life of the zone
		}
		if err != nil {
			return nil, err
		}
		if v.zone == nil {
			continue
		}
		sv := v.soa.Serial
		switch {
		case len(found) > 0 && sv != serial:
			break walk // past the versions with the client's serial
		case !started && zone.SerialLess(cur, sv):
			continue // newer than the zone served
		}
		started = true
		if sv != prev {
			if !zone.SerialLess(sv, prev) || zone.SerialLess(sv, serial) {
				// The serial went down in time (a reset), or we passed
				// the client's serial without meeting it.
				break walk
			}
			if steps++; steps > maxSteps {
				return nil, fmt.Errorf("%w: more than %d serial changes", ErrTooOld, maxSteps)
			}
			prev = sv
		}
		if sv == serial {
			found = append(found, v)
		}
	}
	if len(found) == 0 {
		return nil, ErrUnknownSerial
	}
	for _, v := range found[1:] {
		if added, removed := zone.Diff(found[0].zone, v.zone); len(added)+len(removed) > 0 {
			return nil, ErrAmbiguous
		}
	}
	return found[0], nil
}

// revisions returns the history of the file key, newest first.
func (s *Source) revisions(ctx context.Context, key string) ([]kv.Revision, error) {
	s.init()
	head := s.Store.Version()
	s.histMu.Lock()
	h, ok := s.history[key]
	s.histMu.Unlock()
	if ok && h.head == head {
		return h.revs, nil
	}
	// A head that moved after Version() only adds newer versions,
	// which find skips.
	revs, err := s.Store.History(ctx, key, orDefault(s.MaxVersions, DefaultMaxVersions))
	if err != nil {
		return nil, err
	}
	s.histMu.Lock()
	s.history[key] = revisions{head: head, revs: revs}
	s.histMu.Unlock()
	return revs, nil
}

// fileOf returns the key of the zone file for origin: the origin without
// its final dot, or a file spelling it in other case.
func (s *Source) fileOf(ctx context.Context, origin string) (string, error) {
	key := strings.TrimSuffix(origin, ".")
	if key == "" {
		return "", ErrUnknownSerial // the root zone has no file name
	}
	if _, err := s.Store.Digest(ctx, key); !errors.Is(err, kv.ErrNotFound) {
		return key, err
	}
	entries, err := s.Store.List(ctx, "")
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		if strings.EqualFold(e.Key, key) {
			return e.Key, nil
		}
	}
	return key, nil
}

// version returns the parsed file key at a version, from the cache when
// the same content was parsed before. It fails with kv.ErrNotFound if the
// file does not exist at that version.
func (s *Source) version(ctx context.Context, key, origin, id string) (*version, error) {
	s.init()
	snap, err := s.Store.At(ctx, id)
	if err != nil {
		return nil, err
	}
	digest, err := snap.Digest(ctx, key)
	if err != nil {
		return nil, err
	}
	ck := origin + "\x00" + digest
	if v, ok := s.cache.get(ck); ok {
		return v, nil
	}
	src, err := snap.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	v := &version{}
	if z, err := zone.Parse(origin, src); err == nil && len(zone.Check(z)) == 0 {
		v.zone, v.soa = z, z.SOA()
	}
	cost := 1
	if v.zone != nil {
		cost = len(v.zone.Records)
	}
	s.cache.add(ck, v, cost)
	return v, nil
}
