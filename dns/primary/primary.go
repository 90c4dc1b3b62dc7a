package primary

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quercus-dev/quercus/dns/authority"
	"github.com/quercus-dev/quercus/dns/ixfr"
	"github.com/quercus-dev/quercus/dns/notify"
	"github.com/quercus-dev/quercus/dns/server"
	"github.com/quercus-dev/quercus/dns/tsig"
	"github.com/quercus-dev/quercus/dns/zone"
	"github.com/quercus-dev/quercus/kv"
)

// Config configures a Primary. Store is required; the zero value of every
// other field works.
type Config struct {
	// Store holds the zone and key files.
	Store kv.Store
	// AXFROpen allows zone transfers without TSIG.
	AXFROpen bool
	// AlsoNotify receives a NOTIFY for every zone whose serial rises, on
	// top of the zone's name servers and the secondaries named in its
	// _transfer keys.
	AlsoNotify []netip.AddrPort
	// NotifyPort is where name servers and _transfer key secondaries
	// listen for NOTIFY. Default 53.
	NotifyPort int
	// Poll, if positive, refreshes from the store this often.
	Poll time.Duration
	// HookSecret, if set, enables POST /git-hook on the side port for a
	// forge's push webhook; requests must carry it as a bearer token, in
	// X-Gitlab-Token, or as ?secret=.
	HookSecret string
	// Logger, Registry and Now are the chassis' logger, metrics registry
	// and clock.
	Logger   *slog.Logger
	Registry prometheus.Registerer
	Now      func() time.Time
}

// Primary serves the zones of a store.
type Primary struct {
	cfg      Config
	zones    atomic.Pointer[authority.Set]
	keys     atomic.Pointer[tsig.Keyring]
	metrics  *metrics
	srv      *server.Server
	notifier *notify.Notifier

	reloadMu sync.Mutex // one reload at a time; never held by queries
	loaded   map[string]*served
	keyFiles map[string]keyFile
	rejected map[string]string // file -> digest of the version rejected
	version  string
	stale    []staleSerial // changed content, serial not raised

	kick    chan struct{} // asks the refresh loop to fetch now
	updates chan *pending // to the committer
	stopped chan struct{} // closed when the committer has stopped

	serving atomic.Pointer[context.Context] // Serve's, for notifies sent after updates
}

// serveCtx is the context Serve runs in, or a background one before.
func (p *Primary) serveCtx() context.Context {
	if c := p.serving.Load(); c != nil {
		return *c
	}
	return context.Background()
}

// New loads the store's current zones. Zones that fail their checks are
// logged and skipped; New fails only if the store cannot be read.
func New(ctx context.Context, cfg Config) (*Primary, error) {
	if cfg.Store == nil {
		return nil, errors.New("primary: no store")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	p := &Primary{cfg: cfg, loaded: map[string]*served{}, kick: make(chan struct{}, 1), updates: make(chan *pending, maxGroup), stopped: make(chan struct{}), metrics: newMetrics(cfg.Registry)}
	p.zones.Store(authority.NewSet())
	p.keys.Store(tsig.NewKeyring())
	p.notifier = &notify.Notifier{
		Keys:    p.keys.Load,
		Now:     cfg.Now,
		Logger:  cfg.Logger,
		Port:    cfg.NotifyPort,
		Metrics: notify.NewMetrics(cfg.Registry),
	}
	srv, err := server.New(server.Config{
		Zones:    p.zones.Load,
		Keys:     p.keys.Load,
		AXFROpen: cfg.AXFROpen,
		Transfer: &ixfr.Source{Store: cfg.Store, Logger: cfg.Logger},
		Notify:   p.notified,
		Update:   p.handleUpdate,
		Now:      cfg.Now,
		Logger:   cfg.Logger,
		Metrics:  server.NewMetrics(cfg.Registry),
	})
	if err != nil {
		return nil, err
	}
	p.srv = srv
	if _, err := p.reload(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// Zones returns the zones served now.
func (p *Primary) Zones() *authority.Set { return p.zones.Load() }

// Keys returns the TSIG keys in force now.
func (p *Primary) Keys() *tsig.Keyring { return p.keys.Load() }

// Serve answers DNS on the given sockets and keeps the zones fresh until
// ctx ends.
func (p *Primary) Serve(ctx context.Context, pc net.PacketConn, ln net.Listener) error {
	p.serving.Store(&ctx)
	go p.refreshLoop(ctx)
	go p.commitLoop(ctx)
	err := p.srv.Serve(ctx, pc, ln)
	p.notifier.Wait()
	return err
}

// Refresh fetches the remote, loads what changed, and notifies the
// secondaries of every zone whose serial rose. Notifies go on in the
// background until ctx ends.
func (p *Primary) Refresh(ctx context.Context) error {
	if _, err := p.cfg.Store.Refresh(ctx); err != nil {
		p.metrics.fetchErrors.Inc()
		return err
	}
	raised, err := p.reload(ctx)
	if err == nil && p.raiseSerials(ctx) {
		var more []*authority.Zone
		more, err = p.reload(ctx)
		raised = append(raised, more...)
	}
	for _, z := range raised {
		p.notifier.Notify(ctx, z, p.cfg.AlsoNotify)
	}
	return err
}

// Kick asks for a refresh soon, without waiting for it.
func (p *Primary) Kick() {
	select {
	case p.kick <- struct{}{}:
	default: // one is pending already
	}
}

func (p *Primary) refreshLoop(ctx context.Context) {
	var tick <-chan time.Time
	if p.cfg.Poll > 0 {
		t := time.NewTicker(p.cfg.Poll)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		case <-p.kick:
		}
		if err := p.Refresh(ctx); err != nil && ctx.Err() == nil {
			p.cfg.Logger.Warn("refresh failed; serving the zones we have", "err", err)
		}
	}
}

// notified is called for an authenticated NOTIFY of a served zone.
func (p *Primary) notified(zone string, key tsig.Key, from netip.AddrPort) {
	p.cfg.Logger.Info("notify received; fetching", "zone", zone, "key", key.Name, "from", from.Addr().String())
	p.Kick()
}

// reload loads the store's head: unchanged files are kept as they are,
// changed ones parsed and checked, and the result swapped in at once. It
// returns the zones whose serial rose (or that are new).
func (p *Primary) reload(ctx context.Context) ([]*authority.Zone, error) {
	p.reloadMu.Lock()
	defer p.reloadMu.Unlock()
	snap, err := p.cfg.Store.At(ctx, p.cfg.Store.Version())
	if err != nil {
		return nil, err
	}
	if snap.Version() == p.version && p.version != "" {
		return nil, nil
	}
	entries, err := snap.List(ctx, "")
	if err != nil {
		return nil, err
	}
	var raised []*authority.Zone
	parsed := 0 // bytes of zone files parsed
	p.stale = nil
	rejected := map[string]string{}
	entries = topLevel(entries)
	keys, keyFiles, keyErrs := loadKeys(ctx, snap, entries, p.keyFiles)
	for _, err := range keyErrs {
		p.cfg.Logger.Warn("key skipped", "err", err)
	}
	next := map[string]*served{}
	for _, e := range entries {
		if !zone.IsZoneFile(e.Key) {
			continue
		}
		old := p.loaded[e.Key]
		if old != nil && old.digest == e.Digest {
			next[e.Key] = old
			continue
		}
		if p.rejected[e.Key] == e.Digest {
			// Rejected already and logged: not again at every commit.
			rejected[e.Key] = e.Digest
			if old != nil {
				next[e.Key] = old
			}
			continue
		}
		src, err := snap.Get(ctx, e.Key)
		if err != nil {
			return nil, err
		}
		parsed += len(src)
		z, a, err := loadZone(e.Key, src)
		if err != nil {
			rejected[e.Key] = e.Digest
			p.metrics.rejected.WithLabelValues(e.Key).Inc()
			p.metrics.valid.WithLabelValues(e.Key).Set(0)
			if old != nil {
				p.cfg.Logger.Error("zone rejected; still serving the previous version", "zone", e.Key, "serial", old.serial, "err", err)
				next[e.Key] = old
			} else {
				p.cfg.Logger.Error("zone rejected; not served", "zone", e.Key, "err", err)
			}
			continue
		}
		if old != nil && !zone.SerialLess(old.serial, z.Serial()) && changed(old.zone(), z) {
			// Secondaries would never see this change: keep serving the
			// old version until the serial is raised (raiseSerials).
			p.stale = append(p.stale, staleSerial{file: e.Key, src: src, served: old.serial})
			next[e.Key] = old
			continue
		}
		p.metrics.valid.WithLabelValues(e.Key).Set(1)
		p.metrics.serial.WithLabelValues(e.Key).Set(float64(z.Serial()))
		if old == nil {
			p.cfg.Logger.Info("zone loaded", "zone", e.Key, "serial", z.Serial(), "records", len(z.Records))
		} else {
			p.cfg.Logger.Info("zone updated", "zone", e.Key, "serial", z.Serial(), "was", old.serial, "records", len(z.Records))
		}
		if old == nil || zone.SerialLess(old.serial, z.Serial()) {
			raised = append(raised, a)
		}
		next[e.Key] = newServed(e.Digest, z, a)
	}
	for name := range p.loaded {
		if _, ok := next[name]; !ok {
			p.cfg.Logger.Info("zone removed", "zone", name)
			p.metrics.valid.DeleteLabelValues(name)
			p.metrics.serial.DeleteLabelValues(name)
		}
	}
	zones := make([]*authority.Zone, 0, len(next))
	for _, s := range next {
		zones = append(zones, s.auth)
	}
	p.zones.Store(authority.NewSet(zones...))
	p.keys.Store(keys)
	p.loaded, p.version, p.keyFiles, p.rejected = next, snap.Version(), keyFiles, rejected
	p.metrics.zones.Set(float64(len(next)))
	if parsed >= freeAfter {
		// Parsing left garbage of several times the zone's size, and
		// the heap it grew stays resident until a collection returns
		// it, which may be hours away since answers allocate nothing:
		// 1.1 GiB resident for a zone of a million names, 0.4 GiB
		// live. Return it now.
		debug.FreeOSMemory()
	}
	return raised, nil
}

// freeAfter is the zone text a reload must have parsed for it to return
// the memory freed to the system at once.
const freeAfter = 1 << 20

// HookHandler serves POST /git-hook: a forge's push webhook makes the
// primary fetch. Register it on the side port's mux.
func (p *Primary) HookHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.cfg.HookSecret == "" {
			http.NotFound(w, r)
			return
		}
		got := r.URL.Query().Get("secret")
		if h := r.Header.Get("X-Gitlab-Token"); h != "" {
			got = h
		}
		if b, ok := bearer(r.Header.Get("Authorization")); ok {
			got = b
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(p.cfg.HookSecret)) != 1 {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		p.Kick()
		w.WriteHeader(http.StatusAccepted)
	})
}

func bearer(h string) (string, bool) {
	const prefix = "Bearer "
	if len(h) > len(prefix) && h[:len(prefix)] == prefix {
		return h[len(prefix):], true
	}
	return "", false
}
