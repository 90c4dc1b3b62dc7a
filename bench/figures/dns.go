package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/miekg/dns"
	"github.com/quercus-dev/quercus/bench/internal/benchproc"
)

// dnsServer is one server under test: how to start it on a zone.
type dnsServer struct {
	name string
	// command returns the command serving z on 127.0.0.1:port; dir is a
	// fresh, empty directory for its configuration and state.
	command func(dir string, z *zoneFixture, port int) (*exec.Cmd, error)
}

// dnsRun is what one start of a server measured.
type dnsRun struct {
	firstAnswer time.Duration // from exec to the first correct answer
	rss         int64         // VmRSS summed over the started process and its descendants, bytes
	pss         int64         // Pss summed likewise, bytes
}

func quercusServer(binary string) dnsServer {
	return dnsServer{name: "quercus", command: func(dir string, z *zoneFixture, port int) (*exec.Cmd, error) {
		httpPort, err := benchproc.FreePort()
		if err != nil {
			return nil, err
		}
		return exec.Command(binary,
			"--remote", z.repo,
			"--listen", fmt.Sprintf("127.0.0.1:%d", port),
			"--http", fmt.Sprintf("127.0.0.1:%d", httpPort),
			"--log-level", "warn"), nil
	}}
}

// knotServer runs knotd with the least configuration that serves the zone
// file: state in dir, no journal, never writing the zone file back.
func knotServer(binary string) dnsServer {
	return dnsServer{name: "knotd", command: func(dir string, z *zoneFixture, port int) (*exec.Cmd, error) {
		conf := `template:
  - id: default
    storage: "` + dir + `"
    journal-content: none
    zonefile-sync: -1
zone:
`
		for _, zf := range z.zones {
			conf += fmt.Sprintf("  - domain: %s\n    file: \"%s\"\n", zf.origin, zf.file)
		}
		return knotCommand(binary, dir, port, conf)
	}}
}

// knotCommand writes a knot.conf in dir: the server on 127.0.0.1:port
// with its state in dir, warnings to stderr, then rest.
func knotCommand(binary, dir string, port int, rest string) (*exec.Cmd, error) {
	conf := fmt.Sprintf(`server:
    rundir: "%[1]s"
    listen: 127.0.0.1@%[2]d
log:
  - target: stderr
    any: warning
database:
    storage: "%[1]s"
`, dir, port) + rest
	path := filepath.Join(dir, "knot.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	return exec.Command(binary, "-c", path), nil
}

// nsdServer runs nsd in the foreground (-d) with every file it writes in
// dir, no compiled database (it reads the zone file itself), no chroot
// and no change of user.
func nsdServer(binary string) dnsServer {
	return dnsServer{name: "nsd", command: func(dir string, z *zoneFixture, port int) (*exec.Cmd, error) {
		conf := fmt.Sprintf(`server:
    ip-address: 127.0.0.1
    port: %[2]d
    server-count: 1
    database: ""
    zonesdir: "%[1]s"
    zonelistfile: "%[1]s/zone.list"
    xfrdfile: "%[1]s/xfrd.state"
    xfrdir: "%[1]s"
    pidfile: "%[1]s/nsd.pid"
    username: ""
    chroot: ""
    verbosity: 0
remote-control:
    control-enable: no
`, dir, port)
		for _, zf := range z.zones {
			conf += fmt.Sprintf("zone:\n    name: %s\n    zonefile: \"%s\"\n", zf.origin, zf.file)
		}
		path := filepath.Join(dir, "nsd.conf")
		if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
			return nil, err
		}
		return exec.Command(binary, "-d", "-c", path), nil
	}}
}

// measureStart starts s on z once, times exec to the moment every zone
// has answered correctly for its probe record, reads the memory it then
// holds, and stops it.
func measureStart(ctx context.Context, s dnsServer, z *zoneFixture, timeout time.Duration) (dnsRun, error) {
	var wants []dns.RR
	for _, zf := range z.zones {
		rr, err := dns.NewRR(zf.probe)
		if err != nil {
			return dnsRun{}, err
		}
		wants = append(wants, rr)
	}
	dir, err := os.MkdirTemp("", "quercus-bench-"+s.name+"-")
	if err != nil {
		return dnsRun{}, err
	}
	defer os.RemoveAll(dir)
	port, err := benchproc.FreePort()
	if err != nil {
		return dnsRun{}, err
	}
	cmd, err := s.command(dir, z, port)
	if err != nil {
		return dnsRun{}, err
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// Its own process group, so that stopping it reaches any children
	// (nsd forks its server and xfrd processes).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return dnsRun{}, fmt.Errorf("start %s: %v", s.name, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer stop(cmd, exited)

	at, err := firstAnswers(ctx, fmt.Sprintf("127.0.0.1:%d", port), wants, exited)
	if err != nil {
		return dnsRun{}, fmt.Errorf("%s on %d records: %v\n%s", s.name, z.records, err, out.String())
	}
	r := dnsRun{firstAnswer: at.Sub(start)}
	if r.rss, r.pss, err = benchproc.Memory(cmd.Process.Pid); err != nil {
		return dnsRun{}, err
	}
	return r, nil
}

// stop ends a started server: SIGTERM to its process group, SIGKILL if it
// has not exited within 10 seconds.
func stop(cmd *exec.Cmd, exited <-chan error) {
	pgid := -cmd.Process.Pid
	syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		syscall.Kill(pgid, syscall.SIGKILL)
		<-exited
	}
	// Children that outlived their parent.
	syscall.Kill(pgid, syscall.SIGKILL)
}

// firstAnswers sends the query for each record in wants to addr over UDP
// every millisecond until each has been answered correctly (authoritative,
// NOERROR, holding the record), and returns when the last of them arrived.
// Responses are read as they come, so a server that answers late is timed
// by its answer, not by a poll interval.
func firstAnswers(ctx context.Context, addr string, wants []dns.RR, exited <-chan error) (time.Time, error) {
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return time.Time{}, err
	}
	conn, err := net.DialUDP("udp", nil, raddr)
	if err != nil {
		return time.Time{}, err
	}
	defer conn.Close()

	// Query i carries ID i+1; answered[i] is set by the reader.
	answered := make([]atomic.Bool, len(wants))
	type result struct {
		at   time.Time
		last string
	}
	got := make(chan result, 1)
	go func() {
		buf := make([]byte, 65535)
		last, left := "no response", len(wants)
		for {
			n, err := conn.Read(buf)
			at := time.Now()
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					got <- result{last: last}
					return
				}
				continue // ECONNREFUSED: nobody listens yet
			}
			m := new(dns.Msg)
			if m.Unpack(buf[:n]) != nil {
				last = "unparsable response"
				continue
			}
			i := int(m.Id) - 1
			if i < 0 || i >= len(wants) || answered[i].Load() {
				continue
			}
			ok, why := correct(m, wants[i])
			if !ok {
				last = why
				continue
			}
			answered[i].Store(true)
			if left--; left == 0 {
				got <- result{at: at}
				return
			}
		}
	}()

	queries := make([][]byte, len(wants))
	for i, want := range wants {
		q := new(dns.Msg)
		q.SetQuestion(want.Header().Name, want.Header().Rrtype)
		q.Id = uint16(i + 1)
		if queries[i], err = q.Pack(); err != nil {
			return time.Time{}, err
		}
	}
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		for i, q := range queries {
			if !answered[i].Load() {
				conn.Write(q) // errors: refused until the server listens
			}
		}
		select {
		case r := <-got:
			return r.at, nil
		case err := <-exited:
			conn.Close()
			return time.Time{}, fmt.Errorf("exited before answering: %v", err)
		case <-ctx.Done():
			conn.Close()
			r := <-got
			return time.Time{}, fmt.Errorf("no correct answer: %v (last: %s)", ctx.Err(), r.last)
		case <-tick.C:
		}
	}
}

// correct reports whether m is an authoritative answer holding want.
func correct(m *dns.Msg, want dns.RR) (bool, string) {
	if m.Rcode != dns.RcodeSuccess {
		return false, "rcode " + dns.RcodeToString[m.Rcode]
	}
	if !m.Authoritative {
		return false, "not authoritative"
	}
	for _, rr := range m.Answer {
		if dns.IsDuplicate(rr, want) {
			return true, ""
		}
	}
	return false, fmt.Sprintf("answer %v lacks %v", m.Answer, want)
}
