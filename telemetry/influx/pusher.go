package influx

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config configures a Pusher. Only URL is required.
type Config struct {
	// URL says where to push, one of:
	//
	//	udp://host:port                  datagrams of whole lines, each at most 1400 bytes
	//	tcp://host:port                  newline-delimited lines on one connection (Telegraf's socket_listener)
	//	http://host:port/write?db=NAME   the InfluxDB 1.x HTTP write API (also https)
	//
	// The URL must not hold credentials, since it is shown on the command
	// line: HTTP basic authentication takes them from the environment
	// variables named by EnvUsername and EnvPassword.
	URL string

	// Gatherer supplies the metrics; nil means prometheus.DefaultGatherer.
	Gatherer prometheus.Gatherer

	// Interval is the time between pushes in Run; zero means 10 seconds.
	Interval time.Duration

	// Tags are added to every line, such as host=<name>. A metric's label
	// of the same name takes precedence. Keys and values must not be empty.
	Tags map[string]string

	// Now gives the timestamp of each push; nil means time.Now.
	Now func() time.Time

	// Logger receives Run's reports; nil means slog.Default().
	Logger *slog.Logger

	// Timeout bounds each push, connecting included; zero means 5 seconds.
	Timeout time.Duration

	// Registerer, if not nil, gets the pusher's own metric,
	// quercus_influx_push_failures_total. Pass the registry that Gatherer
	// reads to push it along with the rest. A Registerer can take the
	// metric of only one Pusher.
	Registerer prometheus.Registerer
}

// The environment variables that hold the HTTP basic authentication
// credentials. Only the username is required to turn authentication on.
const (
	EnvUsername = "QUERCUS_INFLUX_USERNAME"
	EnvPassword = "QUERCUS_INFLUX_PASSWORD"
)

const (
	defaultInterval = 10 * time.Second
	defaultTimeout  = 5 * time.Second
)

// Pusher sends the metrics of a Gatherer to an Influx endpoint.
// Its methods are safe for concurrent use.
type Pusher struct {
	url      string
	gatherer prometheus.Gatherer
	interval time.Duration
	timeout  time.Duration
	tags     map[string]string
	now      func() time.Time
	log      *slog.Logger
	failures prometheus.Counter

	mu     sync.Mutex // serializes sends: the tcp transport has one connection
	sender sender
}

// New returns a Pusher for cfg, or an error if cfg is invalid. It does not
// connect: the first push does.
func New(cfg Config) (*Pusher, error) {
	if cfg.Interval < 0 || cfg.Timeout < 0 {
		return nil, errors.New("influx: negative interval or timeout")
	}
	tags := make(map[string]string, len(cfg.Tags))
	for k, v := range cfg.Tags {
		if k == "" || v == "" {
			return nil, fmt.Errorf("influx: tag %q=%q: line protocol needs a key and a value", k, v)
		}
		tags[k] = v
	}
	s, err := newSender(cfg.URL)
	if err != nil {
		return nil, err
	}
	p := &Pusher{
		url:      cfg.URL,
		gatherer: cfg.Gatherer,
		interval: cmp.Or(cfg.Interval, defaultInterval),
		timeout:  cmp.Or(cfg.Timeout, defaultTimeout),
		tags:     tags,
		now:      cfg.Now,
		log:      cmp.Or(cfg.Logger, slog.Default()),
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "quercus_influx_push_failures_total",
			Help: "Pushes of metrics to Influx that failed, wholly or in part.",
		}),
		sender: s,
	}
	if p.gatherer == nil {
		p.gatherer = prometheus.DefaultGatherer
	}
	if p.now == nil {
		p.now = time.Now
	}
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(p.failures); err != nil {
			return nil, fmt.Errorf("influx: register metrics: %w", err)
		}
	}
	return p, nil
}

// Push gathers the metrics and sends them once, within the Timeout. If
// some metrics could not be gathered, it sends the others and returns the
// gather error.
func (p *Pusher) Push(ctx context.Context) error {
	err := p.push(ctx)
	if err != nil && ctx.Err() == nil { // a push its caller gave up on did not fail
		p.failures.Inc()
	}
	return err
}

func (p *Pusher) push(ctx context.Context) error {
	mfs, gatherErr := p.gatherer.Gather()
	if gatherErr != nil {
		gatherErr = fmt.Errorf("influx: gather: %w", gatherErr)
	}
	var buf bytes.Buffer
	Encode(&buf, mfs, p.tags, p.now()) // writing to a bytes.Buffer cannot fail
	if buf.Len() == 0 {
		return gatherErr
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	p.mu.Lock()
	err := p.sender.send(ctx, buf.Bytes())
	p.mu.Unlock()
	if err != nil {
		return errors.Join(fmt.Errorf("influx: push: %w", err), gatherErr)
	}
	return gatherErr
}

// Run pushes at once and then every Interval, until ctx is done; then it
// closes the connection and returns nil. It does not stop on errors: it
// logs the first of a series of failed pushes and the recovery, so that an
// unreachable collector does not fill the log, and counts every failure
// in quercus_influx_push_failures_total.
func (p *Pusher) Run(ctx context.Context) error {
	defer p.Close()
	tick := time.NewTicker(p.interval)
	defer tick.Stop()
	var failed int // consecutive failed pushes
	var since time.Time
	for {
		err := p.Push(ctx)
		if ctx.Err() != nil {
			return nil // an error caused by shutting down is no news
		}
		switch {
		case err != nil && failed == 0:
			since = p.now()
			p.log.Warn("influx push failed; reporting again once it works", "url", p.url, "err", err)
		case err == nil && failed > 0:
			p.log.Info("influx push works again", "url", p.url, "failed_pushes", failed, "after", p.now().Sub(since).Round(time.Millisecond))
		}
		if err != nil {
			failed++
		} else {
			failed = 0
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Close closes the connection, if any. A later Push opens a new one.
func (p *Pusher) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sender.close()
}
