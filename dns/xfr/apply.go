package xfr

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/zone"
)

// Step is one change of an IXFR (RFC 1995 §4): from one SOA to the next,
// the records removed and added, SOA records aside.
type Step struct {
	From, To       *dns.SOA
	Removed, Added []dns.RR
}

// collector reads the records of an AXFR or IXFR answer in order and
// says when the answer is complete.
type collector struct {
	op     string
	origin string
	have   *dns.SOA // IXFR: the client's
	n      int      // records seen
	final  *dns.SOA // the first record: the primary's current SOA
	done   bool

	records []dns.RR // AXFR, or IXFR answered with the whole zone
	steps   []Step   // IXFR; nil otherwise
	adding  bool     // in the additions of the last step
}

func (c *collector) fail(format string, args ...any) error {
	return &FormatError{Op: c.op, Reason: fmt.Sprintf(format, args...)}
}

// apexSOA returns rr as an SOA if it is the zone's.
func (c *collector) apexSOA(rr dns.RR) *dns.SOA {
	soa, ok := rr.(*dns.SOA)
	if !ok || dns.CanonicalName(soa.Hdr.Name) != c.origin {
		return nil
	}
	return soa
}

// upToDate reports whether an IXFR was answered with an SOA alone that
// is not newer than the client's (RFC 1995 §2).
func (c *collector) upToDate() bool {
	return c.have != nil && c.n == 1 && !zone.SerialLess(c.have.Serial, c.final.Serial)
}

func (c *collector) add(rrs []dns.RR) error {
	for _, rr := range rrs {
		if c.done {
			return c.fail("records after the final SOA")
		}
		soa := c.apexSOA(rr)
		c.n++
		switch {
		case c.n == 1:
			if soa == nil {
				return c.fail("the answer does not start with the zone's SOA")
			}
			c.final = soa
		case c.n == 2 && soa != nil && c.have != nil:
			// RFC 1995 §4: an incremental answer; the second SOA is
			// the client's version.
			if soa.Serial != c.have.Serial {
				return c.fail("the changes start at serial %d, we hold %d", soa.Serial, c.have.Serial)
			}
			c.steps = []Step{{From: soa}}
		case c.steps != nil:
			c.addIncremental(rr, soa)
		case soa != nil:
			// The end of a whole zone (RFC 5936 §2.2).
			if soa.Serial != c.final.Serial {
				return c.fail("the zone ends with serial %d, it started with %d", soa.Serial, c.final.Serial)
			}
			if c.n == 2 {
				c.records = []dns.RR{c.final} // a zone of its SOA alone
			}
			c.done = true
		default:
			if c.n == 2 {
				c.records = []dns.RR{c.final}
			}
			c.records = append(c.records, rr)
		}
	}
	return nil
}

func (c *collector) addIncremental(rr dns.RR, soa *dns.SOA) {
	s := &c.steps[len(c.steps)-1]
	switch {
	case soa == nil && c.adding:
		s.Added = append(s.Added, rr)
	case soa == nil:
		s.Removed = append(s.Removed, rr)
	case !c.adding:
		s.To, c.adding = soa, true
	case soa.Serial == c.final.Serial && s.To.Serial == c.final.Serial:
		c.done = true
	default:
		c.steps = append(c.steps, Step{From: soa})
		c.adding = false
	}
}

// key identifies a record for IXFR deletions: owner in any case, type,
// class and data; not the TTL.
func key(rr dns.RR) string {
	c := dns.Copy(rr) // rr may be shared with readers
	h := c.Header()
	h.Ttl, h.Name = 0, strings.ToLower(h.Name)
	return c.String()
}

// Apply applies IXFR steps to the records of a zone (SOA first) and
// returns the new version's records, the last step's SOA first. It fails
// when a step does not start at the serial reached, or deletes a record
// that is not there.
func Apply(records []dns.RR, steps []Step) ([]dns.RR, error) {
	if len(records) == 0 {
		return nil, fmt.Errorf("no version to apply changes to")
	}
	soa, ok := records[0].(*dns.SOA)
	if !ok {
		return nil, fmt.Errorf("the version held does not start with its SOA")
	}
	out := make([]dns.RR, 0, len(records))
	at := map[string][]int{} // by key: where in out
	for _, rr := range records[1:] {
		k := key(rr)
		at[k] = append(at[k], len(out))
		out = append(out, rr)
	}
	for _, s := range steps {
		if s.To == nil {
			return nil, fmt.Errorf("a change from serial %d has no new SOA", s.From.Serial)
		}
		if s.From.Serial != soa.Serial {
			return nil, fmt.Errorf("a change from serial %d, but the zone is at %d", s.From.Serial, soa.Serial)
		}
		for _, rr := range s.Removed {
			k := key(rr)
			pos := at[k]
			if len(pos) == 0 {
				return nil, fmt.Errorf("serial %d to %d deletes %s, which the zone does not hold", s.From.Serial, s.To.Serial, rr)
			}
			out[pos[len(pos)-1]] = nil
			at[k] = pos[:len(pos)-1]
		}
		for _, rr := range s.Added {
			k := key(rr)
			if pos := at[k]; len(pos) > 0 {
				out[pos[0]] = rr // the same record: a new TTL
				continue
			}
			at[k] = append(at[k], len(out))
			out = append(out, rr)
		}
		soa = s.To
	}
	zoneRRs := make([]dns.RR, 0, len(out)+1)
	zoneRRs = append(zoneRRs, soa)
	for _, rr := range out {
		if rr != nil {
			zoneRRs = append(zoneRRs, rr)
		}
	}
	return zoneRRs, nil
}
