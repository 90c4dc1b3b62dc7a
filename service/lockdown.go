package service

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/quercus-dev/quercus/sandbox"
)

// Lockdown restricts the process to the service's sandbox policy
// (Config.Sandbox), widened by more and by what the flags need: the git
// remote's TCP port (or, for a local remote, its folder), the syslog and
// Influx ports, and DNS over TCP when any of them is a host name. A
// service calls it once, after it has bound its sockets and loaded its
// data. When started as root, the process first becomes --user.
//
// With --sandbox=off it does nothing but say so; with on, a kernel
// without seccomp is an error (sandbox.ErrNoSeccomp) and the service
// should stop.
func (c *Chassis) Lockdown(more sandbox.Policy) error {
	if c.locked.Swap(true) {
		return errors.New("service: Lockdown called twice")
	}
	if c.mode == sandbox.Off {
		c.Logger.Warn("SANDBOX OFF: not restricting this process (--sandbox=off is for debugging only)")
		return nil
	}
	if len(c.cfg.Sandbox.Calls) == 0 {
		return fmt.Errorf("service %s: Lockdown without a policy (Config.Sandbox, one of sandbox.Services)", c.cfg.Name)
	}
	p, err := c.policy(more)
	if err != nil {
		return err
	}
	warmUp(c.cfg.Flags)
	if err := c.swapProcessCollector(); err != nil {
		c.Logger.Warn("process metrics unavailable in the sandbox", "err", err)
	}
	if err := c.dropPrivileges(p); err != nil {
		return err
	}
	_, err = sandbox.Apply(p, c.mode, c.Logger)
	return err
}

// policy is the service's policy with what its flags and more add.
func (c *Chassis) policy(more sandbox.Policy) (sandbox.Policy, error) {
	flags, err := flagNeeds(c.cfg.Flags, c.cfg.Remote)
	if err != nil {
		return sandbox.Policy{}, err
	}
	p := c.cfg.Sandbox
	if p.Service == "" {
		p.Service = c.cfg.Name
	}
	return p.With(flags).With(more), nil
}

// SandboxReport writes the policy Lockdown would apply with these flags.
func SandboxReport(w io.Writer, cfg Config) error {
	c := &Chassis{cfg: cfg}
	p, err := c.policy(sandbox.Policy{})
	if err != nil {
		return err
	}
	return sandbox.Report(w, p)
}

// Endpoint is where a git remote lives, as far as the sandbox cares: a
// local folder the service reads and writes, or a TCP host and port.
type Endpoint struct {
	Dir  string
	Host string
	Port uint16
}

// flagNeeds is what the common flags add to a policy; remote locates
// --remote (nil: it adds nothing).
func flagNeeds(f Flags, remote func(string) (Endpoint, error)) (sandbox.Policy, error) {
	var p sandbox.Policy
	names := false
	if f.Remote != "" && remote != nil {
		ep, err := remote(f.Remote)
		if err != nil {
			return p, fmt.Errorf("--remote: %w", err)
		}
		if ep.Dir != "" {
			p.ReadWrite = append(p.ReadWrite, ep.Dir)
		} else {
			p.ConnectTCP = append(p.ConnectTCP, ep.Port)
			names = names || isName(ep.Host)
		}
	}
	for _, u := range []struct{ flag, raw string }{{"--syslog", f.Syslog}, {"--influx", f.Influx}} {
		if u.raw == "" {
			continue
		}
		pu, err := url.Parse(u.raw)
		if err != nil {
			return p, fmt.Errorf("%s: %w", u.flag, err)
		}
		names = names || isName(pu.Hostname())
		if pu.Scheme == "udp" {
			continue // Landlock's port rules are for TCP
		}
		port, _ := strconv.Atoi(pu.Port())
		if port == 0 {
			port = map[string]int{"tcp": 514, "tls": 6514, "http": 80, "https": 443}[pu.Scheme]
		}
		if port != 0 {
			p.ConnectTCP = append(p.ConnectTCP, uint16(port))
		}
	}
	if names {
		p.ConnectTCP = append(p.ConnectTCP, 53) // the resolver retries truncated answers over TCP
	}
	return p, nil
}

func isName(host string) bool {
	_, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return host != "" && err != nil
}

// warmUp loads now what Go's standard library would otherwise read from
// files on first use, when the sandbox no longer lets it.
func warmUp(f Flags) {
	_ = time.Local.String() // the local time zone, from /etc/localtime
	for _, u := range []string{f.Remote, f.Syslog, f.Influx} {
		if pu, err := url.Parse(u); err == nil && (pu.Scheme == "https" || pu.Scheme == "tls") {
			x509.SystemCertPool() // the system's roots, for TLS to that host
			break
		}
	}
}

// dropPrivileges makes a process started as root run as --user; empty
// means the owner of the first folder the policy writes to (a local
// remote), and nobody otherwise.
func (c *Chassis) dropPrivileges(p sandbox.Policy) error {
	if os.Geteuid() != 0 {
		return nil
	}
	uid, gid, who, err := c.target(p.ReadWrite)
	if err != nil {
		return err
	}
	if uid == 0 {
		c.Logger.Warn("still running as root after start-up", "why", who)
		return nil
	}
	if err := sandbox.DropPrivileges(uid, gid); err != nil {
		return err
	}
	c.Logger.Info("dropped root", "uid", uid, "gid", gid, "user", who)
	return nil
}

func (c *Chassis) target(writes []string) (uid, gid int, who string, err error) {
	name := c.cfg.Flags.User
	if name == "" {
		if len(writes) > 0 {
			dir := writes[0]
			fi, err := os.Stat(dir)
			if err != nil {
				return 0, 0, "", err
			}
			st := fi.Sys().(*syscall.Stat_t)
			return int(st.Uid), int(st.Gid), "owner of " + dir + ", which the service writes to (chown it or pass --user to drop root)", nil
		}
		name = "nobody"
	}
	u, err := user.Lookup(name)
	if err != nil {
		return 0, 0, "", fmt.Errorf("--user: %w", err)
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	return uid, gid, name, nil
}

// pinResolver makes the process's resolver ask the name servers that
// resolvConf names now, for good, and answer the names of the hosts file
// as read now. In the sandbox Go's resolver can no longer re-read either
// file every few seconds as it does: it would fall back to 127.0.0.1:53
// and forget every name of the hosts file. Its Dial is steered to the
// servers read here instead, and answers the hosts file's names itself
// (hosts.go).
func pinResolver(resolvConf, hosts string) { pinOnce.Do(func() { pin(resolvConf, hosts) }) }

var pinOnce sync.Once

// nameserverPort is 53 but in tests, which cannot bind it.
var nameserverPort uint16 = 53

func pin(resolvConf, hosts string) {
	conf := readResolvConf(resolvConf)
	servers := conf.servers
	table := readHostsFile(hosts)
	table.search, table.ndots = conf.search, conf.ndots
	if len(servers) == 0 && len(table.names) == 0 {
		return
	}
	known := map[string]bool{}
	for _, s := range servers {
		known[s] = true
	}
	net.DefaultResolver = &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
			if !known[address] && len(servers) > 0 {
				// Go's fallback list: 127.0.0.1:53 first, [::1]:53 second.
				i := 0
				if ap, err := netip.ParseAddrPort(address); err == nil && ap.Addr().Is6() {
					i = 1
				}
				address = servers[i%len(servers)]
			}
			var d net.Dialer
			c, err := d.DialContext(ctx, network, address)
			if err != nil || len(table.names) == 0 {
				return c, err
			}
			return withHosts(c, table), nil
		},
	}
}

// resolvConf is what the pinned resolver takes from a resolv.conf.
type resolvConf struct {
	servers []string // nameserver lines, as host:port
	search  []string // lower case, without dots at either end
	ndots   int
}

// readResolvConf reads a resolv.conf as Go's resolver does: the last
// "search" or "domain" line wins, ndots is 1 unless an "options ndots:n"
// says otherwise (capped at 15). Go's default search list, the host
// name's domain, is added: the sandboxed resolver, unable to read the
// file again, falls back to it.
func readResolvConf(path string) resolvConf {
	c := resolvConf{ndots: 1}
	if b, err := os.ReadFile(path); err == nil {
		for line := range strings.Lines(string(b)) {
			f := strings.Fields(line)
			if len(f) < 1 {
				continue
			}
			switch f[0] {
			case "nameserver":
				if len(f) >= 2 {
					if a, err := netip.ParseAddr(f[1]); err == nil {
						c.servers = append(c.servers, netip.AddrPortFrom(a, nameserverPort).String())
					}
				}
			case "domain", "search":
				c.search = c.search[:0]
				if f[0] == "domain" {
					f = f[:min(len(f), 2)]
				}
				for _, d := range f[1:] {
					if d = strings.Trim(strings.ToLower(d), "."); d != "" {
						c.search = append(c.search, d)
					}
				}
			case "options":
				for _, o := range f[1:] {
					if v, ok := strings.CutPrefix(o, "ndots:"); ok {
						if n, err := strconv.Atoi(v); err == nil && n >= 0 {
							c.ndots = min(n, 15)
						}
					}
				}
			}
		}
	}
	if h, err := os.Hostname(); err == nil {
		if _, d, ok := strings.Cut(h, "."); ok && d != "" {
			d = strings.Trim(strings.ToLower(d), ".")
			if d != "" && !slices.Contains(c.search, d) {
				c.search = append(c.search, d)
			}
		}
	}
	return c
}
