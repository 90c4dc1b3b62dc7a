// Command dns-primary is an authoritative primary DNS server for the zones
// in a git remote. Without --remote it serves a demo repository.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/quercus-dev/quercus/dns/dnsaddr"
	"github.com/quercus-dev/quercus/dns/primary"
	"github.com/quercus-dev/quercus/dns/server"
	"github.com/quercus-dev/quercus/sandbox"
	"github.com/quercus-dev/quercus/service"
	"github.com/quercus-dev/quercus/service/gitstore"
)

func main() {
	fs := flag.NewFlagSet("dns-primary", flag.ExitOnError)
	var f service.Flags
	f.Register(fs, service.Flags{Listen: "127.0.0.1:5353", HTTP: "127.0.0.1:9153"})
	axfrOpen := fs.Bool("axfr-open", false, "allow zone transfers without TSIG")
	poll := fs.Duration("poll", 0, "also fetch the remote this often (0: only on NOTIFY, /git-hook or restart)")
	sockets := server.SocketsFlag(fs)
	var also dnsaddr.List
	fs.Var(&also, "also-notify", "also send NOTIFY to these ADDR[:PORT]s (comma-separated, repeatable), on top of each zone's name servers and _transfer key secondaries")
	if err := service.Parse(fs, os.Args[1:], os.Getenv,
		"Without --remote, dns-primary creates a demo repository in a temporary folder,",
		"serves it and prints commands to try.",
		"QUERCUS_HOOK_SECRET, if set, enables POST /git-hook on the --http port for a forge's",
		"push webhook (the secret as Authorization: Bearer, X-Gitlab-Token or ?secret=).",
	); err != nil {
		os.Exit(2)
	}
	if err := run(f, *axfrOpen, *poll, also, *sockets); err != nil {
		fmt.Fprintln(os.Stderr, "dns-primary:", err)
		os.Exit(1)
	}
}

func run(f service.Flags, axfrOpen bool, poll time.Duration, also dnsaddr.List, sockets int) error {
	return service.Run(context.Background(), service.Config{Name: "dns-primary", Flags: f, Sandbox: sandbox.DNSPrimary, Remote: gitstore.Locate},
		func(ctx context.Context, c *service.Chassis) error {
			var demo func(addr string)
			var demoDir sandbox.Policy
			if f.Remote == "" {
				dir, err := os.MkdirTemp("", "quercus-demo-")
				if err != nil {
					return err
				}
				remote, key, err := primary.Demo(ctx, dir)
				if err != nil {
					return err
				}
				f.Remote = remote
				demoDir.ReadWrite = []string{dir}
				if poll == 0 {
					poll = 2 * time.Second // so that a git push shows at once
				}
				demo = func(addr string) { printDemo(os.Stdout, addr, remote, key) }
			}
			store, err := gitstore.Open(ctx, f, c.Logger)
			if err != nil {
				return err
			}
			p, err := primary.New(ctx, primary.Config{
				Store:      store,
				AXFROpen:   axfrOpen,
				AlsoNotify: also,
				Poll:       poll,
				HookSecret: os.Getenv("QUERCUS_HOOK_SECRET"),
				Logger:     c.Logger,
				Registry:   c.Registry,
			})
			if err != nil {
				return err
			}
			c.Mux.Handle("POST /git-hook", p.HookHandler())
			pc, ln, err := server.Listen(f.Listen, sockets)
			if err != nil {
				return err
			}
			// Sockets bound, zones loaded: from here on only the policy's
			// system calls, no files but a local remote's, no exec.
			if err := c.Lockdown(demoDir); err != nil {
				return err
			}
			c.Logger.Info("serving DNS", "addr", pc.LocalAddr().String(), "zones", len(p.Zones().Zones()))
			c.SetReady(true)
			if demo != nil {
				demo(pc.LocalAddr().String())
			}
			return p.Serve(ctx, pc, ln)
		})
}
