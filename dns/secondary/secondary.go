package secondary

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/quercus-dev/quercus/dns/authority"
	"github.com/quercus-dev/quercus/dns/notify"
	"github.com/quercus-dev/quercus/dns/server"
	"github.com/quercus-dev/quercus/dns/tsig"
	"github.com/quercus-dev/quercus/dns/xfr"
	"github.com/quercus-dev/quercus/dns/zone"
)

// DefaultRetry is how soon a zone never transferred is tried again.
const DefaultRetry = 10 * time.Second

// maxBackoff bounds the wait between attempts at a zone never
// transferred, which doubles from Config.Retry with each failure: a
// catalog may list many zones its primary does not give.
const maxBackoff = 10 * time.Minute

// DefaultMaxTransfers is the default of Config.MaxTransfers, as BIND's
// transfers-in.
const DefaultMaxTransfers = 10

// DefaultMaxMembers is the default of Config.MaxMembers: some hundred
// megabytes of small zones, far more than a mistake should start.
const DefaultMaxMembers = 10000

// minInterval bounds SOA timers from below, so that a zone with a refresh
// of 0 does not keep its primary busy.
const minInterval = time.Second

// ZoneConfig is one zone to transfer.
type ZoneConfig struct {
	Origin  string         // the zone
	Primary netip.AddrPort // where to transfer from (and whose NOTIFYs to accept)
	Key     *tsig.Key      // signs transfers and SOA queries; nil: unsigned
}

// Config configures a Secondary. Zones or Catalogs are required; the
// zero value of every other field works.
type Config struct {
	Zones []ZoneConfig
	// Catalogs are catalog zones (RFC 9432) to follow: each is
	// transferred and refreshed as a zone, but not served, and its
	// members are transferred from its primary with its key. A member
	// also in Zones, or in a catalog listed earlier, is left to it.
	Catalogs []ZoneConfig
	// Keys are accepted for NOTIFY and for transfers to our own
	// secondaries; each zone's Key is added. Its _transfer keys that name
	// a secondary address are notified of every new serial (see
	// dns/notify), as are AlsoNotify.
	Keys *tsig.Keyring
	// AlsoNotify receives a NOTIFY for every new serial of every zone.
	AlsoNotify []netip.AddrPort
	// NotifyPort is where _transfer key secondaries listen. Default 53.
	NotifyPort int
	// OnChange is called after each transfer that changed a zone, from
	// the zone's own goroutine.
	OnChange func(*authority.Zone)
	// Now is the clock for SOA timers and TSIG; After waits on it, as
	// time.After does. Tests set both to a fake clock. Defaults: the
	// real ones.
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time
	// MaxTransfers bounds the transfers in of catalog members at once,
	// all catalogs together, so that a catalog listing many new zones
	// does not open as many transfers from its primary. The zones in
	// Zones and the catalogs themselves are not held back by it: members
	// waiting for their first transfer must not delay their catalog's
	// refresh (nor its expiry) or a configured zone's. Default
	// DefaultMaxTransfers.
	MaxTransfers int
	// MaxMembers bounds the members of one catalog: a version listing
	// more is taken as broken, its last good member set kept, so that a
	// hostile or mistaken primary cannot make us hold a zone and a
	// goroutine for each of a million names. Default DefaultMaxMembers.
	MaxMembers int
	// Retry is the first interval between attempts while a zone has
	// never been transferred; it doubles with each failure, up to ten
	// minutes (afterwards the zone's SOA says). Default DefaultRetry.
	Retry time.Duration
	// Client transfers the zones; its Now is set to Now. Default: an
	// xfr.Client with its defaults.
	Client *xfr.Client
	// Logger and Registry are the chassis' logger and metrics registry.
	Logger   *slog.Logger
	Registry prometheus.Registerer
}

// Secondary transfers and serves zones.
type Secondary struct {
	cfg      Config
	client   *xfr.Client
	keys     *tsig.Keyring
	zones    atomic.Pointer[authority.Set]
	setMu    sync.Mutex // serializes changes to zones
	journal  *xfr.Journal
	srv      *server.Server
	notifier *notify.Notifier
	metrics  *metrics
	slots    chan struct{} // one a member's transfer in progress

	stateMu sync.Mutex
	state   map[string]*zoneState // by canonical origin: zones, catalogs, members
	runCtx  context.Context       // Run's, for members started later
	wg      sync.WaitGroup        // the zone goroutines

	catMu    sync.Mutex   // serializes changes to the member set
	catalogs []*zoneState // in the order configured
}

// zoneState is one zone's transfer state, owned by its goroutine.
type zoneState struct {
	cfg  ZoneConfig
	kick chan struct{}

	catalog *catalogState // set for a catalog zone
	owner   string        // a member's catalog; "" for configured zones
	id      string        // a member's unique id in its catalog
	fails   int           // attempts failed in a row while never transferred
	cancel  context.CancelFunc
	done    chan struct{} // closed when the goroutine has ended

	good      *authority.Zone // the last good version, never expired
	expired   bool
	refreshed time.Time // the last successful check
	next      time.Time // the next check
}

// New checks cfg and returns a Secondary serving nothing yet: Run
// transfers the zones.
func New(cfg Config) (*Secondary, error) {
	if len(cfg.Zones) == 0 && len(cfg.Catalogs) == 0 {
		return nil, errors.New("secondary: no zones")
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
	if cfg.After == nil {
		cfg.After = time.After
	}
	if cfg.Retry <= 0 {
		cfg.Retry = DefaultRetry
	}
	if cfg.MaxMembers <= 0 {
		cfg.MaxMembers = DefaultMaxMembers
	}
	if cfg.MaxTransfers <= 0 {
		cfg.MaxTransfers = DefaultMaxTransfers
	}
	client := xfr.Client{}
	if cfg.Client != nil {
		client = *cfg.Client
	}
	client.Now = cfg.Now
	s := &Secondary{cfg: cfg, client: &client, journal: &xfr.Journal{}, state: map[string]*zoneState{}, slots: make(chan struct{}, cfg.MaxTransfers)}
	keys := cfg.Keys.Keys()
	for i, zc := range append(slices.Clone(cfg.Zones), cfg.Catalogs...) {
		origin := dns.CanonicalName(zc.Origin)
		if origin == "." || zc.Origin == "" {
			return nil, errors.New("secondary: a zone without a name")
		}
		if s.state[origin] != nil {
			return nil, fmt.Errorf("secondary: zone %s given twice", origin)
		}
		if !zc.Primary.IsValid() || zc.Primary.Port() == 0 {
			return nil, fmt.Errorf("secondary: zone %s: no primary address", origin)
		}
		if zc.Key != nil {
			keys = append(keys, *zc.Key)
			if !zc.Key.Allows(tsig.Notify, origin) {
				cfg.Logger.Warn("the zone's key gives no notify right on it: NOTIFYs signed with it will be refused", "zone", origin, "key", zc.Key.Name)
			}
		}
		zc.Origin = origin
		z := &zoneState{cfg: zc, kick: make(chan struct{}, 1)}
		if i >= len(cfg.Zones) {
			z.catalog = &catalogState{}
			s.catalogs = append(s.catalogs, z)
		}
		s.state[origin] = z
	}
	s.keys = tsig.NewKeyring(keys...)
	s.zones.Store(authority.NewSet())
	s.metrics = newMetrics(cfg.Registry)
	downstream := cfg.Keys
	s.notifier = &notify.Notifier{
		// Only the configured keys name our secondaries: a zone's key
		// names us as the secondary.
		Keys:    func() *tsig.Keyring { return downstream },
		Now:     cfg.Now,
		Logger:  cfg.Logger,
		Port:    cfg.NotifyPort,
		Metrics: notify.NewMetrics(cfg.Registry),
	}
	srv, err := server.New(server.Config{
		Zones:    s.zones.Load,
		Keys:     func() *tsig.Keyring { return s.keys },
		Transfer: s.journal,
		Notify:   s.notified,
		// The primary's own NOTIFY counts signed or not, as Knot and
		// BIND count it: it only prompts a signed SOA check.
		NotifyFrom: s.fromPrimary,
		Now:        cfg.Now,
		Logger:     cfg.Logger,
		Metrics:    server.NewMetrics(cfg.Registry),
	})
	if err != nil {
		return nil, err
	}
	s.srv = srv
	return s, nil
}

// Zones returns the zones served now: expired ones answer SERVFAIL.
func (s *Secondary) Zones() *authority.Set { return s.zones.Load() }

// Keys returns the TSIG keys the server accepts.
func (s *Secondary) Keys() *tsig.Keyring { return s.keys }

// Serve answers DNS on the given sockets until ctx ends.
func (s *Secondary) Serve(ctx context.Context, pc net.PacketConn, ln net.Listener) error {
	return s.srv.Serve(ctx, pc, ln)
}

// Run transfers the zones and keeps them fresh until ctx ends.
func (s *Secondary) Run(ctx context.Context) error {
	s.stateMu.Lock()
	s.runCtx = ctx
	for _, z := range s.state {
		s.start(ctx, z)
	}
	s.stateMu.Unlock()
	s.wg.Wait()
	s.notifier.Wait()
	return nil
}

// start runs z's goroutine until ctx ends or z is stopped. The caller
// holds stateMu.
func (s *Secondary) start(ctx context.Context, z *zoneState) {
	ctx, z.cancel = context.WithCancel(ctx)
	z.done = make(chan struct{})
	s.state[z.cfg.Origin] = z
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(z.done)
		s.runZone(ctx, z)
	}()
}

// zone returns the state of the zone at origin, or nil.
func (s *Secondary) zone(origin string) *zoneState {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	return s.state[origin]
}

// fromPrimary reports whether addr is the primary of the zone.
func (s *Secondary) fromPrimary(origin string, addr netip.Addr) bool {
	z := s.zone(origin)
	return z != nil && addr.Unmap() == z.cfg.Primary.Addr().Unmap()
}

// notified is called for a NOTIFY the server authenticated, or an
// unsigned one from the zone's primary.
func (s *Secondary) notified(origin string, key tsig.Key, from netip.AddrPort) {
	z := s.zone(origin)
	if z == nil {
		return
	}
	if from.Addr().Unmap() != z.cfg.Primary.Addr().Unmap() {
		s.cfg.Logger.Info("notify ignored: not from the zone's primary", "zone", origin, "from", from.Addr().String(), "primary", z.cfg.Primary.Addr().String(), "key", key.Name)
		return
	}
	s.cfg.Logger.Debug("notify received", "zone", origin, "key", key.Name)
	select {
	case z.kick <- struct{}{}:
	default: // a check is pending already
	}
}

// runZone checks the zone when its timers say, or when kicked.
func (s *Secondary) runZone(ctx context.Context, z *zoneState) {
	kicked := false
	for ctx.Err() == nil {
		now := s.cfg.Now()
		s.expireIfDue(z, now)
		if kicked || !now.Before(z.next) {
			kicked = false
			s.check(ctx, z)
			continue
		}
		wait := z.next.Sub(now)
		if at, ok := z.expiresAt(); ok && at.Before(z.next) {
			wait = at.Sub(now)
		}
		select {
		case <-ctx.Done():
		case <-z.kick:
			kicked = true
		case <-s.cfg.After(wait):
		}
	}
}

// timers returns the zone's SOA refresh, retry and expire intervals.
func (z *zoneState) timers() (refresh, retry, expire time.Duration) {
	soa := z.good.SOA()
	sec := func(v uint32) time.Duration { return max(minInterval, time.Duration(v)*time.Second) }
	return sec(soa.Refresh), sec(soa.Retry), sec(soa.Expire)
}

// expiresAt is when the zone expires, if it is served and not expired.
func (z *zoneState) expiresAt() (time.Time, bool) {
	if z.good == nil || z.expired {
		return time.Time{}, false
	}
	_, _, expire := z.timers()
	return z.refreshed.Add(expire), true
}

func (s *Secondary) expireIfDue(z *zoneState, now time.Time) {
	at, ok := z.expiresAt()
	if !ok || now.Before(at) {
		return
	}
	z.expired = true
	s.serve(z, z.good.Expire())
	s.metrics.expired.WithLabelValues(z.cfg.Origin).Set(1)
	s.cfg.Logger.Error("zone expired: no successful refresh within the SOA expire time; answering SERVFAIL", "zone", z.cfg.Origin, "serial", z.good.SOA().Serial, "last_refresh", z.refreshed)
}

// serve puts version in place of z's zone in the served set. A catalog
// is not answered from (RFC 9432 meant it for its consumers, not for
// resolvers, and its list of zones for no one else): it is held as its SOA alone, expired, so that queries and
// transfers of it fail with SERVFAIL while NOTIFYs for it still count.
func (s *Secondary) serve(z *zoneState, version *authority.Zone) {
	if z.catalog != nil {
		soaOnly, err := authority.New(z.cfg.Origin, []dns.RR{version.SOA()})
		if err != nil {
			return
		}
		version = soaOnly.Expire()
	}
	s.setMu.Lock()
	defer s.setMu.Unlock()
	s.zones.Store(s.zones.Load().With(version))
}

// unserve drops the zone at origin from the served set.
func (s *Secondary) unserve(origin string) {
	s.setMu.Lock()
	defer s.setMu.Unlock()
	s.zones.Store(s.zones.Load().Without(origin))
}

// Bounds on one check, whatever the primary does: each read has its own
// time-out, but a primary trickling a transfer out message by message
// must not hold the zone's timers (and so its expiry) back for long, as
// BIND's max-transfer-time-in bounds it.
const (
	soaTimeout      = 30 * time.Second
	transferTimeout = 15 * time.Minute
)

// check asks the primary for the zone's SOA and transfers the zone if
// its serial is newer, then sets the next check.
func (s *Secondary) check(ctx context.Context, z *zoneState) {
	origin := z.cfg.Origin
	req := xfr.Request{Zone: origin, Server: z.cfg.Primary, Key: z.cfg.Key, Have: z.good}
	// A catalog is checked by IXFR alone: its primary may refuse
	// queries for it, as Knot does (RFC 9432 keeps catalogs from
	// resolvers), and an IXFR of an unchanged zone is its SOA alone.
	if z.good != nil && z.catalog == nil {
		sctx, cancel := context.WithTimeout(ctx, soaTimeout)
		soa, err := s.client.SOA(sctx, req)
		cancel()
		if err != nil {
			s.metrics.checks.WithLabelValues(origin, "error").Inc()
			s.failed(ctx, z, "SOA query failed", err)
			return
		}
		s.metrics.checks.WithLabelValues(origin, "ok").Inc()
		if have := z.good.SOA().Serial; !zone.SerialLess(have, soa.Serial) {
			if have != soa.Serial {
				s.cfg.Logger.Warn("the primary's serial is older than ours; keeping ours", "zone", origin, "serial", have, "primary", soa.Serial)
			}
			s.succeeded(z)
			return
		}
	}
	if z.owner != "" {
		select {
		case s.slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
	}
	tctx, cancel := context.WithTimeout(ctx, transferTimeout)
	res, err := s.client.Transfer(tctx, req)
	cancel()
	if z.owner != "" {
		<-s.slots
	}
	if err != nil {
		kind := xfr.AXFR
		if z.good != nil {
			kind = xfr.IXFR
		}
		s.metrics.transfers.WithLabelValues(origin, string(kind), "error").Inc()
		s.failed(ctx, z, "transfer failed", err)
		return
	}
	if res.Fallback != nil {
		s.cfg.Logger.Info("IXFR failed; transferred the whole zone", "zone", origin, "reason", res.Fallback)
	}
	if res.Kind == xfr.UpToDate {
		s.metrics.transfers.WithLabelValues(origin, string(res.Kind), "ok").Inc()
		s.succeeded(z)
		return
	}
	next, err := s.accept(z, res.Records)
	if err != nil {
		s.metrics.transfers.WithLabelValues(origin, string(res.Kind), "rejected").Inc()
		s.failed(ctx, z, "transferred zone rejected; serving the version we have", err)
		return
	}
	s.metrics.transfers.WithLabelValues(origin, string(res.Kind), "ok").Inc()
	old := z.good
	switch {
	case z.catalog != nil: // not transferred further: no journal
	case old != nil && res.Kind == xfr.IXFR:
		s.journal.Add(origin, res.Steps...)
	case old != nil:
		s.journal.Record(origin, old.Records(), res.Records)
	}
	z.good = next
	s.serve(z, next)
	s.succeeded(z)
	if res.Bytes >= 1<<20 {
		// A large transfer leaves garbage several times its size that
		// would stay resident for long: answers allocate nothing, so
		// the next collection may be hours away.
		debug.FreeOSMemory()
	}
	serial := next.SOA().Serial
	s.metrics.serial.WithLabelValues(origin).Set(float64(serial))
	if old == nil {
		s.cfg.Logger.Info("zone transferred", "zone", origin, "serial", serial, "kind", res.Kind, "records", len(res.Records), "bytes", res.Bytes)
	} else {
		s.cfg.Logger.Info("zone updated", "zone", origin, "serial", serial, "was", old.SOA().Serial, "kind", res.Kind, "records", len(res.Records), "bytes", res.Bytes)
	}
	if z.catalog != nil {
		s.follow(z)
		return
	}
	if s.cfg.OnChange != nil {
		s.cfg.OnChange(next)
	}
	if soaOnly, err := authority.New(origin, []dns.RR{next.SOA()}); err == nil {
		// Notify our own secondaries (keys and AlsoNotify), not the
		// zone's name servers: they include the primary.
		s.notifier.Notify(ctx, soaOnly, s.cfg.AlsoNotify)
	}
}

// accept checks a transferred version and indexes it.
func (s *Secondary) accept(z *zoneState, records []dns.RR) (*authority.Zone, error) {
	var soa *dns.SOA
	if len(records) > 0 {
		soa, _ = records[0].(*dns.SOA)
	}
	if soa == nil {
		return nil, errors.New("the transfer does not start with the zone's SOA")
	}
	if z.good != nil {
		if have, got := z.good.SOA().Serial, soa.Serial; zone.SerialLess(got, have) {
			return nil, fmt.Errorf("serial %d is older than ours, %d", got, have)
		}
	}
	if problems := zone.Check(&zone.Zone{Origin: z.cfg.Origin, Records: records}); len(problems) > 0 {
		msgs := make([]string, 0, 3)
		for i, p := range problems {
			if i == 3 {
				msgs = append(msgs, fmt.Sprintf("and %d more", len(problems)-3))
				break
			}
			msgs = append(msgs, p.String())
		}
		return nil, errors.New(strings.Join(msgs, "; "))
	}
	return authority.New(z.cfg.Origin, records)
}

// succeeded records a successful check: the zone is fresh again.
func (s *Secondary) succeeded(z *zoneState) {
	now := s.cfg.Now()
	refresh, _, _ := z.timers()
	z.refreshed, z.next = now, now.Add(refresh)
	if z.expired {
		z.expired = false
		s.serve(z, z.good)
		s.cfg.Logger.Info("zone fresh again after expiry", "zone", z.cfg.Origin, "serial", z.good.SOA().Serial)
	}
	s.metrics.expired.WithLabelValues(z.cfg.Origin).Set(0)
	s.metrics.refreshed.WithLabelValues(z.cfg.Origin).Set(float64(now.UnixMilli()) / 1000)
}

// failed schedules a retry.
func (s *Secondary) failed(ctx context.Context, z *zoneState, msg string, err error) {
	if ctx.Err() != nil {
		return
	}
	retry := s.cfg.Retry
	if z.good != nil {
		_, retry, _ = z.timers()
	} else {
		ceiling := max(s.cfg.Retry, maxBackoff)
		for range z.fails {
			if retry *= 2; retry >= ceiling {
				retry = ceiling
				break
			}
		}
		z.fails++
	}
	z.next = s.cfg.Now().Add(retry)
	s.cfg.Logger.Warn(msg, "zone", z.cfg.Origin, "primary", z.cfg.Primary.String(), "retry_in", retry, "err", err)
}
