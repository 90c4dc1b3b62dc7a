// Command dns-acme gets certificates for the signing requests published
// in a DNS zone (robur's dns-letsencrypt-secondary): it follows the zone
// as a secondary, orders a certificate from an ACME CA for each request,
// solves DNS-01 through signed UPDATEs to the primary and publishes the
// certificate beside the request. See package certify/issuer.
package main

import (
	"cmp"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/quercus-dev/quercus/certify"
	"github.com/quercus-dev/quercus/certify/issuer"
	"github.com/quercus-dev/quercus/dns/authority"
	"github.com/quercus-dev/quercus/dns/dnsaddr"
	"github.com/quercus-dev/quercus/dns/secondary"
	"github.com/quercus-dev/quercus/dns/server"
	"github.com/quercus-dev/quercus/dns/tsig"
	"github.com/quercus-dev/quercus/sandbox"
	"github.com/quercus-dev/quercus/service"
)

const (
	staging    = "https://acme-staging-v02.api.letsencrypt.org/directory"
	production = "https://acme-v02.api.letsencrypt.org/directory"
)

// config is what the flags say.
type config struct {
	service                    service.Flags
	dnsKey, notifyKey          string
	dnsServer                  string
	directory                  string
	production                 bool
	acmeCA, email              string
	accountKey, accountKeySeed string
	rescan                     time.Duration
	check                      dnsaddr.List
}

func main() {
	fs := flag.NewFlagSet("dns-acme", flag.ExitOnError)
	c := define(fs)
	if err := service.Parse(fs, os.Args[1:], os.Getenv,
		"dns-acme follows the zone of --dns-key from --dns-server and listens on --listen for",
		"the primary's NOTIFY. Give --production for real certificates; without an account key",
		"a new ACME account is made at every start.",
		"",
		"Secrets are best given in the environment: QUERCUS_DNS_KEY, QUERCUS_NOTIFY_KEY,",
		"QUERCUS_ACCOUNT_KEY_SEED.",
	); err != nil {
		os.Exit(2)
	}
	if err := run(*c); err != nil {
		fmt.Fprintln(os.Stderr, "dns-acme:", err)
		os.Exit(1)
	}
}

// define defines dns-acme's flags on fs, filling the config it returns.
func define(fs *flag.FlagSet) *config {
	var c config
	registerCommon(fs, &c.service)
	fs.StringVar(&c.dnsKey, "dns-key", "", "TSIG key with update rights on the zone, `NAME:ALG:SECRET` (e.g. acme._update.example.com:hmac-sha256:...); the zone follows from its name. Prefer QUERCUS_DNS_KEY: command lines show in ps")
	fs.StringVar(&c.notifyKey, "notify-key", "", "optional _transfer key `NAME:ALG:SECRET` naming this host as secondary (<primary-ip>.<our-ip>._transfer.<zone>), with which the primary signs its NOTIFYs; without it changes are seen at the SOA refresh")
	fs.StringVar(&c.dnsServer, "dns-server", "", "the zone's primary, `ADDR[:PORT]` (an IP address; port 53 unless given)")
	fs.StringVar(&c.directory, "acme-directory", staging, "ACME directory `URL` (default: Let's Encrypt staging)")
	fs.BoolVar(&c.production, "production", false, "use Let's Encrypt's production directory")
	fs.StringVar(&c.acmeCA, "acme-ca", "", "PEM `FILE` of an extra root to trust for the ACME server's TLS (tests)")
	fs.StringVar(&c.email, "email", "", "contact e-mail address for the ACME account")
	fs.StringVar(&c.accountKey, "account-key", "", "PEM `FILE` holding the ACME account's private key (ECDSA or RSA)")
	fs.StringVar(&c.accountKeySeed, "account-key-seed", "", "secret `SEED` the account key is derived from, so the account survives restarts without files; prefer QUERCUS_ACCOUNT_KEY_SEED")
	fs.Var(&c.check, "check", "name servers that must serve the challenge records before the CA looks, `ADDR[:PORT],...` (the zone's secondaries; default: none but the primary)")
	fs.DurationVar(&c.rescan, "rescan", 24*time.Hour, "look at every request this often, besides when the zone changes")
	return &c
}

// registerCommon defines the common flags but the git remote's, which
// dns-acme has no use for: it keeps nothing.
func registerCommon(fs *flag.FlagSet, f *service.Flags) {
	all := flag.NewFlagSet("", flag.ContinueOnError)
	f.Register(all, service.Flags{Listen: "127.0.0.1:5355", HTTP: "127.0.0.1:9155"})
	all.VisitAll(func(fl *flag.Flag) {
		switch fl.Name {
		case "remote", "ssh-key", "ssh-known-hosts":
		default:
			fs.Var(fl.Value, fl.Name, fl.Usage)
		}
	})
}

func run(c config) error {
	if c.dnsKey == "" {
		return errors.New("--dns-key (or QUERCUS_DNS_KEY) is required: a key with update rights on the zone")
	}
	key, err := tsig.ParseFlag(c.dnsKey)
	if err != nil {
		return fmt.Errorf("--dns-key: %w", err)
	}
	if !key.Allows(tsig.Update, key.Zone) || key.Zone == "." {
		return fmt.Errorf("--dns-key %s gives no update rights on a zone: name it <name>._update.<zone>", key.Name)
	}
	followKey := key
	if c.notifyKey != "" {
		if followKey, err = tsig.ParseFlag(c.notifyKey); err != nil {
			return fmt.Errorf("--notify-key: %w", err)
		}
	}
	primary, err := addrPort(c.dnsServer)
	if err != nil {
		return fmt.Errorf("--dns-server: %w", err)
	}
	directory := c.directory
	if c.production {
		if directory != staging {
			return errors.New("give --production or --acme-directory, not both")
		}
		directory = production
	}
	httpc, err := httpClient(c.acmeCA)
	if err != nil {
		return fmt.Errorf("--acme-ca: %w", err)
	}
	account, err := accountKey(c.accountKey, c.accountKeySeed)
	if err != nil {
		return err
	}

	// TCP only to the primary and the ACME server.
	dial := sandbox.Policy{ConnectTCP: []uint16{primary.Port()}}
	if u, err := url.Parse(directory); err == nil {
		port, _ := strconv.Atoi(u.Port())
		dial.ConnectTCP = append(dial.ConnectTCP, uint16(cmp.Or(port, 443)))
	}
	return service.Run(context.Background(), service.Config{Name: "dns-acme", Flags: c.service, Sandbox: sandbox.DNSACME.With(dial)},
		func(ctx context.Context, ch *service.Chassis) error {
			var iss *issuer.Issuer
			sec, err := secondary.New(secondary.Config{
				Zones:    []secondary.ZoneConfig{{Origin: key.Zone, Primary: primary, Key: &followKey}},
				OnChange: func(*authority.Zone) { iss.Changed() },
				Logger:   ch.Logger,
				Registry: ch.Registry,
			})
			if err != nil {
				return err
			}
			iss, err = issuer.New(issuer.Config{
				Source:     issuer.SourceFunc(func() *authority.Zone { return sec.Zones().Zone(key.Zone) }),
				Server:     &certify.Server{Addr: primary.String(), Key: key},
				Directory:  directory,
				HTTPClient: httpc,
				AccountKey: account,
				Email:      c.email,
				Rescan:     c.rescan,
				Check:      c.check,
				Logger:     ch.Logger,
				Registry:   ch.Registry,
			})
			if err != nil {
				return err
			}
			pc, ln, err := server.Listen(c.service.Listen, 1) // a NOTIFY now and then
			if err != nil {
				return err
			}
			// Sockets bound: from here on only the policy's system calls,
			// no files. The system's TLS roots are read now, while files can be.
			x509.SystemCertPool()
			if err := ch.Lockdown(sandbox.Policy{}); err != nil {
				return err
			}
			ch.Logger.Info("following zone", "zone", key.Zone, "primary", primary.String(), "listen", pc.LocalAddr().String(), "acme", directory)
			ch.SetReady(true)
			errs := make(chan error, 3)
			go func() { errs <- sec.Serve(ctx, pc, ln) }()
			go func() { errs <- sec.Run(ctx) }()
			go func() { errs <- iss.Run(ctx) }()
			err = <-errs
			if ctx.Err() != nil {
				return nil
			}
			return err
		})
}

// addrPort reads --dns-server.
func addrPort(s string) (netip.AddrPort, error) {
	if s == "" {
		return netip.AddrPort{}, errors.New("required")
	}
	return dnsaddr.Parse(s)
}

// httpClient trusts the system's roots and, if given, those in caFile.
func httpClient(caFile string) (*http.Client, error) {
	if caFile == "" {
		return &http.Client{Timeout: time.Minute}, nil
	}
	b, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s holds no PEM certificate", caFile)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second}).DialContext
	return &http.Client{Timeout: time.Minute, Transport: tr}, nil
}

// accountKey reads the account key from file, derives it from seed, or
// returns nil for a fresh one.
func accountKey(file, seed string) (crypto.Signer, error) {
	switch {
	case file != "" && seed != "":
		return nil, errors.New("give --account-key or --account-key-seed, not both")
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--account-key: %w", err)
		}
		k, err := certify.ParseKeyPEM(b)
		if err != nil {
			return nil, fmt.Errorf("--account-key %s: %w", file, err)
		}
		return k, nil
	case seed != "":
		k, err := issuer.SeedAccountKey(seed)
		if err != nil {
			return nil, fmt.Errorf("--account-key-seed: %w", err)
		}
		return k, nil
	}
	return nil, nil
}
