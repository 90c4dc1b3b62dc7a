package secondary

import (
	"errors"
	"fmt"
	"slices"

	"github.com/quercus-dev/quercus/dns/catalog"
)

// ErrTooManyMembers is why a catalog version listing more than
// Config.MaxMembers members is taken as broken.
var ErrTooManyMembers = errors.New("more members than Config.MaxMembers")

// catalogState is what a catalog zone adds to its zoneState; catMu
// guards it.
type catalogState struct {
	last *catalog.Catalog // the last good version's members; nil before one
}

// follow reads the catalog's new version, and changes the member set
// if it is good: a broken version keeps the last good member set, as
// RFC 9432 asks. Called from the catalog's goroutine.
func (s *Secondary) follow(cz *zoneState) {
	origin := cz.cfg.Origin
	c, err := catalog.Parse(origin, cz.good.Records())
	if err == nil && len(c.Members) > s.cfg.MaxMembers {
		err = fmt.Errorf("catalog %s: %d members: %w (%d)", origin, len(c.Members), ErrTooManyMembers, s.cfg.MaxMembers)
	}
	if err != nil {
		s.metrics.catalogBroken.WithLabelValues(origin).Set(1)
		s.cfg.Logger.Error("catalog broken; keeping its last good member set", "catalog", origin, "serial", cz.good.SOA().Serial, "err", err)
		return
	}
	s.metrics.catalogBroken.WithLabelValues(origin).Set(0)
	s.catMu.Lock()
	defer s.catMu.Unlock()
	cz.catalog.last = c
	s.reconcile()
}

// owned is a member zone as the catalogs want it.
type owned struct {
	cz *zoneState // its catalog
	m  catalog.Member
}

// reconcile makes the running members those the catalogs' last good
// versions list. A zone configured by flags is left alone; a zone
// listed by several catalogs stays with its current one while that
// lists it, unless that one's coo property hands it to another that
// lists it too (and does not hand it back); else it goes to the first
// configured. A member whose
// catalog or unique id changed is started afresh, as a new zone, as RFC
// 9432 asks. The caller holds catMu.
func (s *Secondary) reconcile() {
	s.stateMu.Lock()
	listed := map[string][]owned{} // by zone, in the catalogs' order
	for _, cz := range s.catalogs {
		if cz.catalog.last == nil {
			continue
		}
		for _, m := range cz.catalog.last.Members {
			if cur := s.state[m.Zone]; cur != nil && cur.owner == "" {
				s.cfg.Logger.Warn("catalog member ignored: the zone is configured", "catalog", cz.cfg.Origin, "zone", m.Zone)
				continue
			}
			listed[m.Zone] = append(listed[m.Zone], owned{cz, m})
		}
	}
	want := map[string]owned{}
	for zone, ls := range listed {
		by := func(catalog string) (owned, bool) {
			i := slices.IndexFunc(ls, func(o owned) bool { return o.cz.cfg.Origin == catalog })
			if i < 0 {
				return owned{}, false
			}
			return ls[i], true
		}
		pick := ls[0]
		if cur := s.state[zone]; cur != nil {
			if o, ok := by(cur.owner); ok {
				pick = o
			}
		}
		// A coo handing the zone to a catalog whose own coo hands it
		// back is a loop: following it would move the zone, and
		// transfer it afresh, at every refresh of either.
		if o, ok := by(pick.m.COO); ok && o.m.COO != pick.cz.cfg.Origin {
			pick = o
		}
		if len(ls) > 1 {
			s.cfg.Logger.Warn("zone listed by several catalogs", "zone", zone, "catalog", pick.cz.cfg.Origin, "listings", len(ls))
		}
		want[zone] = pick
	}
	var stop []*zoneState
	for origin, z := range s.state {
		if z.owner == "" {
			continue
		}
		if w, ok := want[origin]; !ok || w.cz.cfg.Origin != z.owner || w.m.ID != z.id {
			stop = append(stop, z)
		}
	}
	s.stateMu.Unlock()

	for _, z := range stop {
		s.stopMember(z)
	}

	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	counts := map[string]int{}
	for origin, w := range want {
		counts[w.cz.cfg.Origin]++
		if s.state[origin] != nil {
			continue
		}
		catOrigin := w.cz.cfg.Origin
		z := &zoneState{
			cfg:   ZoneConfig{Origin: origin, Primary: w.cz.cfg.Primary, Key: w.cz.cfg.Key},
			kick:  make(chan struct{}, 1),
			owner: catOrigin,
			id:    w.m.ID,
		}
		s.start(s.runCtx, z)
		s.cfg.Logger.Info("catalog member added", "catalog", catOrigin, "zone", origin, "id", w.m.ID)
	}
	for _, cz := range s.catalogs {
		s.metrics.catalogMembers.WithLabelValues(cz.cfg.Origin).Set(float64(counts[cz.cfg.Origin]))
	}
}

// stopMember ends a member's goroutine and stops serving it.
func (s *Secondary) stopMember(z *zoneState) {
	z.cancel()
	<-z.done
	origin := z.cfg.Origin
	s.stateMu.Lock()
	if s.state[origin] == z {
		delete(s.state, origin)
	}
	s.stateMu.Unlock()
	s.unserve(origin)
	s.journal.Reset(origin)
	s.metrics.forget(origin)
	s.cfg.Logger.Info("catalog member removed", "catalog", z.owner, "zone", origin, "id", z.id)
}
