package syslog

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config configures a Handler. The zero value of every field but URL works.
type Config struct {
	// URL is the syslog host: udp://host[:port], tcp://host[:port] or
	// tls://host[:port]. The port defaults to 514 for udp and tcp and to
	// 6514 for tls.
	URL string

	// AppName is the APP-NAME header field. Default: the program's name.
	AppName string

	// Hostname is the HOSTNAME header field. Default: os.Hostname.
	Hostname string

	// Level is the minimum level logged. Default: slog.LevelInfo.
	Level slog.Leveler

	// TLS configures tls:// connections. If it or its RootCAs is nil, the
	// system's roots are used, read in New so that a later sandbox need not
	// allow reading them. An empty ServerName is taken from the URL's host.
	TLS *tls.Config

	// Facility is the syslog facility, 1 to 23. Default (0): daemon (3),
	// since facility 0 is reserved for the kernel.
	Facility int

	// QueueSize is how many messages may wait to be sent before new ones
	// are dropped. Default: 1024.
	QueueSize int

	// DialTimeout bounds each connection attempt, TLS handshake included.
	// Default: 5s.
	DialTimeout time.Duration

	// WriteTimeout bounds each write to the connection. Default: 5s.
	WriteTimeout time.Duration

	// CloseTimeout bounds how long Close waits for the queue to be sent.
	// Default: 5s.
	CloseTimeout time.Duration

	// Now returns the current time for the messages the handler makes
	// itself (dropped-message notices); records carry their own time.
	// Default: time.Now.
	Now func() time.Time
}

// ErrClosed is returned by Handle after Close.
var ErrClosed = errors.New("syslog: handler closed")

// A ConfigError reports an invalid Config field.
type ConfigError struct {
	Field  string // "URL", "Facility", ...
	Value  string
	Reason string
	Err    error // underlying error, if any
}

func (e *ConfigError) Error() string {
	s := fmt.Sprintf("syslog: Config.%s %q: %s", e.Field, e.Value, e.Reason)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *ConfigError) Unwrap() error { return e.Err }

// Handler is a slog.Handler that sends records to a syslog host. Handlers
// derived from it by WithAttrs and WithGroup share its queue and
// connection; closing any of them closes them all.
type Handler struct {
	s      *sender
	level  slog.Leveler
	prefix string  // open groups, as "a.b."
	fields []field // from WithAttrs, keys prefixed
}

var _ slog.Handler = (*Handler)(nil)

// New returns a handler for cfg. It does not connect: the first message
// does, so a syslog host that is down does not stop the service starting.
func New(cfg Config) (*Handler, error) {
	return newHandler(cfg, strconv.Itoa(os.Getpid()))
}

func newHandler(cfg Config, procID string) (*Handler, error) {
	network, addr, host, err := parseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	facility := cfg.Facility
	if facility == 0 {
		facility = 3
	}
	if facility < 0 || facility > 23 {
		return nil, &ConfigError{Field: "Facility", Value: strconv.Itoa(facility), Reason: "want 1 to 23"}
	}
	if cfg.QueueSize < 0 {
		return nil, &ConfigError{Field: "QueueSize", Value: strconv.Itoa(cfg.QueueSize), Reason: "negative"}
	}
	hostname := cfg.Hostname
	if hostname == "" {
		hostname, _ = os.Hostname() // NILVALUE if unknown
	}
	appName := cfg.AppName
	if appName == "" && len(os.Args) > 0 {
		appName = filepath.Base(os.Args[0])
	}
	level := cfg.Level
	if level == nil {
		level = slog.LevelInfo
	}

	s := &sender{
		hdr:          newHeader(facility, hostname, appName, procID),
		network:      network,
		addr:         addr,
		max:          maxUDP,
		queue:        make(chan []byte, cmp.Or(cfg.QueueSize, 1024)),
		dialTimeout:  cmp.Or(cfg.DialTimeout, 5*time.Second),
		writeTimeout: cmp.Or(cfg.WriteTimeout, 5*time.Second),
		closeTimeout: cmp.Or(cfg.CloseTimeout, 5*time.Second),
		now:          cfg.Now,
		done:         make(chan struct{}),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if network != "udp" {
		s.max = maxStream
	}
	if network == "tls" {
		s.tls = &tls.Config{}
		if cfg.TLS != nil {
			s.tls = cfg.TLS.Clone()
		}
		if s.tls.ServerName == "" {
			s.tls.ServerName = host
		}
		if s.tls.RootCAs == nil {
			// Load now: once the service has sandboxed itself it can no
			// longer read the certificate files.
			if s.tls.RootCAs, err = x509.SystemCertPool(); err != nil {
				return nil, fmt.Errorf("syslog: system roots: %w", err)
			}
		}
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	go s.run()
	return &Handler{s: s, level: level}, nil
}

// parseURL checks a syslog URL and returns the network ("udp", "tcp" or
// "tls"), the address to dial and the host name.
func parseURL(raw string) (network, addr, host string, err error) {
	bad := func(reason string, err error) (string, string, string, error) {
		return "", "", "", &ConfigError{Field: "URL", Value: raw, Reason: reason, Err: err}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("not a URL", errors.Unwrap(err))
	}
	var port string
	switch network = strings.ToLower(u.Scheme); network {
	case "udp", "tcp":
		port = "514"
	case "tls":
		port = "6514"
	case "":
		return bad("missing scheme, want udp://, tcp:// or tls://", nil)
	default:
		return bad(fmt.Sprintf("unknown scheme %q, want udp, tcp or tls", u.Scheme), nil)
	}
	if u.Opaque != "" || u.Host == "" {
		return bad("missing host, want "+network+"://host[:port]", nil)
	}
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return bad("want "+network+"://host[:port] and nothing more", nil)
	}
	if host = u.Hostname(); host == "" {
		return bad("missing host", nil)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return bad("bad port "+p, nil)
		}
		port = p
	}
	return network, net.JoinHostPort(host, port), host, nil
}

// Enabled reports whether level is at least the configured level.
func (h *Handler) Enabled(_ context.Context, level slog.Level) bool {
	return level >= h.level.Level()
}

// Handle formats r and queues it to be sent; a zero r.Time is sent as
// NILVALUE, for the receiver to stamp. It never blocks: if the queue
// is full, the message is dropped and counted (see Dropped), and Handle
// still returns nil. After Close it returns ErrClosed.
func (h *Handler) Handle(_ context.Context, r slog.Record) error {
	return h.s.enqueue(h.s.frame(h.message(r)))
}

// message formats r as an RFC 5424 message.
func (h *Handler) message(r slog.Record) []byte {
	fields := slices.Clip(h.fields) // appends must not share h.fields' array
	r.Attrs(func(a slog.Attr) bool {
		fields = appendAttr(fields, h.prefix, a)
		return true
	})
	return h.s.hdr.format(make([]byte, 0, 256), r.Time, r.Level, r.Message, fields, h.s.max)
}

// WithAttrs returns a handler that adds attrs to every record.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	h2 := *h
	h2.fields = slices.Clip(h.fields)
	for _, a := range attrs {
		h2.fields = appendAttr(h2.fields, h.prefix, a)
	}
	return &h2
}

// WithGroup returns a handler that puts later attributes in group name.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.prefix += name + "."
	return &h2
}

// Dropped returns how many messages were dropped because the queue was
// full or because Close gave up on them.
func (h *Handler) Dropped() uint64 { return h.s.dropped.Load() }

// Close sends what is queued, waiting at most Config.CloseTimeout, and
// closes the connection. It reports messages it could not send. Closing
// again does nothing.
func (h *Handler) Close() error { return h.s.close() }
