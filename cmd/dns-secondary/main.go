// Command dns-secondary is an authoritative secondary DNS server: it
// transfers its zones from their primaries into memory, keeps them fresh
// by their SOA timers and NOTIFY, and serves them.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"

	"github.com/quercus-dev/quercus/dns/dnsaddr"
	"github.com/quercus-dev/quercus/dns/secondary"
	"github.com/quercus-dev/quercus/dns/server"
	"github.com/quercus-dev/quercus/dns/tsig"
	"github.com/quercus-dev/quercus/sandbox"
	"github.com/quercus-dev/quercus/service"
)

// gitFlags are common flags a secondary has no use for: it holds no data.
var gitFlags = []string{"remote", "ssh-key", "ssh-known-hosts"}

func main() {
	fs := flag.NewFlagSet("dns-secondary", flag.ExitOnError)
	var f service.Flags
	common := flag.NewFlagSet("", flag.ContinueOnError)
	f.Register(common, service.Flags{Listen: "127.0.0.1:5354", HTTP: "127.0.0.1:9154"})
	common.VisitAll(func(fl *flag.Flag) {
		if !slices.Contains(gitFlags, fl.Name) {
			fs.Var(fl.Value, fl.Name, fl.Usage)
		}
	})
	var zf zoneFlags
	fs.Var(value{&zf, "zone"}, "zone", "`ZONE` to transfer; the --primary and --key after it are its own (repeatable)")
	fs.Var(value{&zf, "catalog"}, "catalog", "catalog `ZONE` (RFC 9432) to follow: its member zones are transferred from its --primary with its --key, given after it as for --zone; the catalog itself is not served (repeatable)")
	fs.Var(value{&zf, "primary"}, "primary", "`ADDR[:PORT]` of the primary of the --zone or --catalog before it (port 53 if none)")
	fs.Var(value{&zf, "key"}, "key", "`NAME:ALG:SECRET` TSIG key signing the transfers of the --zone or --catalog before it; alone, a robur-style key <primary-ip>.<secondary-ip>._transfer.<zone> that names the zone and its primary (repeatable)")
	var keys keyList
	fs.Var(&keys, "transfer-key", "`NAME:ALG:SECRET` TSIG key our own secondaries transfer with (repeatable); _transfer keys naming a secondary address are also notified")
	maxMembers := fs.Int("catalog-max-members", secondary.DefaultMaxMembers, "the most member zones a catalog may list: a version listing more is ignored (logged, quercus_dns_secondary_catalog_broken), its last good member set kept")
	sockets := server.SocketsFlag(fs)
	var also dnsaddr.List
	fs.Var(&also, "also-notify", "also send NOTIFY to these `ADDR[:PORT]`s (comma-separated, repeatable) for every new serial")
	if err := service.Parse(fs, os.Args[1:], os.Getenv,
		"Zones are configured by flags and held in memory only:",
		"  dns-secondary --zone example.com --primary 192.0.2.1 --key NAME:hmac-sha256:SECRET",
		"  dns-secondary --key 192.0.2.1.192.0.2.2._transfer.example.com:hmac-sha256:SECRET",
		"  dns-secondary --catalog catalog.invalid --primary 192.0.2.1 --key xfr._transfer:hmac-sha256:SECRET",
		"Key names give rights as in dns-primary (<name>._update.<zone>, <ip1>.<ip2>._transfer.<zone>, ...):",
		"a zone's key must have notify rights on it for the primary's NOTIFY to be accepted (a catalog's key:",
		"on its members too, as <name>._transfer has on every zone; else only their SOA timers refresh them).",
		"Secrets show in ps: prefer QUERCUS_KEY in the environment for a single zone or catalog.",
	); err != nil {
		os.Exit(2)
	}
	zones, catalogs, err := zf.zones()
	if err == nil && len(zones) == 0 && len(catalogs) == 0 {
		err = fmt.Errorf("no zones: give --zone ZONE --primary ADDR [--key NAME:ALG:SECRET], a --catalog, or a robur-style --key (see --help)")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dns-secondary:", err)
		os.Exit(2)
	}
	if err := run(f, zones, catalogs, keys, also, *sockets, *maxMembers); err != nil {
		fmt.Fprintln(os.Stderr, "dns-secondary:", err)
		os.Exit(1)
	}
}

func run(f service.Flags, zones, catalogs []secondary.ZoneConfig, keys keyList, also dnsaddr.List, sockets, maxMembers int) error {
	// TCP only to the primaries, for transfers: a catalog's members
	// come from its own.
	var primaries sandbox.Policy
	for _, z := range append(slices.Clone(zones), catalogs...) {
		primaries.ConnectTCP = append(primaries.ConnectTCP, z.Primary.Port())
	}
	return service.Run(context.Background(), service.Config{Name: "dns-secondary", Flags: f, Sandbox: sandbox.DNSSecondary.With(primaries)},
		func(ctx context.Context, c *service.Chassis) error {
			s, err := secondary.New(secondary.Config{
				Zones:      zones,
				Catalogs:   catalogs,
				Keys:       tsig.NewKeyring(keys...),
				AlsoNotify: also,
				MaxMembers: maxMembers,
				Logger:     c.Logger,
				Registry:   c.Registry,
			})
			if err != nil {
				return err
			}
			pc, ln, err := server.Listen(f.Listen, sockets)
			if err != nil {
				return err
			}
			// Sockets bound: from here on only the policy's system calls.
			if err := c.Lockdown(sandbox.Policy{}); err != nil {
				return err
			}
			c.Logger.Info("serving DNS", "addr", pc.LocalAddr().String(), "zones", len(zones), "catalogs", len(catalogs))
			c.SetReady(true)
			errs := make(chan error, 1)
			go func() { errs <- s.Run(ctx) }()
			err = s.Serve(ctx, pc, ln)
			if rerr := <-errs; err == nil {
				err = rerr
			}
			return err
		})
}
