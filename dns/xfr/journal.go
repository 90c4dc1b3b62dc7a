package xfr

import (
	"sync"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/authority"
	"github.com/quercus-dev/quercus/dns/zone"
)

// Defaults for the zero values of Journal's fields.
const (
	DefaultJournalSteps   = 64
	DefaultJournalRecords = 100_000
)

// Journal keeps, in memory, the last changes of each zone, and answers
// IXFR from them: it is a server.IXFRSource. A serial older than the
// journal reaches gets no incremental answer, and the server sends the
// whole zone (RFC 1995 §4). The zero value works; it is safe for
// concurrent use.
type Journal struct {
	// MaxSteps and MaxRecords bound each zone's journal: the oldest
	// steps go first. Defaults DefaultJournalSteps, DefaultJournalRecords.
	MaxSteps, MaxRecords int

	mu    sync.Mutex
	zones map[string][]Step // by canonical origin, oldest first
}

// Record appends the change from old to new (whole zones, SOA first) to
// the zone's journal. A serial that did not rise resets the journal: a
// client at an older serial might hold a version we never saw.
func (j *Journal) Record(origin string, old, new []dns.RR) {
	origin = dns.CanonicalName(origin)
	from, _ := first(old).(*dns.SOA)
	to, _ := first(new).(*dns.SOA)
	if from == nil || to == nil || !zone.SerialLess(from.Serial, to.Serial) {
		j.Reset(origin)
		return
	}
	added, removed := zone.Diff(&zone.Zone{Origin: origin, Records: old}, &zone.Zone{Origin: origin, Records: new})
	j.Add(origin, Step{From: from, To: to, Removed: withoutSOA(removed, origin), Added: withoutSOA(added, origin)})
}

func first(rrs []dns.RR) dns.RR {
	if len(rrs) == 0 {
		return nil
	}
	return rrs[0]
}

func withoutSOA(rrs []dns.RR, origin string) []dns.RR {
	out := rrs[:0:0]
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeSOA && dns.CanonicalName(rr.Header().Name) == origin {
			continue
		}
		out = append(out, rr)
	}
	return out
}

// Add appends steps, oldest first, to the zone's journal. A step that does
// not follow the last one starts the journal anew.
func (j *Journal) Add(origin string, steps ...Step) {
	origin = dns.CanonicalName(origin)
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.zones == nil {
		j.zones = map[string][]Step{}
	}
	js := j.zones[origin]
	for _, s := range steps {
		if len(js) > 0 && js[len(js)-1].To.Serial != s.From.Serial {
			js = nil
		}
		js = append(js, s)
	}
	maxSteps, maxRecords := j.MaxSteps, j.MaxRecords
	if maxSteps <= 0 {
		maxSteps = DefaultJournalSteps
	}
	if maxRecords <= 0 {
		maxRecords = DefaultJournalRecords
	}
	n := 0
	for i := len(js) - 1; i >= 0; i-- {
		n += len(js[i].Removed) + len(js[i].Added) + 2
		if n > maxRecords || len(js)-i > maxSteps {
			js = js[i+1:]
			break
		}
	}
	j.zones[origin] = js
}

// Reset forgets the zone's journal.
func (j *Journal) Reset(origin string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	delete(j.zones, dns.CanonicalName(origin))
}

// IXFR answers an IXFR from serial to z's version, step by step (RFC 1995
// §4), or ok false if the journal cannot.
func (j *Journal) IXFR(z *authority.Zone, serial uint32) ([]dns.RR, bool) {
	j.mu.Lock()
	js := j.zones[z.Origin()]
	j.mu.Unlock()
	cur := z.SOA()
	start := -1
	for i, s := range js {
		if s.From.Serial == serial {
			start = i
		}
	}
	if start < 0 || js[len(js)-1].To.Serial != cur.Serial {
		return nil, false
	}
	out := []dns.RR{cur}
	for _, s := range js[start:] {
		out = append(out, s.From)
		out = append(out, s.Removed...)
		out = append(out, s.To)
		out = append(out, s.Added...)
	}
	return append(out, cur), true
}
