package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/bench/dns/workload"
	"github.com/quercus-dev/quercus/bench/internal/benchproc"
)

// fixture is the zone as a file (for the peers) and as a bare git
// repository (for dns-primary), and a dnsperf query file.
type fixture struct {
	names   int
	file    string // the zone file
	repo    string // bare repository holding it as bench.example
	queries string // dnsperf query file; "" for a memory-only fixture
	lines   int
}

// makeFixture writes the workload zone of n names, and its query file
// when queries is set, into dir; the repository is written by git
// fast-import, independent of the code under test.
func makeFixture(dir string, n int, queries bool) (*fixture, error) {
	f := &fixture{names: n,
		file: filepath.Join(dir, fmt.Sprintf("zone-%d", n)),
		repo: filepath.Join(dir, fmt.Sprintf("zone-%d.git", n)),
	}
	var zone bytes.Buffer
	if err := workload.Zone(&zone, n); err != nil {
		return nil, err
	}
	if err := os.WriteFile(f.file, zone.Bytes(), 0o644); err != nil {
		return nil, err
	}
	os.RemoveAll(f.repo)
	if b, err := exec.Command("git", "init", "--bare", "--quiet", "--initial-branch=main", f.repo).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("git init: %v\n%s", err, b)
	}
	var in bytes.Buffer
	fmt.Fprintf(&in, "commit refs/heads/main\ncommitter Bench <bench@example.org> 1700000000 +0000\ndata 6\nbench\nM 100644 inline %s\ndata %d\n",
		strings.TrimSuffix(workload.Origin, "."), zone.Len())
	in.Write(zone.Bytes())
	in.WriteString("\n")
	cmd := exec.Command("git", "fast-import", "--quiet")
	cmd.Dir, cmd.Stdin = f.repo, &in
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("git fast-import: %v\n%s", err, b)
	}
	if queries {
		qs := workload.Queries(n)
		var b bytes.Buffer
		if err := workload.WriteQueries(&b, qs); err != nil {
			return nil, err
		}
		f.queries, f.lines = filepath.Join(dir, fmt.Sprintf("queries-%d", n)), len(qs)
		if err := os.WriteFile(f.queries, b.Bytes(), 0o644); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// server is one server under test: how to start it on a fixture.
type server struct {
	name string
	peer bool // a peer to compare with, not dns-primary
	// command returns the program and arguments serving f on
	// 127.0.0.1:port; dir is a fresh folder for its state; http is a
	// free port for a metrics side port, if it has one.
	command func(dir string, f *fixture, port, http int) ([]string, error)
	metrics bool
}

// quercus runs dns-primary listening on bind (127.0.0.1 or a wildcard).
func quercus(binary, bind string, general bool) server {
	name := "dns-primary"
	if general {
		name = "dns-primary (general path)"
	}
	return server{name: name, metrics: true, command: func(dir string, f *fixture, port, http int) ([]string, error) {
		return []string{binary, "--remote", f.repo, "--listen", net.JoinHostPort(bind, strconv.Itoa(port)),
			"--http", fmt.Sprintf("127.0.0.1:%d", http), "--log-level", "warn"}, nil
	}}
}

// nsd runs in the foreground with every file it writes in dir, reading
// the zone file itself (no compiled database), one server process, and
// response rate limiting off: it is on by default (200 answers a second
// per client netblock) and would drop most of the benchmark's answers.
func nsd(binary string) server {
	return server{name: "nsd", peer: true, command: func(dir string, f *fixture, port, _ int) ([]string, error) {
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
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
remote-control:
    control-enable: no
zone:
    name: %[3]s
    zonefile: "%[4]s"
`, dir, port, workload.Origin, f.file)
		path := filepath.Join(dir, "nsd.conf")
		return []string{binary, "-d", "-c", path}, os.WriteFile(path, []byte(conf), 0o644)
	}}
}

// knot runs knotd with its state in dir, no journal, never writing the
// zone file back.
func knot(binary string) server {
	return server{name: "knotd", peer: true, command: func(dir string, f *fixture, port, _ int) ([]string, error) {
		conf := fmt.Sprintf(`server:
    rundir: "%[1]s"
    listen: 127.0.0.1@%[2]d
log:
  - target: stderr
    any: warning
database:
    storage: "%[1]s"
template:
  - id: default
    storage: "%[1]s"
    journal-content: none
    zonefile-sync: -1
zone:
  - domain: %[3]s
    file: "%[4]s"
`, dir, port, workload.Origin, f.file)
		path := filepath.Join(dir, "knot.conf")
		return []string{binary, "-c", path}, os.WriteFile(path, []byte(conf), 0o644)
	}}
}

// proc is a started server.
type proc struct {
	cmd    *exec.Cmd
	exited chan error
	port   int
	http   int
	dir    string
	out    bytes.Buffer
	hasM   bool
}

// startServer starts s on f pinned to CPU 1 and waits until it answers
// for the zone's first name.
func startServer(ctx context.Context, s server, f *fixture) (*proc, error) {
	dir, err := os.MkdirTemp("", "quercus-bench-dns-"+strings.Fields(s.name)[0]+"-")
	if err != nil {
		return nil, err
	}
	p := &proc{dir: dir, exited: make(chan error, 1), hasM: s.metrics}
	if p.port, err = benchproc.FreePort(); err != nil {
		return nil, err
	}
	if p.http, err = benchproc.FreePort(); err != nil {
		return nil, err
	}
	args, err := s.command(dir, f, p.port, p.http)
	if err != nil {
		return nil, err
	}
	p.cmd = exec.Command("taskset", append([]string{"-c", "1"}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	// Its own process group, so that stopping it reaches nsd's children.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { p.exited <- p.cmd.Wait() }()
	if err := p.ready(ctx, 5*time.Minute); err != nil {
		p.stop()
		return nil, fmt.Errorf("%v\n%s", err, p.out.String())
	}
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// ready polls the server over UDP until it answers authoritatively.
func (p *proc) ready(ctx context.Context, timeout time.Duration) error {
	c := &dns.Client{Timeout: 200 * time.Millisecond}
	m := new(dns.Msg)
	m.SetQuestion("h0."+workload.Origin, dns.TypeA)
	deadline := time.Now().Add(timeout)
	for {
		r, _, err := c.ExchangeContext(ctx, m, fmt.Sprintf("127.0.0.1:%d", p.port))
		if err == nil && r.Authoritative && r.Rcode == dns.RcodeSuccess && len(r.Answer) == 1 {
			return nil
		}
		select {
		case err := <-p.exited:
			p.exited <- err
			return fmt.Errorf("exited: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.New("no answer")
		}
	}
}

// stop ends the server's process group: SIGTERM, SIGKILL after 10 s.
func (p *proc) stop() {
	pg := -p.cmd.Process.Pid
	syscall.Kill(pg, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		syscall.Kill(pg, syscall.SIGKILL)
		<-p.exited
	}
	syscall.Kill(pg, syscall.SIGKILL)
	os.RemoveAll(p.dir)
}

// mallocs reads go_memstats_mallocs_total from the side port, -1 if none.
func (p *proc) mallocs() float64 {
	if !p.hasM {
		return -1
	}
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", p.http))
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_memstats_mallocs_total "); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				return f
			}
		}
	}
	return -1
}

// perf is what dnsperf reported.
type perf struct {
	sent, completed, lost int64
	rate                  float64 // answers per second
}

func (p perf) lossRatio() float64 {
	if p.sent == 0 {
		return 1
	}
	return float64(p.lost) / float64(p.sent)
}

// dnsperf sends the query file at rate for d, pinned to CPU 0, with EDNS,
// at most 1000 queries outstanding, each lost after 1 s, and 4 MiB socket
// buffers (-b, capped by net.core.rmem_max): with the default buffer,
// answers were dropped at dnsperf's own socket whenever it was
// descheduled on a busy machine, and lost at every rate for every server.
func dnsperf(ctx context.Context, port int, queries string, rate int, d time.Duration) (perf, error) {
	cmd := exec.CommandContext(ctx, "taskset", "-c", "0", "dnsperf", "-s", "127.0.0.1", "-p", strconv.Itoa(port),
		"-d", queries, "-l", strconv.FormatFloat(d.Seconds(), 'f', -1, 64), "-Q", strconv.Itoa(rate),
		"-q", "1000", "-t", "1", "-e", "-b", "4096")
	b, err := cmd.CombinedOutput()
	if err != nil {
		return perf{}, fmt.Errorf("dnsperf: %v\n%s", err, b)
	}
	var p perf
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && f[0] == "Queries" && f[1] == "sent:":
			p.sent, _ = strconv.ParseInt(f[2], 10, 64)
		case len(f) >= 3 && f[0] == "Queries" && f[1] == "completed:":
			p.completed, _ = strconv.ParseInt(f[2], 10, 64)
		case len(f) >= 3 && f[0] == "Queries" && f[1] == "lost:":
			p.lost, _ = strconv.ParseInt(f[2], 10, 64)
		case len(f) >= 4 && f[0] == "Queries" && f[1] == "per" && f[2] == "second:":
			p.rate, _ = strconv.ParseFloat(f[3], 64)
		}
	}
	if p.sent == 0 {
		return p, fmt.Errorf("dnsperf sent nothing:\n%s", b)
	}
	return p, nil
}

// cpuTime sums utime and stime of pid and its descendants, all threads.
func cpuTime(pid int) (time.Duration, error) {
	const tick = 10 * time.Millisecond // USER_HZ is 100 on Linux
	var total time.Duration
	for _, p := range append([]int{pid}, benchproc.Descendants(pid)...) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			if p != pid && errors.Is(err, os.ErrNotExist) {
				continue
			}
			return 0, err
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		// After the comm: state(0) ppid(1) ... utime(11) stime(12).
		if len(f) < 13 {
			return 0, fmt.Errorf("short /proc/%d/stat", p)
		}
		u, err1 := strconv.ParseInt(f[11], 10, 64)
		st, err2 := strconv.ParseInt(f[12], 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			return 0, err
		}
		total += time.Duration(u+st) * tick
	}
	return total, nil
}
