package issuer

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/acme"

	"github.com/quercus-dev/quercus/certify"
	"github.com/quercus-dev/quercus/dns/authority"
)

// Source gives the zone to watch as last transferred.
type Source interface {
	// Zone returns the current version of the zone, nil before the first
	// transfer.
	Zone() *authority.Zone
}

// SourceFunc is a Source from a function, e.g. of dns/secondary:
//
//	issuer.SourceFunc(func() *authority.Zone { return sec.Zones().Zone(origin) })
type SourceFunc func() *authority.Zone

func (f SourceFunc) Zone() *authority.Zone { return f() }

// Config configures an Issuer. Source, Server and Directory are required;
// the zero value of every other field works.
type Config struct {
	// Source is the zone to watch; Server.Zone must be its origin.
	Source Source
	// Server takes the signed UPDATEs that add and remove challenges and
	// publish certificates: the zone's primary, with a key that has
	// update rights.
	Server *certify.Server
	// Directory is the ACME CA's directory URL.
	Directory string
	// HTTPClient talks to the CA; nil means http.DefaultClient.
	HTTPClient *http.Client
	// AccountKey is the ACME account's key; nil makes a new key, and so
	// a new account, every start.
	AccountKey crypto.Signer
	// Email is the account's contact; empty means none.
	Email string
	// Check are name servers that must serve the challenge records before
	// the CA is told to look: the zone's secondaries, which the CA may ask
	// instead of the primary. Empty means none but the primary, which took
	// the UPDATE.
	Check []netip.AddrPort
	// Rescan is how often to look at the zone without being told of a
	// change. Default a day.
	Rescan time.Duration
	// Backoff is the wait after a host's first failure; it doubles with
	// each further failure, up to a day. Default 5 minutes.
	Backoff time.Duration
	// Timeout bounds one attempt, from order to publication. Default 10
	// minutes.
	Timeout time.Duration
	// Now is the clock for expiry and backoff. Default time.Now.
	Now func() time.Time
	// Logger and Registry are the chassis' logger and metrics registry;
	// nil means none.
	Logger   *slog.Logger
	Registry prometheus.Registerer
}

const (
	challengeTTL = 60
	maxBackoff   = 24 * time.Hour
	// hold is how long a certificate we published may take to show in
	// the Source before we order again.
	hold = 10 * time.Minute
)

// Issuer obtains certificates for the requests published in a zone.
type Issuer struct {
	cfg     Config
	origin  string
	log     *slog.Logger
	m       *metrics
	changed chan struct{}
	acme    *acme.Client
	account bool // registered
	hosts   map[string]*hostState
}

// hostState is what the issuer remembers of a host between scans.
type hostState struct {
	request  string    // the request (hex DER) the fields below are about
	failures int       // consecutive failed attempts
	next     time.Time // no attempt before
	skipped  string    // the reason last logged for skipping
	issued   bool      // a certificate for request was published at issuedAt
	issuedAt time.Time
	renewAt  time.Time // when the published certificate becomes due
}

// New returns an Issuer; Run starts it.
func New(cfg Config) (*Issuer, error) {
	if cfg.Source == nil || cfg.Server == nil || cfg.Directory == "" {
		return nil, errors.New("issuer: Source, Server and Directory are required")
	}
	if cfg.Rescan <= 0 {
		cfg.Rescan = 24 * time.Hour
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 5 * time.Minute
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	key := cfg.AccountKey
	if key == nil {
		var err error
		if key, err = NewAccountKey(); err != nil {
			return nil, err
		}
		cfg.Logger.Warn("no account key given: a new ACME account is made at every start")
	}
	origin := strings.ToLower(dns.Fqdn(cfg.Server.Zone))
	if cfg.Server.Zone == "" {
		origin = cfg.Server.Key.Zone
	}
	return &Issuer{
		cfg:     cfg,
		origin:  origin,
		log:     cfg.Logger.With("zone", origin),
		m:       newMetrics(cfg.Registry),
		changed: make(chan struct{}, 1),
		acme: &acme.Client{
			Key:          key,
			DirectoryURL: cfg.Directory,
			HTTPClient:   cfg.HTTPClient,
			UserAgent:    "quercus-dns-acme",
		},
		hosts: map[string]*hostState{},
	}, nil
}

// Changed tells the issuer that the zone changed; it looks again soon.
// It never blocks.
func (i *Issuer) Changed() {
	select {
	case i.changed <- struct{}{}:
	default:
	}
}

// Run scans the zone now, whenever Changed is called, every Rescan, when
// a backoff ends and when a certificate becomes due, until ctx ends.
func (i *Issuer) Run(ctx context.Context) error {
	for {
		i.scan(ctx)
		wait := i.cfg.Rescan
		now := i.cfg.Now()
		for _, st := range i.hosts {
			// A time already past (a backoff that ended without an
			// attempt because the request went bad meanwhile) wakes
			// nobody.
			for _, at := range []time.Time{st.next, st.renewAt} {
				if d := at.Sub(now); d > 0 && d < wait {
					wait = max(d, time.Second)
				}
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-i.changed:
		case <-t.C:
		}
		t.Stop()
	}
}

// scan looks at every host's records once and acts on those due.
func (i *Issuer) scan(ctx context.Context) {
	z := i.cfg.Source.Zone()
	if z == nil || z.Expired() {
		return // not transferred yet, or too old to act on
	}
	i.m.scans.Inc()
	pubs := certify.Collect(z.Records())
	hosts := make([]string, 0, len(pubs))
	for h, p := range pubs {
		if len(p.Requests) > 0 {
			hosts = append(hosts, h)
		}
	}
	slices.Sort(hosts)
	for h := range i.hosts {
		if !slices.Contains(hosts, h) {
			i.forget(h)
		}
	}
	for _, h := range hosts {
		if ctx.Err() != nil {
			return
		}
		i.consider(ctx, pubs[h])
	}
}

// consider acts on one host's records if they need it.
func (i *Issuer) consider(ctx context.Context, p *certify.Published) {
	st := i.hosts[p.Host]
	if st == nil {
		st = &hostState{}
		i.hosts[p.Host] = st
	}
	csr, err := p.Request()
	if err == nil {
		err = i.inZone(p.Host, csr)
	}
	if err != nil {
		i.skip(p.Host, st, err)
		return
	}
	st.skipped = ""
	if request := p.Requests[0].Certificate; st.request != request {
		// A new request starts afresh, also after failures.
		*st = hostState{request: request}
		i.m.failing.DeleteLabelValues(p.Host)
	}
	names := certify.Names(csr)
	now := i.cfg.Now()
	st.renewAt = time.Time{}
	if chain := p.Chain(csr.PublicKey, names); chain != nil {
		i.m.expiry.WithLabelValues(p.Host).Set(float64(chain[0].NotAfter.Unix()))
		if !certify.Due(chain[0], now) {
			st.renewAt = certify.RenewAt(chain[0])
			st.failures, st.next, st.issued = 0, time.Time{}, false
			i.m.failing.DeleteLabelValues(p.Host)
			return
		}
	}
	if st.issued && now.Sub(st.issuedAt) < hold {
		return // ours is on its way to the Source
	}
	if now.Before(st.next) {
		return
	}
	log := i.log.With("host", p.Host, "names", names)
	log.Info("ordering a certificate")
	if err := i.issue(ctx, p, csr, names); err != nil {
		if ctx.Err() != nil {
			return // shutting down: not the host's failure
		}
		// Register again next time, in case the CA forgot the account
		// (a CA that remembers it just says so).
		i.account = false
		st.failures++
		st.next = now.Add(backoff(i.cfg.Backoff, st.failures))
		i.m.failures.WithLabelValues(p.Host).Inc()
		i.m.failing.WithLabelValues(p.Host).Set(float64(st.failures))
		log.Error("could not obtain a certificate", "err", err, "failures", st.failures, "next_attempt", st.next.Format(time.RFC3339))
		return
	}
	st.failures, st.next = 0, time.Time{}
	st.issued, st.issuedAt = true, now
	i.m.failing.DeleteLabelValues(p.Host)
	i.m.issued.Inc()
}

// inZone checks that every name of csr is in the zone, where our
// challenges can prove it.
func (i *Issuer) inZone(host string, csr *x509.CertificateRequest) error {
	for _, n := range certify.Names(csr) {
		if !dns.IsSubDomain(i.origin, dns.Fqdn(strings.TrimPrefix(n, "*."))) {
			return &certify.RequestError{Host: host, Problem: certify.ProblemOutOfZone, Reason: fmt.Sprintf("the CSR names %s, which is outside zone %s", n, i.origin)}
		}
	}
	return nil
}

// skip logs, once per reason, why a host's request is not acted on.
func (i *Issuer) skip(host string, st *hostState, err error) {
	reason := certify.ProblemMalformed
	var re *certify.RequestError
	if errors.As(err, &re) {
		reason = re.Problem
	}
	if st.skipped == err.Error() {
		return
	}
	st.skipped = err.Error()
	i.m.skipped.WithLabelValues(reason).Inc()
	i.log.Warn("skipping a certificate signing request", "host", host, "reason", reason, "err", err)
}

// forget drops what we know of a host whose records are gone.
func (i *Issuer) forget(host string) {
	delete(i.hosts, host)
	i.m.failing.DeleteLabelValues(host)
	i.m.expiry.DeleteLabelValues(host)
}

// backoff is the wait after n failures: first, doubled n-1 times, at most
// maxBackoff.
func backoff(first time.Duration, n int) time.Duration {
	d := first
	for ; n > 1 && d < maxBackoff; n-- {
		d *= 2
	}
	return min(d, maxBackoff)
}
