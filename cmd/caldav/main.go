// Command caldav is a CalDAV/WebDAV server whose only storage is a git
// remote. Without --remote it serves a demo repository.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"time"
	_ "time/tzdata" // time zones without reading files, under the sandbox

	"golang.org/x/net/netutil"

	"github.com/quercus-dev/quercus/caldav"
	"github.com/quercus-dev/quercus/sandbox"
	"github.com/quercus-dev/quercus/service"
	"github.com/quercus-dev/quercus/service/gitstore"
)

func main() {
	// The heap is mostly the repository and the caches over it, which
	// stay; a write or a query adds a few megabytes of garbage. Collecting
	// when it has grown by 40% rather than 100% keeps the process near
	// its live size (issue 6: resident memory). GOGC, if set, wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(40)
	}
	fs := flag.NewFlagSet("caldav", flag.ExitOnError)
	var f service.Flags
	f.Register(fs, service.Flags{Listen: "127.0.0.1:8080", HTTP: "127.0.0.1:9180"})
	certFile := fs.String("tls-cert", "", "TLS certificate chain (PEM) to serve HTTPS; needs --tls-key")
	keyFile := fs.String("tls-key", "", "TLS private key (PEM)")
	maxSize := fs.Int64("max-resource-size", 1<<20, "largest calendar object or file a client may PUT, in bytes")
	maxConns := fs.Int("max-conns", 512, "most client connections served at once; more wait to be accepted")
	poll := fs.Duration("poll", time.Minute, "also fetch the remote this often, to serve changes pushed to git (0: never; a failed login and POST /git-hook also fetch)")
	if err := service.Parse(fs, os.Args[1:], os.Getenv,
		"Without --remote, caldav creates a demo repository in a temporary folder with one",
		"user, serves it and prints the user's password.",
		"Manage users with 'quercus user add|passwd|remove'.",
		"QUERCUS_HOOK_SECRET, if set, enables POST /git-hook on the --http port for a forge's",
		"push webhook (the secret as Authorization: Bearer, X-Gitlab-Token or ?secret=).",
	); err != nil {
		os.Exit(2)
	}
	if (*certFile == "") != (*keyFile == "") {
		fmt.Fprintln(os.Stderr, "caldav: --tls-cert and --tls-key go together")
		os.Exit(2)
	}
	if err := run(f, *certFile, *keyFile, *maxSize, *maxConns, *poll); err != nil {
		fmt.Fprintln(os.Stderr, "caldav:", err)
		os.Exit(1)
	}
}

func run(f service.Flags, certFile, keyFile string, maxSize int64, maxConns int, poll time.Duration) error {
	return service.Run(context.Background(), service.Config{Name: "caldav", Flags: f, Sandbox: sandbox.CalDAV, Remote: gitstore.Locate},
		func(ctx context.Context, c *service.Chassis) error {
			var demo func(url string)
			var demoDir sandbox.Policy
			if f.Remote == "" {
				dir, err := os.MkdirTemp("", "quercus-demo-")
				if err != nil {
					return err
				}
				remote, password, err := caldav.Demo(ctx, dir)
				if err != nil {
					return err
				}
				f.Remote = remote
				demoDir.ReadWrite = []string{dir}
				poll = 2 * time.Second // so that a git push shows at once
				demo = func(url string) { printDemo(os.Stdout, url, remote, password) }
			}
			var tlsConfig *tls.Config
			if certFile != "" {
				cert, err := tls.LoadX509KeyPair(certFile, keyFile)
				if err != nil {
					return err
				}
				tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
			}
			store, err := gitstore.Open(ctx, f, c.Logger)
			if err != nil {
				return err
			}
			defer store.Close()
			h, err := caldav.New(caldav.Config{Store: store, Logger: c.Logger, MaxResourceSize: maxSize, Registry: c.Registry})
			if err != nil {
				return err
			}
			c.Mux.Handle("POST /git-hook", h.HookHandler(os.Getenv("QUERCUS_HOOK_SECRET")))
			// Cloning left garbage several times the repository's size.
			debug.FreeOSMemory()
			ln, err := net.Listen("tcp", f.Listen)
			if err != nil {
				return err
			}
			// Socket bound, certificate loaded: from here on only the
			// policy's system calls, no files but a local remote's.
			if err := c.Lockdown(demoDir); err != nil {
				return err
			}
			ln = netutil.LimitListener(ln, maxConns)
			scheme := "http"
			if tlsConfig != nil {
				ln, scheme = tls.NewListener(ln, tlsConfig), "https"
			}
			srv := &http.Server{
				Handler:           h,
				ReadHeaderTimeout: 10 * time.Second,
				ReadTimeout:       2 * time.Minute,
				WriteTimeout:      2 * time.Minute,
				IdleTimeout:       2 * time.Minute,
				MaxHeaderBytes:    64 << 10,
			}
			if poll > 0 {
				go h.Poll(ctx, poll)
			}
			url := fmt.Sprintf("%s://%s/", scheme, ln.Addr())
			c.Logger.Info("serving CalDAV", "url", url)
			c.SetReady(true)
			if demo != nil {
				demo(url)
			}
			errc := make(chan error, 1)
			go func() { errc <- srv.Serve(ln) }()
			select {
			case err := <-errc:
				return err
			case <-ctx.Done():
			}
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
				return err
			}
			return nil
		})
}
