package main

import (
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/quercus-dev/quercus/certify"
	"github.com/quercus-dev/quercus/dns/tsig"
)

var certifyCommand = &command{
	name:    "certify",
	args:    "",
	summary: "get a TLS certificate through DNS (a CSR for dns-acme)",
	help: `Gets a certificate for --hostname (repeat it for more names; "*.example.com"
for a wildcard) as robur's ocertify does: makes a key (or reads --key), makes
a certificate signing request, publishes it with a signed UPDATE as
_letsencrypt._tcp.<first hostname> TLSA 3 255 0, replacing any request
there, and waits until dns-acme has published a certificate for exactly
these names and this key beside it. Then it writes cert.pem (the
certificate and its chain) and key.pem into --out.

If a valid certificate for the key and names is published already, it is
written at once and nothing is published: run it again with --key to pick
up a renewed certificate.

The TSIG key needs update rights on the zone holding the names
(<name>._update.<zone>); it comes from --dns-key-file, else --dns-key (or
QUERCUS_DNS_KEY). Prefer the file or the environment: command lines show in
ps.

Exit status: 0 when the certificate was written, 1 when it did not come
within --wait or an operation failed, 2 on bad usage.

Example:
  QUERCUS_DNS_KEY_FILE=web.key quercus certify --server 192.0.2.53 \
      --hostname example.com --hostname '*.example.com' --out /etc/tls
`,
	setup: func(fs *flag.FlagSet) runFunc {
		var hosts hostList
		fs.Var(&hosts, "hostname", "a `NAME` to certify, repeatable; the first says where the records go")
		server := fs.String("server", "", "the zone's primary DNS server, `ADDR[:PORT]`, port 53 unless given")
		dnsKey := fs.String("dns-key", "", "the TSIG key, `NAME:ALG:SECRET`; prefer --dns-key-file or QUERCUS_DNS_KEY")
		dnsKeyFile := fs.String("dns-key-file", "", "a `FILE` holding the TSIG key: a NAME:ALG:SECRET line or the DNSKEY line of tsig-keygen")
		keyFile := fs.String("key", "", "the certificate's private key, a PEM `FILE` (default: make a new ECDSA P-256 key)")
		out := fs.String("out", ".", "the `DIR` to write cert.pem and key.pem into")
		ca := fs.String("ca", "", "a PEM `FILE` of roots the chain must verify against (default: not checked)")
		wait := fs.Duration("wait", 5*time.Minute, "how long to wait for the certificate")
		verbose := fs.Bool("v", false, "say what happens on stderr")
		return func(ctx context.Context, e *env, c *command, args []string) int {
			if len(args) != 0 {
				return e.usageError(c, "no arguments expected; names go in --hostname")
			}
			if len(hosts) == 0 {
				return e.usageError(c, "give at least one --hostname")
			}
			if *server == "" {
				return e.usageError(c, "--server is required")
			}
			var key tsig.Key
			var err error
			switch {
			case *dnsKeyFile != "":
				key, err = readKeyFile(*dnsKeyFile)
			case *dnsKey != "":
				key, err = tsig.ParseFlag(*dnsKey)
			default:
				return e.usageError(c, "give the TSIG key with --dns-key-file, QUERCUS_DNS_KEY or --dns-key")
			}
			if err != nil {
				return e.fail(c, "%v", err)
			}
			cfg := certify.Config{
				Server:    certify.Server{Addr: withPort(*server), Key: key},
				Hostnames: hosts,
				Logger:    slog.New(slog.DiscardHandler),
			}
			if *verbose {
				cfg.Logger = slog.New(slog.NewTextHandler(e.stderr, nil))
			}
			if *keyFile != "" {
				b, err := os.ReadFile(*keyFile)
				if err != nil {
					return e.fail(c, "%v", err)
				}
				if cfg.Key, err = certify.ParseKeyPEM(b); err != nil {
					return e.fail(c, "%s: %v", *keyFile, err)
				}
			}
			if *ca != "" {
				b, err := os.ReadFile(*ca)
				if err != nil {
					return e.fail(c, "%v", err)
				}
				cfg.Roots = x509.NewCertPool()
				if !cfg.Roots.AppendCertsFromPEM(b) {
					return e.fail(c, "%s holds no PEM certificate", *ca)
				}
			}
			ctx, cancel := context.WithTimeout(ctx, *wait)
			defer cancel()
			cert, err := certify.Obtain(ctx, cfg)
			if errors.Is(err, certify.ErrTimeout) {
				return e.fail(c, "no certificate within %v: %v", *wait, err)
			}
			if err != nil {
				return e.fail(c, "%v", err)
			}
			keyPEM, err := cert.KeyPEM()
			if err != nil {
				return e.fail(c, "%v", err)
			}
			if err := os.WriteFile(filepath.Join(*out, "key.pem"), keyPEM, 0o600); err != nil {
				return e.fail(c, "%v", err)
			}
			if err := os.WriteFile(filepath.Join(*out, "cert.pem"), cert.ChainPEM(), 0o644); err != nil {
				return e.fail(c, "%v", err)
			}
			fmt.Fprintf(e.stdout, "%s: certificate for %s until %s\n", filepath.Join(*out, "cert.pem"),
				strings.Join(cert.Chain[0].DNSNames, ", "), cert.Chain[0].NotAfter.Format(time.RFC3339))
			return exitOK
		}
	},
}

// hostList is a repeatable flag.
type hostList []string

func (h *hostList) String() string { return strings.Join(*h, ",") }

func (h *hostList) Set(v string) error {
	for _, n := range strings.Split(v, ",") {
		if n = strings.TrimSpace(n); n != "" {
			*h = append(*h, n)
		}
	}
	return nil
}
