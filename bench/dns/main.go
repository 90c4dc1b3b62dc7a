// Command dns measures DNS serving: server CPU time per query at a fixed
// rate, the highest rate answered with under 0.1% loss, and resident
// memory, for dns-primary, nsd and knotd on the same zone and queries,
// each server pinned to one core and dnsperf to the other. It prints one
// table with the ratio of dns-primary to the best peer. The method is in
// bench/README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/quercus-dev/quercus/bench/internal/benchproc"
)

type options struct {
	names    int
	big      int
	rate     int
	duration time.Duration
	step     time.Duration
	maxLoss  float64
	reps     int
	binary   string
	work     string
	goCmd    string
	src      string
	noFast   bool
	search   bool
	bind     string
}

func main() {
	var o options
	flag.IntVar(&o.names, "names", 10000, "names in the zone the rates are measured on")
	flag.IntVar(&o.big, "big", 1000000, "names in the zone only memory is measured on; 0: skip")
	flag.IntVar(&o.rate, "rate", 20000, "queries per second for the CPU figure (dnsperf -Q)")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "length of the fixed-rate run")
	flag.DurationVar(&o.step, "step", 4*time.Second, "length of each run of the search for the highest rate")
	flag.Float64Var(&o.maxLoss, "loss", 0.001, "the loss a rate may have and count as answered")
	flag.IntVar(&o.reps, "reps", 1, "repetitions (the servers take turns); the table gives medians")
	flag.StringVar(&o.binary, "dns-primary", "", "dns-primary binary to use instead of building one")
	flag.StringVar(&o.work, "work", "", "keep the generated files in this folder")
	flag.StringVar(&o.goCmd, "go", "go", "go command that builds dns-primary")
	flag.StringVar(&o.src, "src", ".", "module folder to build dns-primary from")
	flag.BoolVar(&o.noFast, "no-fast-path", false, "also measure dns-primary built without the fast path")
	flag.BoolVar(&o.search, "search", true, "search the highest loss-free rate")
	flag.StringVar(&o.bind, "bind", "127.0.0.1", "address dns-primary listens on (0.0.0.0 or :: for a wildcard socket); dnsperf still asks 127.0.0.1")
	flag.Parse()
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench/dns:", err)
		os.Exit(1)
	}
}

// result is what one server measured on one zone.
type result struct {
	cpuPerQuery    float64 // µs of server CPU per answered query at the fixed rate
	completedRate  float64 // answers per second at the fixed rate
	maxRate        float64 // highest rate with loss under maxLoss, q/s
	maxAnswered    float64 // answers per second dnsperf got at maxRate
	rss, pss       int64   // after the runs, bytes
	allocsPerQuery float64 // dns-primary only: Go heap allocations per query, -1 unknown
	bigRSS, bigPSS int64   // after loading the big zone
}

func run(ctx context.Context, o options, out io.Writer) error {
	if runtime.NumCPU() < 2 {
		return errors.New("needs two cores: one for the server, one for dnsperf")
	}
	for _, p := range []string{"taskset", "dnsperf"} {
		if _, err := exec.LookPath(p); err != nil {
			return fmt.Errorf("%s is needed: %v (make peers installs it)", p, err)
		}
	}
	dir := o.work
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "quercus-bench-dns-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if o.binary == "" {
		o.binary = filepath.Join(dir, "dns-primary")
		progress("building dns-primary")
		cmd := exec.Command(o.goCmd, "build", "-trimpath", "-ldflags=-s -w -buildid=", "-o", o.binary, "./cmd/dns-primary")
		cmd.Env, cmd.Dir = append(os.Environ(), "CGO_ENABLED=0"), o.src
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build dns-primary: %v\n%s", err, b)
		}
	}
	servers := []server{quercus(o.binary, o.bind, false)}
	if o.noFast {
		general := filepath.Join(dir, "dns-primary-general")
		progress("building dns-primary without the fast path")
		cmd := exec.Command(o.goCmd, "build", "-trimpath", "-ldflags=-s -w -buildid= -X github.com/quercus-dev/quercus/dns/server.fastPath=off", "-o", general, "./cmd/dns-primary")
		cmd.Env, cmd.Dir = append(os.Environ(), "CGO_ENABLED=0"), o.src
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build dns-primary: %v\n%s", err, b)
		}
		servers = append(servers, quercus(general, o.bind, true))
	}
	for _, p := range []struct {
		name string
		mk   func(string) server
	}{{"nsd", nsd}, {"knotd", knot}} {
		bin, err := exec.LookPath(p.name)
		if err != nil {
			if os.Getenv("QUERCUS_INTEROP") != "" {
				return fmt.Errorf("%s is needed with QUERCUS_INTEROP set: %v", p.name, err)
			}
			progress("skipping %s: %v", p.name, err)
			continue
		}
		servers = append(servers, p.mk(bin))
	}

	small, err := makeFixture(dir, o.names, true)
	if err != nil {
		return err
	}
	load0 := loadAvg()
	runs := make([][]result, len(servers))
	for rep := range o.reps {
		for i, s := range servers {
			progress("%s: %d names, run %d of %d", s.name, o.names, rep+1, o.reps)
			r, err := measure(ctx, s, small, o)
			if err != nil {
				return fmt.Errorf("%s: %v", s.name, err)
			}
			runs[i] = append(runs[i], r)
		}
	}
	results := make([]result, len(servers))
	for i := range servers {
		results[i] = medianResult(runs[i])
	}
	if o.big > 0 {
		big, err := makeFixture(dir, o.big, false)
		if err != nil {
			return err
		}
		for i, s := range servers {
			progress("%s: memory with %d names", s.name, o.big)
			if results[i].bigRSS, results[i].bigPSS, err = bigMemory(ctx, s, big, small.queries); err != nil {
				return fmt.Errorf("%s: %v", s.name, err)
			}
		}
	}
	printTable(out, o, servers, results, small, load0, loadAvg())
	return nil
}

// measure starts s on f and takes its figures: a warm-up, the fixed-rate
// run, the search for the highest rate, then memory.
func measure(ctx context.Context, s server, f *fixture, o options) (result, error) {
	p, err := startServer(ctx, s, f)
	if err != nil {
		return result{}, err
	}
	defer p.stop()
	r := result{allocsPerQuery: -1}
	if _, err := dnsperf(ctx, p.port, f.queries, o.rate, 2*time.Second); err != nil {
		return r, fmt.Errorf("warm-up: %v", err)
	}
	m0 := p.mallocs()
	c0, err := cpuTime(p.pid())
	if err != nil {
		return r, err
	}
	perf, err := dnsperf(ctx, p.port, f.queries, o.rate, o.duration)
	if err != nil {
		return r, err
	}
	c1, err := cpuTime(p.pid())
	if err != nil {
		return r, err
	}
	m1 := p.mallocs()
	if perf.completed == 0 {
		return r, errors.New("no query answered")
	}
	r.cpuPerQuery = float64(c1-c0) / float64(time.Microsecond) / float64(perf.completed)
	r.completedRate = perf.rate
	if m0 >= 0 && m1 >= m0 {
		r.allocsPerQuery = (m1 - m0) / float64(perf.completed)
	}
	if o.search {
		if r.maxRate, r.maxAnswered, err = highestRate(ctx, p.port, f.queries, o); err != nil {
			return r, err
		}
	}
	r.rss, r.pss, err = benchproc.Memory(p.pid())
	return r, err
}

// highestRate searches the highest dnsperf -Q rate answered with a loss
// under o.maxLoss and at 97% of the rate or more (a server that falls
// behind makes dnsperf send less, as its outstanding queries are capped):
// doubling from o.rate until a rate fails, then halving the interval
// four times. It returns the rate and the answers per second got at it.
func highestRate(ctx context.Context, port int, queries string, o options) (rate, answered float64, err error) {
	good, bad := 0.0, 0.0
	try := func(rate int) (bool, error) {
		p, err := dnsperf(ctx, port, queries, rate, o.step)
		if err != nil {
			return false, err
		}
		ok := p.lossRatio() < o.maxLoss && p.rate >= 0.97*float64(rate)
		progress("  -Q %d: sent %d, lost %d (%.3f%%), %.0f answers/s", rate, p.sent, p.lost, 100*p.lossRatio(), p.rate)
		if ok {
			answered = p.rate
		}
		return ok, nil
	}
	for r := o.rate; ; r *= 2 {
		ok, err := try(r)
		if err != nil {
			return 0, 0, err
		}
		if !ok {
			bad = float64(r)
			break
		}
		good = float64(r)
	}
	for range 4 {
		mid := (good + bad) / 2
		ok, err := try(int(mid))
		if err != nil {
			return 0, 0, err
		}
		if ok {
			good = mid
		} else {
			bad = mid
		}
	}
	return good, answered, nil
}

// bigMemory loads the big zone into s, answers the query file for a
// moment (so that caches fill as they would), and reads its memory.
func bigMemory(ctx context.Context, s server, f *fixture, queries string) (rss, pss int64, err error) {
	p, err := startServer(ctx, s, f)
	if err != nil {
		return 0, 0, err
	}
	defer p.stop()
	if _, err := dnsperf(ctx, p.port, queries, 20000, 2*time.Second); err != nil {
		return 0, 0, err
	}
	return benchproc.Memory(p.pid())
}

func medianResult(rs []result) result {
	med := func(f func(r result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	r := rs[0]
	r.cpuPerQuery = med(func(r result) float64 { return r.cpuPerQuery })
	r.completedRate = med(func(r result) float64 { return r.completedRate })
	r.maxRate = med(func(r result) float64 { return r.maxRate })
	r.rss = int64(med(func(r result) float64 { return float64(r.rss) }))
	r.pss = int64(med(func(r result) float64 { return float64(r.pss) }))
	r.allocsPerQuery = med(func(r result) float64 { return r.allocsPerQuery })
	r.maxAnswered = med(func(r result) float64 { return r.maxAnswered })
	return r
}

func printTable(out io.Writer, o options, servers []server, rs []result, f *fixture, load0, load1 string) {
	fmt.Fprintf(out, "quercus DNS serving, %s, %s/%s, %d cores, %s\n", time.Now().UTC().Format("2006-01-02"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	fmt.Fprintf(out, "peers: %s; %s; %s\n", version("knotd", "-V"), version("nsd", "-v"), version("dnsperf", "-h"))
	fmt.Fprintf(out, "zone: %d names; queries: %d lines (6/10 data or CNAME chain, 1/10 NODATA, 2/10 NXDOMAIN, 1/10 upper case), EDNS; %d run(s), medians\n", f.names, f.lines, o.reps)
	fmt.Fprintf(out, "each server pinned to CPU 1, dnsperf to CPU 0; load average %s at start, %s at end\n\n", load0, load1)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "figure\tunit")
	for _, s := range servers {
		fmt.Fprintf(tw, "\t%s", s.name)
	}
	fmt.Fprint(tw, "\tbest peer\tours/best\tbetter\n")
	row := func(name, unit string, lower bool, v func(r result) float64, format func(float64) string) {
		fmt.Fprintf(tw, "%s\t%s", name, unit)
		best, bestName := 0.0, ""
		for i, s := range servers {
			x := v(rs[i])
			fmt.Fprintf(tw, "\t%s", format(x))
			if s.peer && x > 0 && (bestName == "" || (lower && x < best) || (!lower && x > best)) {
				best, bestName = x, s.name
			}
		}
		better := map[bool]string{true: "lower", false: "higher"}[lower]
		if bestName == "" {
			fmt.Fprintf(tw, "\t-\t-\t%s\n", better)
			return
		}
		fmt.Fprintf(tw, "\t%s\t%.2f\t%s\n", bestName, v(rs[0])/best, better)
	}
	num := func(x float64) string { return fmt.Sprintf("%.1f", x) }
	rate := func(x float64) string { return fmt.Sprintf("%.0f", x) }
	mib := func(x float64) string { return fmt.Sprintf("%.1f", x/(1<<20)) }
	row(fmt.Sprintf("server CPU per query at %d q/s", o.rate), "µs", true, func(r result) float64 { return r.cpuPerQuery }, num)
	row(fmt.Sprintf("answers per second at %d q/s", o.rate), "1/s", false, func(r result) float64 { return r.completedRate }, rate)
	if o.search {
		row(fmt.Sprintf("highest rate with < %.1f%% loss", 100*o.maxLoss), "q/s", false, func(r result) float64 { return r.maxRate }, rate)
		row("answers per second at that rate", "1/s", false, func(r result) float64 { return r.maxAnswered }, rate)
	}
	row(fmt.Sprintf("VmRSS after the runs, %d names", f.names), "MiB", true, func(r result) float64 { return float64(r.rss) }, mib)
	row(fmt.Sprintf("PSS after the runs, %d names", f.names), "MiB", true, func(r result) float64 { return float64(r.pss) }, mib)
	if o.big > 0 {
		row(fmt.Sprintf("VmRSS after load, %d names", o.big), "MiB", true, func(r result) float64 { return float64(r.bigRSS) }, mib)
		row(fmt.Sprintf("PSS after load, %d names", o.big), "MiB", true, func(r result) float64 { return float64(r.bigPSS) }, mib)
	}
	tw.Flush()
	fmt.Fprintf(out, "\nGo heap allocations per query (whole dns-primary process, go_memstats_mallocs_total):")
	for i, s := range servers {
		if rs[i].allocsPerQuery >= 0 {
			fmt.Fprintf(out, " %s %.3f", s.name, rs[i].allocsPerQuery)
		}
	}
	fmt.Fprintln(out)
}

func version(name string, flag string) string {
	b, _ := exec.Command(name, flag).CombinedOutput()
	for line := range strings.Lines(string(b)) {
		if l := strings.TrimSpace(line); strings.Contains(strings.ToLower(l), "version") {
			return l
		}
	}
	return name + " (version unknown)"
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}
