// Command caldav measures the caldav service beside Radicale and Xandikos
// in one run, on the same calendar of generated events, and prints one
// table: PUTs per second, a one-month time-range calendar-query, a
// calendar-multiget of 100 events, an incremental sync after 10 changes,
// and resident memory (VmRSS) a second after the server first answers and
// at once after the last PUT. Each server gets the same calendar preloaded into
// its own storage (a git repository for caldav and Xandikos, Radicale's
// folder layout), so loading is not timed.
//
//	go run ./bench/caldav [-events 10000]
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/quercus-dev/quercus/caldav/users"
)

type options struct {
	events, puts, reps int
	goTool, work       string
	servers            string
	cmd, pprof         string
}

func main() {
	var o options
	flag.IntVar(&o.events, "events", 10_000, "events in the calendar")
	flag.IntVar(&o.puts, "puts", 200, "PUTs timed for the PUT rate")
	flag.IntVar(&o.reps, "reps", 5, "repetitions of each query timing; the median is reported")
	flag.StringVar(&o.goTool, "go", "go", "go command used to build cmd/caldav")
	flag.StringVar(&o.servers, "servers", "caldav,radicale,xandikos", "the servers to measure")
	flag.StringVar(&o.cmd, "cmd", "./cmd/caldav", "package of the caldav command to build")
	flag.StringVar(&o.pprof, "pprof", "", "with a -cmd that serves net/http/pprof on $PPROF_ADDR: that address; a CPU profile of the PUTs and a heap profile at the end are written to the current folder")
	flag.StringVar(&o.work, "work", "", "folder for the servers' storage (empty: a temporary one, removed at the end)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench/caldav:", err)
		os.Exit(1)
	}
}

// server is one CalDAV server under test.
type server struct {
	name     string
	calendar string // URL of the calendar collection
	cmd      *exec.Cmd
}

// figures are one server's results.
type figures struct {
	putRate                   float64 // PUTs per second
	query, multiget, syncTime time.Duration
	queryHits                 int
	rssStart, rss             int64
}

func run(o options) error {
	work := o.work
	if work == "" {
		d, err := os.MkdirTemp("", "bench-caldav-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		work = d
	}
	load := loadAvg()
	bin := filepath.Join(work, "caldav")
	build := exec.Command(o.goTool, "build", "-trimpath", "-o", bin, o.cmd)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build: %v\n%s", err, out)
	}
	events := make([]string, o.events)
	for i := range events {
		events[i] = event(i, 0)
	}
	starts := map[string]func(string, []string) (*server, error){
		"caldav":   func(dir string, ev []string) (*server, error) { return startQuercus(bin, dir, ev) },
		"radicale": startRadicale,
		"xandikos": startXandikos,
	}
	var names []string
	var results []figures
	for i, name := range strings.Split(o.servers, ",") {
		start, ok := starts[name]
		if !ok {
			return fmt.Errorf("unknown server %q", name)
		}
		dir := filepath.Join(work, strconv.Itoa(i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		s, err := start(dir, events)
		if err != nil {
			return err
		}
		f, err := measure(s, o)
		s.cmd.Process.Kill()
		s.cmd.Wait()
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		names = append(names, s.name)
		results = append(results, f)
	}
	fmt.Printf("CalDAV figures, %d events, %d reps (median); load average at start %s, at end %s\n\n", o.events, o.reps, load, loadAvg())
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "figure\tunit\t%s\t\n", strings.Join(names, "\t"))
	row := func(label, unit string, v func(figures) string) {
		cells := []string{label, unit}
		for _, f := range results {
			cells = append(cells, v(f))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }
	row("PUT (sequential, new events)", "1/s", func(f figures) string { return fmt.Sprintf("%.2f", f.putRate) })
	row("calendar-query, one month", "ms", func(f figures) string { return ms(f.query) })
	row("  events it returned", "", func(f figures) string { return strconv.Itoa(f.queryHits) })
	row("calendar-multiget, 100 events", "ms", func(f figures) string { return ms(f.multiget) })
	row("sync-collection after 10 changes", "ms", func(f figures) string { return ms(f.syncTime) })
	row("resident memory after start (VmRSS)", "MiB", func(f figures) string { return fmt.Sprintf("%.1f", float64(f.rssStart)/(1<<20)) })
	row("resident memory at the end (VmRSS)", "MiB", func(f figures) string { return fmt.Sprintf("%.1f", float64(f.rss)/(1<<20)) })
	return tw.Flush()
}

// event is the i-th generated event, version v: spread over 2026, one
// hour, every 20th one weekly for 10 weeks.
func event(i, v int) string {
	start := time.Date(2026, 1, 1, 8+i%9, 0, 0, 0, time.UTC).Add(time.Duration(i%365) * 24 * time.Hour)
	var b strings.Builder
	fmt.Fprintf(&b, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//quercus//bench//EN\r\nBEGIN:VEVENT\r\nUID:bench-%d\r\n", i)
	fmt.Fprintf(&b, "DTSTAMP:20260101T000000Z\r\nDTSTART:%s\r\nDTEND:%s\r\n", start.Format("20060102T150405Z"), start.Add(time.Hour).Format("20060102T150405Z"))
	if i%20 == 0 {
		b.WriteString("RRULE:FREQ=WEEKLY;COUNT=10\r\n")
	}
	fmt.Fprintf(&b, "SUMMARY:Event %d (version %d)\r\nDESCRIPTION:Generated for the CalDAV benchmark; some text so the object has a realistic size.\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", i, v)
	return b.String()
}

const user, password = "bench", "bench-password"

func git(dir string, args ...string) error {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=bench", "GIT_AUTHOR_EMAIL=bench@invalid", "GIT_COMMITTER_NAME=bench", "GIT_COMMITTER_EMAIL=bench@invalid")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

func writeEvents(dir string, events []string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i, e := range events {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("bench-%d.ics", i)), []byte(e), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// startQuercus writes the calendar and the user into a git repository
// with the git command, pushes it to a bare remote and serves it.
func startQuercus(bin, dir string, events []string) (*server, error) {
	tree := filepath.Join(dir, "tree")
	cal := filepath.Join(tree, "calendars", user, "calendar")
	if err := writeEvents(cal, events); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(cal, ".props.json"), []byte(`{"calendar": true}`+"\n"), 0o644); err != nil {
		return nil, err
	}
	os.MkdirAll(filepath.Join(tree, "users"), 0o755)
	hash, err := users.Hash(password)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(tree, "users", user+".json"), []byte(`{"password": "`+hash+`"}`+"\n"), 0o644); err != nil {
		return nil, err
	}
	remote := filepath.Join(dir, "remote.git")
	for _, args := range [][]string{{"init", "-q", "--initial-branch=main"}, {"add", "-A"}, {"commit", "-q", "-m", "bench calendar"},
		{"init", "-q", "--bare", "--initial-branch=main", remote}, {"push", "-q", remote, "main"}} {
		if err := git(tree, args...); err != nil {
			return nil, err
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(bin, "--remote", remote, "--listen", addr, "--http", "", "--log-level", "warn")
	return start("caldav", cmd, "http://"+addr+"/calendars/"+user+"/calendar/")
}

func startRadicale(dir string, events []string) (*server, error) {
	cal := filepath.Join(dir, "collection-root", user, "calendar")
	if err := writeEvents(cal, events); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(cal, ".Radicale.props"), []byte(`{"tag": "VCALENDAR"}`), 0o644); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "radicale.conf")
	text := fmt.Sprintf("[server]\nhosts = 127.0.0.1:%d\n[auth]\ntype = none\n[storage]\nfilesystem_folder = %s\n[logging]\nlevel = warning\n", port, dir)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command("radicale", "--config", conf)
	return start("radicale", cmd, fmt.Sprintf("http://127.0.0.1:%d/%s/calendar/", port, user))
}

func startXandikos(dir string, events []string) (*server, error) {
	cal := filepath.Join(dir, user, "calendars", "calendar")
	if err := writeEvents(cal, events); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(cal, ".xandikos"), []byte("[DEFAULT]\ntype = calendar\n"), 0o644); err != nil {
		return nil, err
	}
	for _, args := range [][]string{{"init", "-q", "--initial-branch=main"}, {"add", "-A"}, {"commit", "-q", "-m", "bench calendar"}} {
		if err := git(cal, args...); err != nil {
			return nil, err
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("xandikos", "-d", dir, "-l", "127.0.0.1", "-p", strconv.Itoa(port), "--current-user-principal", "/"+user+"/")
	return start("xandikos", cmd, fmt.Sprintf("http://127.0.0.1:%d/%s/calendars/calendar/", port, user))
}

func start(name string, cmd *exec.Cmd, calendar string) (*server, error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	s := &server{name: name, calendar: calendar, cmd: cmd}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		code, _, err := request("PROPFIND", calendar, "", "Depth", "0")
		if err == nil && code == http.StatusMultiStatus {
			return s, nil
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			return nil, fmt.Errorf("%s did not serve %s: %d %v\n%s", name, calendar, code, err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var client = &http.Client{Timeout: 2 * time.Minute}

func request(method, url, body string, hdr ...string) (int, string, error) {
	req, err := http.NewRequestWithContext(context.Background(), method, url, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.SetBasicAuth(user, password)
	if body != "" {
		req.Header.Set("Content-Type", "application/xml; charset=utf-8")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// timed runs fn reps times after one warm-up and returns the median.
func timed(reps int, fn func() error) (time.Duration, error) {
	if err := fn(); err != nil {
		return 0, err
	}
	var ds []time.Duration
	for range reps {
		t := time.Now()
		if err := fn(); err != nil {
			return 0, err
		}
		ds = append(ds, time.Since(t))
	}
	slices.Sort(ds)
	return ds[len(ds)/2], nil
}

const queryBody = `<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
<D:prop><D:getetag/><C:calendar-data/></D:prop>
<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">
<C:time-range start="20260301T000000Z" end="20260401T000000Z"/>
</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`

var responseRE = regexp.MustCompile(`<(?:[A-Za-z0-9]+:)?response[ >]`)

func measure(s *server, o options) (figures, error) {
	var f figures
	var err error
	// After a second: a server may let go of what starting took (caldav
	// frees the 19 MiB of its first argon2id login in the background).
	time.Sleep(time.Second)
	f.rssStart = rss(s.cmd.Process.Pid)
	if o.pprof != "" && s.name == "caldav" {
		if err := profile(o.pprof, "heap", "heap-start.pprof"); err != nil {
			return f, err
		}
	}
	f.query, err = timed(o.reps, func() error {
		code, body, err := request("REPORT", s.calendar, queryBody, "Depth", "1")
		if err != nil || code != http.StatusMultiStatus {
			return fmt.Errorf("calendar-query: %d %v", code, err)
		}
		f.queryHits = len(responseRE.FindAllString(body, -1))
		return nil
	})
	if err != nil {
		return f, err
	}
	var mg strings.Builder
	mg.WriteString(`<?xml version="1.0" encoding="utf-8"?><C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop>`)
	base := s.calendar[strings.Index(s.calendar[len("http://"):], "/")+len("http://"):]
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&mg, "<D:href>%sbench-%d.ics</D:href>", base, i*(o.events/100))
	}
	mg.WriteString(`</C:calendar-multiget>`)
	f.multiget, err = timed(o.reps, func() error {
		code, body, err := request("REPORT", s.calendar, mg.String(), "Depth", "1")
		if err != nil || code != http.StatusMultiStatus || len(responseRE.FindAllString(body, -1)) != 100 {
			return fmt.Errorf("calendar-multiget: %d %v (%d responses)", code, err, len(responseRE.FindAllString(body, -1)))
		}
		return nil
	})
	if err != nil {
		return f, err
	}
	syncBody := func(token string) string {
		return `<?xml version="1.0" encoding="utf-8"?><D:sync-collection xmlns:D="DAV:"><D:sync-token>` + token +
			`</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`
	}
	tokenRE := regexp.MustCompile(`<(?:[A-Za-z0-9]+:)?sync-token>([^<]*)<`)
	code, body, err := request("REPORT", s.calendar, syncBody(""), "Depth", "1")
	if err != nil || code != http.StatusMultiStatus {
		return f, fmt.Errorf("initial sync: %d %v", code, err)
	}
	m := tokenRE.FindStringSubmatch(body)
	if m == nil {
		return f, fmt.Errorf("no sync token in %.200s", body)
	}
	token := m[1]
	var syncs []time.Duration
	for version := 1; version <= o.reps+1; version++ {
		for i := 0; i < 10; i++ {
			n := i * (o.events / 10)
			code, _, err := request("PUT", fmt.Sprintf("%sbench-%d.ics", s.calendar, n), event(n, version), "Content-Type", "text/calendar")
			if err != nil || code/100 != 2 {
				return f, fmt.Errorf("PUT: %d %v", code, err)
			}
		}
		t := time.Now()
		code, body, err := request("REPORT", s.calendar, syncBody(token), "Depth", "1")
		d := time.Since(t)
		if err != nil || code != http.StatusMultiStatus {
			return f, fmt.Errorf("sync: %d %v", code, err)
		}
		if n := len(responseRE.FindAllString(body, -1)); n != 10 {
			return f, fmt.Errorf("sync after 10 changes: %d responses", n)
		}
		m := tokenRE.FindStringSubmatch(body)
		if m == nil {
			return f, fmt.Errorf("no sync token")
		}
		token = m[1]
		if version > 1 { // the first is a warm-up
			syncs = append(syncs, d)
		}
	}
	slices.Sort(syncs)
	f.syncTime = syncs[len(syncs)/2]
	var cpu chan error
	if o.pprof != "" && s.name == "caldav" {
		cpu = make(chan error, 1)
		secs := max(1, int(float64(o.puts)/5))
		go func() { cpu <- profile(o.pprof, fmt.Sprintf("profile?seconds=%d", secs), "cpu.pprof") }()
	}
	t := time.Now()
	for i := 0; i < o.puts; i++ {
		n := o.events + i
		code, _, err := request("PUT", fmt.Sprintf("%sbench-%d.ics", s.calendar, n), event(n, 0), "Content-Type", "text/calendar", "If-None-Match", "*")
		if err != nil || code != http.StatusCreated {
			return f, fmt.Errorf("PUT new: %d %v", code, err)
		}
	}
	f.putRate = float64(o.puts) / time.Since(t).Seconds()
	f.rss = rss(s.cmd.Process.Pid)
	if cpu != nil {
		if err := <-cpu; err != nil {
			return f, err
		}
		if err := profile(o.pprof, "heap?gc=1", "heap.pprof"); err != nil {
			return f, err
		}
		if err := profile(o.pprof, "heap?debug=1", "heap.txt"); err != nil {
			return f, err
		}
	}
	return f, nil
}

// profile saves what the server's net/http/pprof serves at path.
func profile(addr, path, file string) error {
	resp, err := http.Get("http://" + addr + "/debug/pprof/" + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("pprof %s: %d %v", path, resp.StatusCode, err)
	}
	return os.WriteFile(file, b, 0o644)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

// rss is the VmRSS of pid, in bytes.
func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
