package primary

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/tsig"
	"github.com/quercus-dev/quercus/dns/update"
	"github.com/quercus-dev/quercus/dns/zone"
	"github.com/quercus-dev/quercus/kv"
)

// updateTimeout bounds one UPDATE, pushes and retries included, so a
// client is answered (SERVFAIL at worst) before it gives up.
const updateTimeout = 20 * time.Second

// refusal aborts an update's batch with the rcode to answer.
type refusal struct {
	rcode int
	err   error
}

func (r *refusal) Error() string { return r.err.Error() }
func (r *refusal) Unwrap() error { return r.err }

// handleUpdate applies a dynamic update (RFC 2136) as one commit, pushed
// before the answer: nothing acknowledged is lost, and a failed push
// changes nothing and answers SERVFAIL.
func (p *Primary) handleUpdate(ctx context.Context, req *dns.Msg, key *tsig.Key, from netip.AddrPort) *dns.Msg {
	q := req.Question[0]
	origin := dns.CanonicalName(q.Name)
	reply := func(rcode int) *dns.Msg {
		m := new(dns.Msg)
		m.SetRcode(req, rcode)
		return m
	}
	file, ok := p.fileOf(origin)
	if !ok {
		return reply(dns.RcodeNotAuth) // RFC 2136 §3.1.1
	}
	if key == nil || !key.Allows(tsig.Update, origin) {
		p.cfg.Logger.Info("update refused", "zone", origin, "from", from.Addr().String(), "key", tsig.NameOf(key))
		p.metrics.updates.WithLabelValues("refused").Inc()
		return reply(dns.RcodeRefused)
	}
	ctx, cancel := context.WithTimeout(ctx, updateTimeout)
	defer cancel()
	var plan update.Plan
	_, err := p.cfg.Store.Batch(ctx, kv.Commit{
		Author:  kv.Signature{Name: strings.TrimSuffix(key.Name, "."), Email: strings.TrimSuffix(key.Name, ".") + "@dns-update.invalid"},
		Message: origin + ": update",
	}, func(tx kv.Txn) error {
		var err error
		plan, err = p.plan(tx, file, origin, req)
		return err
	})
	var ref *refusal
	switch {
	case errors.As(err, &ref):
		p.cfg.Logger.Info("update rejected", "zone", origin, "key", key.Name, "rcode", dns.RcodeToString[ref.rcode], "err", ref.err)
		p.metrics.updates.WithLabelValues("rejected").Inc()
		return reply(ref.rcode)
	case err != nil:
		p.cfg.Logger.Error("update not committed; answering SERVFAIL", "zone", origin, "key", key.Name, "err", err)
		p.metrics.updates.WithLabelValues("failed").Inc()
		return reply(dns.RcodeServerFailure)
	}
	if len(plan.Add)+len(plan.Delete) > 0 {
		p.cfg.Logger.Info("update committed", "zone", origin, "key", key.Name, "added", len(plan.Add), "removed", len(plan.Delete))
		// The commit is pushed; serve it and tell the secondaries.
		raised, err := p.reload(ctx)
		if err != nil {
			p.cfg.Logger.Error("reload after update", "err", err)
		}
		for _, z := range raised {
			p.notifier.Notify(p.serveCtx(), z, p.cfg.AlsoNotify)
		}
	}
	p.metrics.updates.WithLabelValues("ok").Inc()
	m := reply(dns.RcodeSuccess)
	return m
}

// plan computes the update against the zone file as the transaction sees
// it (the head, or a newer head on a retry: prerequisites are checked
// again there), edits the file in place and stages it.
func (p *Primary) plan(tx kv.Txn, file, origin string, req *dns.Msg) (update.Plan, error) {
	src, err := tx.Get(file)
	if err != nil {
		return update.Plan{}, &refusal{dns.RcodeNotAuth, err}
	}
	z, err := zone.Parse(origin, src)
	if err != nil {
		return update.Plan{}, &refusal{dns.RcodeServerFailure, fmt.Errorf("the zone file at the head does not parse: %w", err)}
	}
	plan, rcode, err := update.Apply(origin, z.Records, req)
	if rcode != dns.RcodeSuccess {
		return plan, &refusal{rcode, err}
	}
	if len(plan.Add)+len(plan.Delete) == 0 {
		return plan, nil
	}
	edited, err := zone.EditRecords(origin, src, plan.Add, plan.Delete)
	if err != nil {
		return plan, &refusal{dns.RcodeServerFailure, err}
	}
	serial := z.Serial()
	if plan.SOA == nil { // RFC 2136 §3.6: raise it unless the update did
		serial = zone.SerialNext(z.Serial(), p.cfg.Now())
		if edited, err = zone.SetSerial(origin, edited, serial); err != nil {
			return plan, &refusal{dns.RcodeServerFailure, err}
		}
	} else {
		serial = plan.SOA.Serial
	}
	nz, err := zone.Parse(origin, edited)
	if err != nil {
		return plan, &refusal{dns.RcodeServerFailure, err}
	}
	if problems := zone.Check(nz); len(problems) > 0 {
		var why []string
		for _, pr := range problems {
			why = append(why, pr.String())
		}
		return plan, &refusal{dns.RcodeRefused, errors.New("the zone would be invalid: " + strings.Join(why, "; "))}
	}
	tx.SetMessage(fmt.Sprintf("%s: update, serial %d -> %d\n\n%s", strings.TrimSuffix(origin, "."), z.Serial(), serial, update.Describe(plan)))
	return plan, tx.Put(file, edited)
}

// fileOf finds the repository file a served zone came from.
func (p *Primary) fileOf(origin string) (string, bool) {
	p.reloadMu.Lock()
	defer p.reloadMu.Unlock()
	for file, s := range p.loaded {
		if dns.CanonicalName(s.zone.Origin) == origin {
			return file, true
		}
	}
	return "", false
}
