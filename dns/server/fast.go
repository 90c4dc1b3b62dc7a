package server

import (
	"bytes"
	"sync/atomic"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/quercus-dev/quercus/dns/authority"
)

// The fast path answers the common UDP query from a cache of packed
// answers, without unpacking the query into a dns.Msg or packing an
// answer: parse the header, the question and an optional OPT record by
// hand (parseQuery), find the answer packed for the lowered name, type and
// EDNS presence, copy it, and patch in the query's ID, RD and CD bits and
// its spelling of the name. Anything else goes to the general path
// (ServeDNS), which stays the one place the answers are decided:
//
//   - A cache entry is made by running the general path's lookup and fit
//     on a query with ID 0, RD and CD clear, EDNS size 1232 when the query
//     had EDNS, and packing it as miekg's writer does, so its bytes are the
//     general path's bytes. TestFastPathEquivalence and FuzzFastPath hold
//     the two paths to that.
//   - The answer depends on the EDNS size only through truncation, and an
//     answer that fits is packed uncompressed whatever the size (miekg's
//     Truncate), so one entry serves every size it fits in; an answer
//     that had to be truncated is left to the general path.
//   - The general path ignores the DO bit (no DNSSEC yet), so the key does
//     not hold it. It must, the day DNSSEC answers differ.
//   - Uncompressed answers spell the query's name, or a suffix of it, in
//     the question and in owner names. Where is found once per entry by
//     packing a second spelling and comparing (spellings): a query of
//     another spelling gets its own name copied over those places.
//
// The cache belongs to one authority.Set: a query that finds the server's
// set changed starts a new, empty cache, and the old one is dropped. No
// lock is held anywhere, so a zone swap never stalls a query; the cost of
// a swap is refilling the cache. Its slots are bounded (cacheSlots), so a
// zone of a million names costs no more memory than one of ten thousand:
// entries are made on first use and replaced when their bucket is full.

// cacheSlots bounds the entries of a cache: a power of two. 65536 slots
// are a 512 KiB table, made when a zone set is first asked about; they
// hold the bench's 10,000-name workload without evictions, and full, at
// a few hundred bytes an answer, some 15 MiB.
const cacheSlots = 1 << 16

// cacheWays is the number of slots a key may take: a power of two; eight
// pointers are one 64-byte cache line.
const cacheWays = 8

// answerCache is the fast path's cache for one set of zones.
type answerCache struct {
	set   *authority.Set
	slots [cacheSlots]atomic.Pointer[entry]
}

// entry is one packed answer. Entries are immutable once stored.
type entry struct {
	hash  uint64
	lname []byte // lowered wire name
	qtype uint16
	edns  bool
	// resp is the answer to the lowered name with ID 0 and RD, CD clear;
	// nil when it did not fit in DefaultUDPSize and was truncated.
	resp []byte
	// spell lists where resp spells the query's name: nil until a query
	// spelled otherwise asked (spellings).
	spell []segment
	count prometheus.Counter // the query metric of this answer, or nil
}

// segment is a place in an answer where the query's name, from offset
// name on, is copied to offset resp.
type segment struct{ resp, name int }

// find returns q's entry, or nil and the slot to store it in: the slots
// of a key are a bucket of cacheWays, so that the keys of a zone rarely
// evict one another. An empty slot is taken first, else one picked by
// other bits of the hash.
func (c *answerCache) find(q *query) (*atomic.Pointer[entry], *entry) {
	b := int(q.hash & (cacheSlots - 1) &^ (cacheWays - 1))
	var free *atomic.Pointer[entry]
	for i := b; i < b+cacheWays; i++ {
		e := c.slots[i].Load()
		if e == nil {
			if free == nil {
				free = &c.slots[i]
			}
			continue
		}
		if e.matches(q) {
			return &c.slots[i], e
		}
	}
	if free == nil {
		free = &c.slots[b+int(q.hash>>58)&(cacheWays-1)]
	}
	return free, nil
}

func (e *entry) matches(q *query) bool {
	return e.hash == q.hash && e.qtype == q.qtype && e.edns == q.edns && bytes.Equal(e.lname, q.lname)
}

// cacheFor returns the cache of set, starting a new one if set is not
// the one the current cache was made for.
func (s *Server) cacheFor(set *authority.Set) *answerCache {
	c := s.fast.Load()
	if c != nil && c.set == set {
		return c
	}
	n := &answerCache{set: set}
	if s.fast.CompareAndSwap(c, n) {
		return n
	}
	if c = s.fast.Load(); c != nil && c.set == set {
		return c // another reader started it first
	}
	return n // the set changed again meanwhile: answer from ours
}

// fastAnswer answers pkt into out, if the fast path can; it returns the
// answer, a slice of out, or ok false for the general path to answer.
// out must hold DefaultUDPSize bytes.
func (s *Server) fastAnswer(pkt, out []byte) (resp []byte, ok bool) {
	var lname [maxName]byte
	q, ok := parseQuery(pkt, &lname)
	if !ok {
		return nil, false
	}
	set := s.cfg.Zones()
	c := s.cacheFor(set)
	slot, e := c.find(&q)
	if e == nil || (q.upper && e.spell == nil && e.resp != nil) {
		e = s.fill(set, &q)
		slot.Store(e)
	}
	if e.resp == nil || len(e.resp) > q.size || (q.upper && len(e.spell) == 0) {
		return nil, false
	}
	n := copy(out, e.resp)
	out[0], out[1] = byte(q.id>>8), byte(q.id)
	if q.rd {
		out[2] |= 0x01
	}
	if q.cd {
		out[3] |= 0x10
	}
	if q.upper {
		for _, sg := range e.spell {
			copy(out[sg.resp:], q.name[sg.name:])
		}
	}
	if e.count != nil {
		e.count.Inc()
	}
	return out[:n], true
}

// fill makes the cache entry for q by the general path's logic.
func (s *Server) fill(set *authority.Set, q *query) *entry {
	s.fills.Add(1)
	e := &entry{hash: q.hash, lname: bytes.Clone(q.lname), qtype: q.qtype, edns: q.edns}
	m, resp := packFor(set, e.lname, q.qtype, q.edns)
	if m.Truncated {
		return e
	}
	e.resp = resp
	e.count = s.cfg.Metrics.queryCounter(q.qtype, m.Rcode)
	if q.upper {
		e.spell = spellings(set, e, q.name)
	}
	return e
}

// packFor answers a query for the wire name with ID 0 and RD, CD clear as
// the general path would, returning the message and its packed bytes.
func packFor(set *authority.Set, wire []byte, qtype uint16, edns bool) (*dns.Msg, []byte) {
	r := &dns.Msg{Question: []dns.Question{{Name: presentation(wire), Qtype: qtype, Qclass: dns.ClassINET}}}
	if edns {
		r.SetEdns0(DefaultUDPSize, false)
	}
	m := lookup(set, r)
	fit(r, m, false)
	b, err := m.Pack()
	if err != nil {
		// Cannot happen for records that were parsed from a zone; the
		// general path would fail the same way: leave it to that path.
		m.Truncated = true
	}
	return m, b
}

// spellings finds where e.resp spells the query name: the answer to the
// all-upper-case spelling differs from e.resp exactly there, and each
// such place is a suffix of the name (the owner names the lookup spells
// as asked). Every place found is checked by patching e.resp with the
// upper-case spelling and with the spelling asked, which must give the
// answers packed for them; on any doubt it returns an empty, non-nil
// list, which leaves such queries to the general path.
func spellings(set *authority.Set, e *entry, asked []byte) []segment {
	none := []segment{}
	up := bytes.ToUpper(e.lname)
	_, b := packFor(set, up, e.qtype, e.edns)
	_, c := packFor(set, asked, e.qtype, e.edns)
	a := e.resp
	if len(b) != len(a) || len(c) != len(a) {
		return none
	}
	var segs []segment
	for p := 0; p < len(a); p++ {
		if a[p] == b[p] {
			continue
		}
		sg, ok := placeOf(a, b, e.lname, up, p)
		if !ok {
			return none
		}
		segs = append(segs, sg)
		p = sg.resp + len(e.lname) - sg.name - 1
	}
	if segs == nil || !bytes.Equal(patch(a, segs, up), b) || !bytes.Equal(patch(a, segs, asked), c) {
		return none
	}
	return segs
}

// patch returns a copy of a with name copied over the segments.
func patch(a []byte, segs []segment, name []byte) []byte {
	got := bytes.Clone(a)
	for _, sg := range segs {
		copy(got[sg.resp:], name[sg.name:])
	}
	return got
}

// placeOf finds the suffix of the name (lower-case lname, upper-case up)
// that a and b spell over position p, where they differ.
func placeOf(a, b, lname, up []byte, p int) (segment, bool) {
	for s := 0; s < len(lname); s += 1 + int(lname[s]) {
		n := len(lname) - s
		for j := s; j < len(lname); j++ {
			st := p - (j - s)
			if st < 0 || st+n > len(a) {
				continue
			}
			if bytes.Equal(a[st:st+n], lname[s:]) && bytes.Equal(b[st:st+n], up[s:]) {
				return segment{resp: st, name: s}, true
			}
		}
	}
	return segment{}, false
}
