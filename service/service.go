package service

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/quercus-dev/quercus/sandbox"
	"github.com/quercus-dev/quercus/telemetry"
	"github.com/quercus-dev/quercus/telemetry/influx"
	"github.com/quercus-dev/quercus/telemetry/syslog"
)

// Config configures the chassis. The zero value of every field but Name
// works.
type Config struct {
	// Name is the service's name: syslog APP-NAME and the service tag on
	// pushed metrics.
	Name string
	// Flags are the common flags as parsed; their zero values turn the
	// optional parts (side port, syslog, Influx) off.
	Flags Flags
	// Stderr receives logs when no syslog host is given. Default os.Stderr.
	Stderr io.Writer
	// ShutdownTimeout bounds the graceful shutdown. Default 10s.
	ShutdownTimeout time.Duration
	// Signals stop the service. Default SIGINT and SIGTERM.
	Signals []os.Signal
	// Sandbox is the service's policy (one of sandbox.Services), which
	// Chassis.Lockdown applies with what the flags add.
	Sandbox sandbox.Policy
	// Stdout receives --sandbox-report. Default os.Stdout.
	Stdout io.Writer
	// Remote locates --remote for the sandbox policy; services that keep
	// their data in git set it to gitstore.Locate. Without it --remote
	// adds nothing to the policy, and the binary need not link a git
	// client.
	Remote func(remote string) (Endpoint, error)
}

// Chassis is what Run hands the service.
type Chassis struct {
	// Logger is the process's logger; Run also makes it slog's default.
	Logger *slog.Logger
	// Registry is the process's one metrics registry.
	Registry *prometheus.Registry
	// Mux serves the HTTP side port; services may add their own handlers
	// (a forge's webhook, say) before they report ready.
	Mux *http.ServeMux
	// HTTPAddr is the side port's bound address, nil when it is off.
	HTTPAddr net.Addr

	ready  atomic.Bool
	cfg    Config
	mode   sandbox.Mode
	locked atomic.Bool
}

// SetReady sets what /readyz answers: 200 once the service serves.
func (c *Chassis) SetReady(ok bool) {
	if ok && !c.locked.Load() && c.mode != sandbox.Off && !c.ready.Load() {
		c.Logger.Warn("serving before the sandbox is applied: the service should call Lockdown once started")
	}
	c.ready.Store(ok)
}

// Run sets up logging, metrics and the side port, then calls serve with a
// context that ends on the first signal, and tears down what it set up
// once serve returns. The side port is bound before serve runs, so a
// sandbox applied in serve does not need to allow binding it.
func Run(ctx context.Context, cfg Config, serve func(context.Context, *Chassis) error) (err error) {
	if cfg.Stderr == nil {
		cfg.Stderr = os.Stderr
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 10 * time.Second
	}
	if cfg.Signals == nil {
		cfg.Signals = []os.Signal{syscall.SIGINT, syscall.SIGTERM}
	}
	if cfg.Stdout == nil {
		cfg.Stdout = os.Stdout
	}
	level, err := cfg.Flags.Level()
	if err != nil {
		return err
	}
	mode, err := sandbox.ParseMode(cmp.Or(cfg.Flags.Sandbox, DefaultSandbox))
	if err != nil {
		return fmt.Errorf("--sandbox: %w", err)
	}
	if cfg.Flags.SandboxReport {
		return SandboxReport(cfg.Stdout, cfg)
	}
	if mode != sandbox.Off {
		// Before any goroutine resolves a name: see pinResolver.
		pinResolver("/etc/resolv.conf", "/etc/hosts")
	}
	logger, closeLog, err := newLogger(cfg, level)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := closeLog(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	slog.SetDefault(logger)

	c := &Chassis{Logger: logger, Registry: telemetry.NewRegistry(), Mux: http.NewServeMux(), cfg: cfg, mode: mode}
	if mode == sandbox.Off {
		logger.Warn("SANDBOX OFF: this service will run with every system call and file open to it (--sandbox=off is for debugging only)")
	}
	ctx, stop := signal.NotifyContext(ctx, cfg.Signals...)
	defer stop()

	background := make(chan error, 1)
	if cfg.Flags.HTTP != "" {
		srv, ln, err := c.sidePort(cfg.Flags.HTTP)
		if err != nil {
			return err
		}
		c.HTTPAddr = ln.Addr()
		go func() {
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				background <- fmt.Errorf("http side port: %w", err)
				return
			}
			background <- nil
		}()
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
			defer cancel()
			srv.Shutdown(sctx)
		}()
		logger.Info("http side port listening", "addr", c.HTTPAddr.String())
	}
	if cfg.Flags.Influx != "" {
		host, _ := os.Hostname()
		p, err := influx.New(influx.Config{
			URL:        cfg.Flags.Influx,
			Gatherer:   c.Registry,
			Registerer: c.Registry,
			Tags:       map[string]string{"host": host, "service": cfg.Name},
			Logger:     logger,
		})
		if err != nil {
			return err
		}
		defer p.Close()
		pctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go p.Run(pctx)
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- serve(ctx, c) }()
	for {
		select {
		case err := <-serveErr:
			c.SetReady(false)
			if err != nil && !errors.Is(err, context.Canceled) {
				logger.Error("service stopped", "err", err)
				return err
			}
			logger.Info("service stopped")
			return nil
		case err := <-background:
			if err != nil {
				// The side port failing is not worth stopping the service
				// for; the log says what went wrong.
				logger.Error("side port stopped", "err", err)
			}
		case <-ctx.Done():
			// A second signal now stops the process at once, as operators
			// expect when a graceful stop takes long (a big zone loading).
			stop()
			logger.Info("shutting down; a second signal stops at once", "cause", context.Cause(ctx))
			select {
			case err := <-serveErr:
				if err != nil && !errors.Is(err, context.Canceled) {
					return err
				}
				return nil
			case <-time.After(cfg.ShutdownTimeout):
				return fmt.Errorf("%s did not stop within %v", cfg.Name, cfg.ShutdownTimeout)
			}
		}
	}
}

func (c *Chassis) sidePort(addr string) (*http.Server, net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("--http %s: %w", addr, err)
	}
	c.Mux.Handle("GET /metrics", promhttp.HandlerFor(c.Registry, promhttp.HandlerOpts{Registry: c.Registry}))
	c.Mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	c.Mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !c.ready.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ready\n")
	})
	srv := &http.Server{
		Handler:           c.Mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	return srv, ln, nil
}

// newLogger logs to syslog when a host is given, else to stderr.
func newLogger(cfg Config, level slog.Level) (*slog.Logger, func() error, error) {
	if cfg.Flags.Syslog != "" {
		h, err := syslog.New(syslog.Config{URL: cfg.Flags.Syslog, AppName: cfg.Name, Level: level})
		if err != nil {
			return nil, nil, fmt.Errorf("--syslog: %w", err)
		}
		return slog.New(h), h.Close, nil
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	switch cfg.Flags.LogFormat {
	case "", "text":
		h = slog.NewTextHandler(cfg.Stderr, opts)
	case "json":
		h = slog.NewJSONHandler(cfg.Stderr, opts)
	default:
		return nil, nil, fmt.Errorf("--log-format %q: want text or json", cfg.Flags.LogFormat)
	}
	return slog.New(h), func() error { return nil }, nil
}
