package primary

import (
	"bytes"
	"context"
	"fmt"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/zone"
	"github.com/quercus-dev/quercus/kv"
)

// staleSerial is a zone file whose records changed while its serial did
// not rise above the one served.
type staleSerial struct {
	file   string
	src    []byte
	served uint32
}

// changed reports whether two versions of a zone differ in their records.
func changed(old, new *zone.Zone) bool {
	added, removed := zone.Diff(old, new)
	return len(added)+len(removed) > 0
}

// raiseSerials commits, for every stale zone, the same file with its SOA
// serial raised past the one served, so that secondaries see the change.
// It reports whether it committed anything.
func (p *Primary) raiseSerials(ctx context.Context) bool {
	p.reloadMu.Lock()
	stale := p.stale
	p.stale = nil
	p.reloadMu.Unlock()
	committed := false
	for _, s := range stale {
		serial := zone.SerialNext(s.served, p.cfg.Now())
		edited, _, err := zone.SetSerial(dns.Fqdn(s.file), s.src, serial)
		if err != nil {
			p.cfg.Logger.Error("zone changed without a serial increase and the serial cannot be raised; serving the previous version", "zone", s.file, "err", err)
			continue
		}
		msg := fmt.Sprintf("%s: raise serial %d -> %d\n\nThe records changed without a serial increase; secondaries\nwould not have transferred the change.", s.file, s.served, serial)
		_, err = p.cfg.Store.Batch(ctx, kv.Commit{
			Author:  kv.Signature{Name: "dns-primary", Email: "dns-primary@quercus.invalid"},
			Message: msg,
		}, func(tx kv.Txn) error {
			cur, err := tx.Get(s.file)
			if err != nil || !bytes.Equal(cur, s.src) {
				return nil // someone changed it again; the next reload decides
			}
			return tx.Put(s.file, edited)
		})
		if err != nil {
			p.cfg.Logger.Error("raising a serial failed; serving the previous version until a refresh succeeds", "zone", s.file, "err", err)
			// The head did not move: make the next reload look at the
			// files again, or the change would wait for another commit.
			p.reloadMu.Lock()
			p.version = ""
			p.reloadMu.Unlock()
			continue
		}
		p.cfg.Logger.Info("serial raised", "zone", s.file, "from", s.served, "to", serial)
		committed = true
	}
	return committed
}
