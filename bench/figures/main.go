// Command figures measures quercus beside the programs it must beat, in
// one run, and prints one table: each figure for quercus, the same figure
// for a peer measured in the same run, and their ratio. bench/README.md
// describes the method; `make bench` runs it.
//
//	QUERCUS_INTEROP=1 go run ./bench/figures
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
	"syscall"
	"text/tabwriter"
	"time"
)

type options struct {
	small, big     int           // records of the two zones
	bigZones       int           // zones the big one is split into
	reps, bigReps  int           // repetitions of each timing (big: the big zone)
	files          int           // files in the open figure
	updates        int           // updates of the concurrent update figure
	batchTime      time.Duration // length of one round-trip timing
	timeout        time.Duration
	binary, goTool string
	work           string
	loadStart      string
}

func main() {
	var o options
	flag.IntVar(&o.small, "small", 10_000, "records in the small zone (start-up figure)")
	flag.IntVar(&o.big, "big", 1_000_000, "records in the big zone set (load and memory figures); 0: skip")
	flag.IntVar(&o.bigZones, "big-zones", 1, "zones the big records are split into")
	flag.IntVar(&o.reps, "reps", 5, "repetitions of each timing; the median is reported")
	flag.IntVar(&o.bigReps, "big-reps", 3, "repetitions of the big-zone timings")
	flag.IntVar(&o.files, "files", 10_000, "files in the repository of the open figure")
	flag.IntVar(&o.updates, "updates", 200, "updates sent by the concurrent clients of the update figure; 0: skip")
	flag.DurationVar(&o.batchTime, "batch-time", 3*time.Second, "length of each timing of the batch figure (at least 5 round-trips)")
	flag.DurationVar(&o.timeout, "timeout", 2*time.Minute, "longest wait for a server's first answer")
	flag.StringVar(&o.binary, "dns-primary", "", "dns-primary binary (empty: build ./cmd/dns-primary as `make build` does)")
	flag.StringVar(&o.goTool, "go", "go", "go command used to build dns-primary")
	flag.StringVar(&o.work, "work", "", "folder for generated repositories (empty: a temporary one, removed at the end)")
	flag.Parse()
	o.loadStart = loadAvg()
	// On an interrupt, stop the server being measured before exiting: it
	// runs in its own process group, out of reach of the terminal.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "figures:", err)
		os.Exit(1)
	}
}

// row is one line of the table: a figure for quercus beside one peer.
type row struct {
	figure, unit string
	higherBetter bool
	n            int
	ours         float64
	peer         string
	theirs       float64
}

func run(ctx context.Context, o options, out io.Writer) error {
	interop := os.Getenv("QUERCUS_INTEROP") == "1"
	var notes []string
	need := func(program string) (string, bool, error) {
		path, err := lookPath(program)
		if err == nil {
			return path, true, nil
		}
		if interop {
			return "", false, fmt.Errorf("QUERCUS_INTEROP=1 but peer %s is missing (make peers installs it)", program)
		}
		notes = append(notes, fmt.Sprintf("skipped %s: not installed (set QUERCUS_INTEROP=1 to require it)", program))
		return "", false, nil
	}
	if _, ok, err := need("git"); err != nil || !ok {
		return errors.Join(err, errors.New("git is needed to build the repositories"))
	}

	work := o.work
	if work == "" {
		dir, err := os.MkdirTemp("", "quercus-figures-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		work = dir
	}
	binary := o.binary
	if binary == "" {
		binary = filepath.Join(work, "dns-primary")
		progress("building dns-primary")
		cmd := exec.Command(o.goTool, "build", "-trimpath", "-ldflags=-s -w -buildid=", "-o", binary, "github.com/quercus-dev/quercus/cmd/dns-primary")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build dns-primary: %v\n%s", err, b)
		}
	}

	servers := []dnsServer{quercusServer(binary)}
	for _, p := range []struct {
		program string
		server  func(string) dnsServer
	}{{"knotd", knotServer}, {"nsd", nsdServer}} {
		path, ok, err := need(p.program)
		if err != nil {
			return err
		}
		if ok {
			servers = append(servers, p.server(path))
		}
	}

	var rows []row
	var zoneNotes []string
	for _, size := range []struct {
		records, zones, reps int
		figure               string
	}{{o.small, 1, o.reps, "start-up to first answer"}, {o.big, o.bigZones, o.bigReps, "load to first answer"}} {
		if size.records <= 0 {
			continue
		}
		progress("generating %d records in %d zones", size.records, size.zones)
		z, err := makeZones(work, size.records, size.zones)
		if err != nil {
			return err
		}
		what := fmt.Sprintf("%s records", short(size.records))
		if size.zones > 1 {
			what += fmt.Sprintf(" in %d zones", size.zones)
		}
		zoneNotes = append(zoneNotes, fmt.Sprintf("%s (%.1f MiB of zone files)", what, float64(z.bytes)/(1<<20)))
		runs := map[string][]dnsRun{}
		// Interleave the servers, so that drift in the machine's load
		// spreads over all of them.
		for rep := 1; rep <= size.reps; rep++ {
			for _, s := range servers {
				progress("%s, %d records, run %d/%d", s.name, size.records, rep, size.reps)
				r, err := measureStart(ctx, s, z, o.timeout)
				if err != nil {
					return err
				}
				runs[s.name] = append(runs[s.name], r)
			}
		}
		label := fmt.Sprintf("%s, %s", size.figure, what)
		memLabel := fmt.Sprintf("memory after load, %s", what)
		med := func(name string, f func(dnsRun) float64) float64 {
			var v []float64
			for _, r := range runs[name] {
				v = append(v, f(r))
			}
			return median(v)
		}
		for _, fig := range []struct {
			label, unit string
			f           func(dnsRun) float64
		}{
			{label, "ms", func(r dnsRun) float64 { return float64(r.firstAnswer) / float64(time.Millisecond) }},
			{memLabel + ": VmRSS, all processes", "MiB", func(r dnsRun) float64 { return float64(r.rss) / (1 << 20) }},
			{memLabel + ": PSS, all processes", "MiB", func(r dnsRun) float64 { return float64(r.pss) / (1 << 20) }},
		} {
			for _, s := range servers[1:] {
				rows = append(rows, row{fig.label, fig.unit, false, size.reps, med("quercus", fig.f), s.name, med(s.name, fig.f)})
			}
		}
		z.remove()
	}
	// Dynamic updates, beside knotd.
	if o.updates > 0 && len(servers) > 1 && servers[1].name == "knotd" {
		f, err := makeUpdateFixture(work)
		if err != nil {
			return err
		}
		knotd, _ := lookPath("knotd")
		starts := []struct {
			name  string
			start func(dir string, port int) (*exec.Cmd, error)
		}{
			{"quercus", func(dir string, port int) (*exec.Cmd, error) { return quercusUpdates(binary, f, dir, port) }},
			{"knotd", func(dir string, port int) (*exec.Cmd, error) { return knotUpdates(knotd, f, dir, port) }},
		}
		runs := map[string][]updateRun{}
		for rep := 1; rep <= o.reps; rep++ {
			for _, st := range starts {
				progress("%s, dynamic updates, run %d/%d", st.name, rep, o.reps)
				r, err := measureUpdates(ctx, st.name, st.start, f, 20, o.updates)
				if err != nil {
					return err
				}
				runs[st.name] = append(runs[st.name], r)
			}
		}
		med := func(name string, f func(updateRun) float64) float64 {
			var v []float64
			for _, r := range runs[name] {
				v = append(v, f(r))
			}
			return median(v)
		}
		lat := func(r updateRun) float64 { return float64(r.latency) / float64(time.Millisecond) }
		rate := func(r updateRun) float64 { return r.rate }
		rows = append(rows,
			row{fmt.Sprintf("one signed update, sent to answered (%s-record zone)", short(updRecords)), "ms", false, o.reps, med("quercus", lat), "knotd", med("knotd", lat)},
			row{fmt.Sprintf("acknowledged updates, %d clients over TCP", updClients), "1/s", true, o.reps, med("quercus", rate), "knotd", med("knotd", rate)},
		)
	}

	// The storage figures of the foundation, beside the git command.
	progress("creating a repository of %d files", o.files)
	filesRepo, err := makeFilesRepo(work, o.files)
	if err != nil {
		return err
	}
	remote := "file://" + filesRepo
	var open, clone, ours, theirs []float64
	for rep := 1; rep <= o.reps; rep++ {
		progress("open and clone of %d files, run %d/%d", o.files, rep, o.reps)
		d, err := openStore(ctx, remote, o.files)
		if err != nil {
			return err
		}
		open = append(open, float64(d)/float64(time.Millisecond))
		if d, err = gitClone(work, remote); err != nil {
			return err
		}
		clone = append(clone, float64(d)/float64(time.Millisecond))
	}
	for rep := 1; rep <= o.reps; rep++ {
		progress("batch round-trips for %v each, run %d/%d", o.batchTime, rep, o.reps)
		r, err := kvBatches(ctx, work, o.batchTime)
		if err != nil {
			return err
		}
		ours = append(ours, r)
		if r, err = gitBatches(work, o.batchTime); err != nil {
			return err
		}
		theirs = append(theirs, r)
	}
	rows = append(rows,
		row{fmt.Sprintf("open a store of %s files (kv/git Open vs git clone --bare)", short(o.files)), "ms", false, o.reps, median(open), "git", median(clone)},
		row{"Batch of one file, commit + push (kv/git vs git commit -a + git push)", "1/s", true, o.reps, median(ours), "git", median(theirs)},
	)

	printHeader(out, servers, zoneNotes, o)
	printTable(out, rows)
	for _, n := range notes {
		fmt.Fprintln(out, "note:", n)
	}
	return nil
}

func printHeader(out io.Writer, servers []dnsServer, zones []string, o options) {
	fmt.Fprintf(out, "quercus figures, %s, %s/%s, %d cores, %s\n",
		time.Now().UTC().Format("2006-01-02"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	var peers []string
	for _, s := range servers[1:] {
		peers = append(peers, version(s.name))
	}
	peers = append(peers, version("git"))
	fmt.Fprintf(out, "peers: %s\n", strings.Join(peers, "; "))
	fmt.Fprintf(out, "zones: %s; load average %s at start, %s at end\n", strings.Join(zones, "; "), o.loadStart, loadAvg())
	fmt.Fprintf(out, "each figure is the median of n runs; ours/peer < 1 is better for ms and MiB, > 1 for 1/s\n\n")
}

func printTable(out io.Writer, rows []row) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\tunit\tn\tquercus\tpeer\tpeer value\tours/peer\tbetter")
	for _, r := range rows {
		better := "lower"
		if r.higherBetter {
			better = "higher"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%.2f\t%s\n", r.figure, r.unit, r.n, num(r.ours), r.peer, num(r.theirs), r.ours/r.theirs, better)
	}
	tw.Flush()
}

// version is the first line a peer prints about its version.
func version(name string) string {
	args := map[string][]string{"knotd": {"--version"}, "nsd": {"-v"}, "git": {"--version"}}[name]
	path, err := lookPath(name)
	if err != nil {
		return name + " (?)"
	}
	b, _ := exec.Command(path, args...).CombinedOutput()
	line, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return line
}

func num(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// short writes 10000 as 10k and 1000000 as 1M.
func short(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

// loadAvg is the one-minute load average: other work on the machine
// skews every figure.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f, _, _ := strings.Cut(string(b), " ")
	return f
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

var began = time.Now()

// progress tells stderr what is being measured, and since when the run began.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "# %5.1fs "+format+"\n", append([]any{time.Since(began).Seconds()}, args...)...)
}

// lookPath also searches the sbin folders, which are not on every PATH.
func lookPath(p string) (string, error) {
	if path, err := exec.LookPath(p); err == nil {
		return path, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		path := filepath.Join(dir, p)
		if fi, err := os.Stat(path); err == nil && fi.Mode()&0o111 != 0 {
			return path, nil
		}
	}
	return exec.LookPath(p)
}
