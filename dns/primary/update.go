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

// maxGroup bounds how many queued updates one push carries.
const maxGroup = 64

// pending is an update waiting for the committer.
type pending struct {
	req      *dns.Msg
	key      *tsig.Key
	origin   string
	file     string
	deadline time.Time
	done     chan int // the rcode to answer
}

// handleUpdate answers a dynamic update (RFC 2136) once it is committed
// and pushed: nothing acknowledged is lost, and a failed push changes
// nothing and answers SERVFAIL.
func (p *Primary) handleUpdate(ctx context.Context, req *dns.Msg, key *tsig.Key, from netip.AddrPort) *dns.Msg {
	origin := dns.CanonicalName(req.Question[0].Name)
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
	u := &pending{req: req, key: key, origin: origin, file: file, deadline: p.cfg.Now().Add(updateTimeout), done: make(chan int, 1)}
	select {
	case p.updates <- u:
	case <-ctx.Done():
		return reply(dns.RcodeServerFailure)
	case <-p.stopped:
		return reply(dns.RcodeServerFailure)
	}
	select {
	case rcode := <-u.done:
		return reply(rcode)
	case <-p.stopped:
		// Shutting down. If the committer took this update it answers
		// u.done first; otherwise it was never applied.
		select {
		case rcode := <-u.done:
			return reply(rcode)
		default:
			return reply(dns.RcodeServerFailure)
		}
	}
}

// commitLoop takes the queued updates in arrival order and commits those
// that arrived together in one push, one commit each: a push costs far
// more than an update, so busy zones stay fast. Updates to one branch are
// serialized anyway, whatever their zone.
func (p *Primary) commitLoop(ctx context.Context) {
	defer close(p.stopped)
	for {
		var group []*pending
		select {
		case <-ctx.Done():
			for {
				select {
				case u := <-p.updates:
					u.done <- dns.RcodeServerFailure
				default:
					return
				}
			}
		case u := <-p.updates:
			group = append(group, u)
		}
	more:
		for len(group) < maxGroup {
			select {
			case u := <-p.updates:
				group = append(group, u)
			default:
				break more
			}
		}
		p.commitGroup(ctx, group)
	}
}

// commitGroup applies the updates in order, each seeing those before it
// and each checked on its own (a failed prerequisite refuses that update
// only), and pushes the commits together.
func (p *Primary) commitGroup(ctx context.Context, group []*pending) {
	live := group[:0]
	for _, u := range group {
		if p.cfg.Now().After(u.deadline) {
			u.done <- dns.RcodeServerFailure // waited too long; never applied
			p.metrics.updates.WithLabelValues("failed").Inc()
			continue
		}
		live = append(live, u)
	}
	if len(live) == 0 {
		return
	}
	// The group must be answered before its most impatient update's
	// deadline.
	deadline := live[0].deadline
	for _, u := range live {
		if u.deadline.Before(deadline) {
			deadline = u.deadline
		}
	}
	ctx, cancel := context.WithTimeout(ctx, deadline.Sub(p.cfg.Now()))
	defer cancel()
	rcodes := make([]int, len(live))
	plans := make([]update.Plan, len(live))
	_, err := p.cfg.Store.Batch(ctx, kv.Commit{}, func(tx kv.Txn) error {
		for i, u := range live {
			plan, msg, err := p.plan(tx, u.file, u.origin, u.req)
			var ref *refusal
			switch {
			case errors.As(err, &ref):
				rcodes[i], plans[i] = ref.rcode, update.Plan{}
				p.cfg.Logger.Info("update rejected", "zone", u.origin, "key", u.key.Name, "rcode", dns.RcodeToString[ref.rcode], "err", ref.err)
				continue
			case err != nil:
				return err
			}
			rcodes[i], plans[i] = dns.RcodeSuccess, plan
			name := strings.TrimSuffix(u.key.Name, ".")
			tx.Split(kv.Commit{Author: kv.Signature{Name: name, Email: name + "@dns-update.invalid"}, Message: msg})
		}
		return nil
	})
	if err != nil {
		p.cfg.Logger.Error("updates not committed; answering SERVFAIL", "updates", len(live), "err", err)
		for _, u := range live {
			p.metrics.updates.WithLabelValues("failed").Inc()
			u.done <- dns.RcodeServerFailure
		}
		return
	}
	committed := 0
	for _, plan := range plans {
		if !plan.Empty() {
			committed++
		}
	}
	if committed > 0 {
		// The commits are pushed; serve them and tell the secondaries.
		raised, err := p.reload(ctx)
		if err != nil {
			p.cfg.Logger.Error("reload after update", "err", err)
		}
		for _, z := range raised {
			p.notifier.Notify(p.serveCtx(), z, p.cfg.AlsoNotify)
		}
	}
	for i, u := range live {
		result := "ok"
		if rcodes[i] != dns.RcodeSuccess {
			result = "rejected"
		} else if !plans[i].Empty() {
			p.cfg.Logger.Info("update committed", "zone", u.origin, "key", u.key.Name, "added", len(plans[i].Add), "removed", len(plans[i].Delete))
		}
		p.metrics.updates.WithLabelValues(result).Inc()
		u.done <- rcodes[i]
	}
}

// plan computes the update against the zone file as the transaction sees
// it (the head, or a newer head on a retry: prerequisites are checked
// again there), edits the file in place and stages it. It returns the
// commit message describing the change.
func (p *Primary) plan(tx kv.Txn, file, origin string, req *dns.Msg) (update.Plan, string, error) {
	src, err := tx.Get(file)
	if err != nil {
		return update.Plan{}, "", &refusal{dns.RcodeNotAuth, err}
	}
	z, err := zone.Parse(origin, src)
	if err != nil {
		return update.Plan{}, "", &refusal{dns.RcodeServerFailure, fmt.Errorf("the zone file at the head does not parse: %w", err)}
	}
	plan, rcode, err := update.Apply(origin, z.Records, req)
	if rcode != dns.RcodeSuccess {
		return plan, "", &refusal{rcode, err}
	}
	if len(plan.Ignored) > 0 {
		// RFC 2136 would skip these parts silently; we refuse the whole
		// update so the client learns, and nothing changes.
		var why []string
		for _, ig := range plan.Ignored {
			why = append(why, ig.RR.Header().Name+" "+dns.TypeToString[ig.RR.Header().Rrtype]+": "+ig.Reason)
		}
		return update.Plan{}, "", &refusal{dns.RcodeRefused, errors.New("the zone would be invalid: " + strings.Join(why, "; "))}
	}
	if plan.Empty() {
		return plan, "", nil
	}
	edited, err := zone.EditRecords(origin, src, plan.Add, plan.Delete)
	if err != nil {
		return plan, "", &refusal{dns.RcodeServerFailure, err}
	}
	var nz *zone.Zone
	if plan.SOA == nil { // RFC 2136 §3.6: raise it unless the update did
		edited, nz, err = zone.SetSerial(origin, edited, zone.SerialNext(z.Serial(), p.cfg.Now()))
	} else {
		nz, err = zone.Parse(origin, edited)
	}
	if err != nil {
		return plan, "", &refusal{dns.RcodeServerFailure, err}
	}
	if problems := zone.Check(nz); len(problems) > 0 {
		var why []string
		for _, pr := range problems {
			why = append(why, pr.String())
		}
		return plan, "", &refusal{dns.RcodeRefused, errors.New("the zone would be invalid: " + strings.Join(why, "; "))}
	}
	msg := fmt.Sprintf("%s: update, serial %d -> %d\n\n%s", strings.TrimSuffix(origin, "."), z.Serial(), nz.Serial(), update.Describe(plan))
	return plan, msg, tx.Put(file, edited)
}

// fileOf finds the repository file a served zone came from.
func (p *Primary) fileOf(origin string) (string, bool) {
	p.reloadMu.Lock()
	defer p.reloadMu.Unlock()
	for file, s := range p.loaded {
		if dns.CanonicalName(s.origin) == origin {
			return file, true
		}
	}
	return "", false
}
