package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/tsig"
)

var notifyCommand = &command{
	name:    "notify",
	args:    "ZONE...",
	summary: "send signed NOTIFY messages so that a DNS server fetches zones",
	help: `Sends a NOTIFY (RFC 1996: opcode NOTIFY, question ZONE SOA, AA set) for
each ZONE to the server, signed with a TSIG key, and checks the server's
signed answer. dns-primary fetches its git remote when it gets one; a
secondary asks the primary for the zone's SOA and transfers what changed.

The key must allow notify for the zone: dns-primary takes keys named
<name>._notify.<zone>, <name>._transfer.<zone> or <name>._update.<zone>
(see 'quercus tsig-keygen --help'). The key comes from --key-file, else from
--key (or QUERCUS_KEY); a flag given on the command line wins over one from
the environment. Prefer --key-file or QUERCUS_KEY to --key: command lines
show in ps.

Each NOTIFY is tried --tries times over UDP, waiting --timeout for each
answer, then once over TCP; a truncated answer goes to TCP at once. Zones
are notified in parallel. An answer other than NOERROR ends the tries for
that zone:
  REFUSED    the server does not take this key's NOTIFY for the zone
  NOTAUTH    with a TSIG error: the server does not know the key (BADKEY),
             the secret differs (BADSIG) or the clocks do (BADTIME);
             without: the server does not serve the zone

Exit status: 0 if every zone was acknowledged, 1 otherwise (each failure is
on stderr), 2 on bad usage. With -v, each acknowledgement is printed.

Examples:
  quercus notify --server 192.0.2.53 --key-file /etc/quercus/notify.key example.com
  QUERCUS_KEY_FILE=notify.key quercus notify --server ns1.example.net:5353 example.com example.org
`,
	setup: func(fs *flag.FlagSet) runFunc {
		var n notifier
		fs.StringVar(&n.server, "server", "", "the DNS server to notify, `ADDR[:PORT]`: a host name or address, port 53 unless given; an IPv6 address with a port is [ADDR]:PORT")
		keyFlag := fs.String("key", "", "the TSIG key, `NAME:ALG:SECRET`; command lines show in ps, so prefer --key-file or QUERCUS_KEY")
		keyFile := fs.String("key-file", "", "a `FILE` holding the key: a NAME:ALG:SECRET line, or the DNSKEY line of tsig-keygen's output; lines starting with ; or # are ignored")
		fs.DurationVar(&n.timeout, "timeout", 2*time.Second, "how long to wait for each answer")
		fs.IntVar(&n.tries, "tries", 3, "how often to send over UDP before trying TCP")
		verbose := fs.Bool("v", false, "print a line for each zone the server acknowledged")
		return func(ctx context.Context, e *env, c *command, args []string) int {
			if len(args) == 0 {
				return e.usageError(c, "want at least one ZONE")
			}
			if n.server == "" {
				return e.usageError(c, "--server is required")
			}
			n.server = withPort(n.server)
			if n.tries < 1 || n.timeout <= 0 {
				return e.usageError(c, "--tries and --timeout must be positive")
			}
			// a flag typed on the command line wins over the environment
			given := map[string]bool{}
			fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
			var err error
			switch {
			case given["key-file"] || (*keyFile != "" && !given["key"]):
				n.key, err = readKeyFile(*keyFile)
			case *keyFlag != "":
				n.key, err = tsig.ParseFlag(*keyFlag)
			default:
				return e.usageError(c, "give the key with --key-file, QUERCUS_KEY or --key")
			}
			if err != nil {
				return e.fail(c, "%v", err)
			}

			status := exitOK
			for i, err := range n.notifyAll(ctx, args) {
				zone := dns.Fqdn(args[i])
				if err != nil {
					e.fail(c, "%s: %s: %v", zone, n.server, err)
					status = exitFail
				} else if *verbose {
					fmt.Fprintf(e.stdout, "%s: %s acknowledged the NOTIFY\n", zone, n.server)
				}
			}
			return status
		}
	},
}

// withPort adds DNS's port to an address without one.
func withPort(addr string) string {
	if _, _, err := net.SplitHostPort(addr); err == nil {
		return addr
	}
	return net.JoinHostPort(strings.Trim(addr, "[]"), "53")
}

// readKeyFile reads a key from a file (see parseKeyFile).
func readKeyFile(path string) (tsig.Key, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return tsig.Key{}, err
	}
	k, err := parseKeyFile(src)
	if err != nil {
		return tsig.Key{}, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// parseKeyFile reads one key: a NAME:ALG:SECRET line, or a key file's
// DNSKEY record as tsig-keygen prints it. Lines starting with ; or # are
// comments.
func parseKeyFile(src []byte) (tsig.Key, error) {
	var lines []string
	for _, l := range strings.Split(string(src), "\n") {
		l = strings.TrimSpace(l)
		if l != "" && l[0] != ';' && l[0] != '#' {
			lines = append(lines, l)
		}
	}
	if len(lines) == 1 && !strings.ContainsAny(lines[0], " \t") {
		return tsig.ParseFlag(lines[0])
	}
	keys, problems, _ := tsig.ParseKeyFile("_keys", []byte(strings.Join(lines, "\n")))
	if len(keys) != 1 || len(problems) > 0 {
		return tsig.Key{}, errors.New("want one NAME:ALG:SECRET line or one DNSKEY record of a key")
	}
	return keys[0], nil
}

// notifier sends NOTIFY messages to one server.
type notifier struct {
	server  string // host:port
	key     tsig.Key
	timeout time.Duration // per answer
	tries   int           // over UDP, before TCP
}

// maxParallel bounds the NOTIFY exchanges in flight, so that many zones
// do not flood the server.
const maxParallel = 8

// notifyAll notifies every zone, in parallel, and returns the outcome of
// each, in order.
func (n *notifier) notifyAll(ctx context.Context, zones []string) []error {
	errs := make([]error, len(zones))
	sem := make(chan struct{}, maxParallel)
	var wg sync.WaitGroup
	for i, z := range zones {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = n.notify(ctx, z)
		})
	}
	wg.Wait()
	return errs
}

// finalError is an answer that another try would not change.
type finalError struct{ err error }

func (e *finalError) Error() string { return e.err.Error() }
func (e *finalError) Unwrap() error { return e.err }

// notify sends one zone's NOTIFY: over UDP until an answer comes, then
// over TCP.
func (n *notifier) notify(ctx context.Context, zone string) error {
	if _, ok := dns.IsDomainName(zone); !ok {
		return fmt.Errorf("not a domain name")
	}
	var err error
	for try := 0; try <= n.tries; try++ {
		proto := "udp"
		if try == n.tries {
			proto = "tcp"
		}
		var truncated bool
		truncated, err = n.exchange(ctx, proto, dns.Fqdn(zone))
		var final *finalError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &final), ctx.Err() != nil:
			return err
		case truncated:
			try = n.tries - 1 // TCP next
		}
	}
	return fmt.Errorf("no answer after %d tries over UDP and one over TCP: %w", n.tries, err)
}

// exchange sends one signed NOTIFY over proto and checks the answer.
func (n *notifier) exchange(ctx context.Context, proto, zone string) (truncated bool, err error) {
	ring := tsig.NewKeyring(n.key)
	p := &tsig.Provider{Keys: func() *tsig.Keyring { return ring }}
	m := new(dns.Msg).SetNotify(zone)
	if err := p.SignRequest(m, n.key.Name); err != nil {
		return false, &finalError{err}
	}
	client := &dns.Client{Net: proto, Timeout: n.timeout, TsigProvider: p}
	r, _, err := client.ExchangeContext(ctx, m, n.server)
	switch {
	case r == nil:
		return false, err // no answer: try again
	case r.Rcode == dns.RcodeNotAuth:
		// miekg gives ErrAuth for NOTAUTH without checking the TSIG. A
		// forged refusal can only make us report failure, so read it.
		if t := r.IsTsig(); t != nil && t.Error != dns.RcodeSuccess {
			return false, &finalError{fmt.Errorf("NOTAUTH, TSIG error %s: %s", dns.RcodeToString[int(t.Error)], tsigHint(int(t.Error), n.key))}
		}
		return false, &finalError{fmt.Errorf("NOTAUTH: the server does not serve zone %s", zone)}
	case err != nil:
		// miekg checked the answer's TSIG with our key, or could not read
		// the answer
		var te *tsig.Error
		if errors.As(err, &te) || errors.Is(err, dns.ErrSig) || errors.Is(err, dns.ErrTime) {
			return false, &finalError{fmt.Errorf("the answer's signature does not verify, so it may not come from the server: %w", err)}
		}
		return false, &finalError{fmt.Errorf("bad answer: %w", err)}
	case r.Truncated && proto == "udp":
		return true, errors.New("answer truncated")
	case r.Rcode == dns.RcodeRefused:
		return false, &finalError{fmt.Errorf("REFUSED: the server takes no NOTIFY for %s signed by %s (does the key allow notify on the zone?)", zone, n.key.Name)}
	case r.Rcode != dns.RcodeSuccess:
		return false, &finalError{fmt.Errorf("answer %s", dns.RcodeToString[r.Rcode])}
	case r.IsTsig() == nil:
		return false, &finalError{errors.New("the answer is not signed, so it may not come from the server")}
	case r.Opcode != dns.OpcodeNotify:
		return false, &finalError{fmt.Errorf("answer with opcode %s, not NOTIFY", dns.OpcodeToString[r.Opcode])}
	}
	return false, nil
}

// tsigHint explains a TSIG error the server answered.
func tsigHint(code int, k tsig.Key) string {
	switch code {
	case dns.RcodeBadKey:
		return fmt.Sprintf("the server does not know key %s (or not with %s)", k.Name, k.AlgorithmName())
	case dns.RcodeBadSig:
		return fmt.Sprintf("the server's secret for key %s differs from ours", k.Name)
	case dns.RcodeBadTime:
		return "our clock and the server's differ by more than the fudge of 5 minutes"
	}
	return "the server did not accept the signature"
}
