package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/bench/internal/benchproc"
	"github.com/quercus-dev/quercus/dns/tsig"
)

const (
	updOrigin  = "upd.example."
	updRecords = 1000
	updClients = 16
)

// updateRun is what one server measured: the latency of lone updates and
// the rate of acknowledged updates under many clients.
type updateRun struct {
	latency time.Duration // median of sequential updates
	rate    float64       // acknowledged updates per second, updClients at once
}

// updateFixture is a zone and a key with update rights, given to quercus
// as a repository and to knotd as a file and a configuration.
type updateFixture struct {
	zoneFile, repo, probe string
	key                   tsig.Key
}

func makeUpdateFixture(dir string) (*updateFixture, error) {
	key, err := tsig.Generate("bench._update."+updOrigin, dns.HmacSHA256, nil)
	if err != nil {
		return nil, err
	}
	var zone bytes.Buffer
	probe, err := writeZone(&zone, updOrigin, updRecords)
	if err != nil {
		return nil, err
	}
	f := &updateFixture{zoneFile: filepath.Join(dir, "upd.zone"), repo: filepath.Join(dir, "upd.git"), probe: probe, key: key}
	if err := os.WriteFile(f.zoneFile, zone.Bytes(), 0o644); err != nil {
		return nil, err
	}
	if err := gitInitBare(f.repo); err != nil {
		return nil, err
	}
	keys := key.Record() + "\n"
	var in bytes.Buffer
	fmt.Fprintf(&in, "commit refs/heads/main\ncommitter Bench <bench@example.org> 1700000000 +0000\ndata 7\nupdates\n")
	fmt.Fprintf(&in, "M 100644 inline %s\ndata %d\n%s\n", strings.TrimSuffix(updOrigin, "."), zone.Len(), zone.Bytes())
	fmt.Fprintf(&in, "M 100644 inline %s_keys\ndata %d\n%s\n", updOrigin, len(keys), keys)
	return f, gitImport(f.repo, &in)
}

// quercusUpdates serves a fresh clone of the fixture's repository (the
// runs before must not have added the records already); every update is
// a commit pushed to it before the answer.
func quercusUpdates(binary string, f *updateFixture, dir string, port int) (*exec.Cmd, error) {
	repo := filepath.Join(dir, "upd.git")
	if err := runCmd("", "git", "clone", "--bare", "--quiet", f.repo, repo); err != nil {
		return nil, err
	}
	return exec.Command(binary, "--remote", repo, "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--http", "", "--log-level", "warn"), nil
}

// knotUpdates serves a copy of the zone file with knotd's defaults for
// durability: changes in its journal, the zone file written at once.
func knotUpdates(binary string, f *updateFixture, dir string, port int) (*exec.Cmd, error) {
	file := filepath.Join(dir, "upd.zone")
	src, err := os.ReadFile(f.zoneFile)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(file, src, 0o644); err != nil {
		return nil, err
	}
	return knotCommand(binary, dir, port, fmt.Sprintf(`key:
  - id: %[1]s
    algorithm: hmac-sha256
    secret: %[2]s
acl:
  - id: update
    key: %[1]s
    action: update
zone:
  - domain: %[3]s
    storage: "%[4]s"
    file: "%[5]s"
    acl: update
`, f.key.Name, f.key.Secret, updOrigin, dir, file))
}

// measureUpdates starts a server, waits for it to answer, then times
// sequential updates and the rate under updClients concurrent clients.
func measureUpdates(ctx context.Context, name string, start func(dir string, port int) (*exec.Cmd, error), f *updateFixture, sequential, concurrent int) (updateRun, error) {
	dir, err := os.MkdirTemp("", "quercus-bench-upd-"+name+"-")
	if err != nil {
		return updateRun{}, err
	}
	defer os.RemoveAll(dir)
	port, err := benchproc.FreePort()
	if err != nil {
		return updateRun{}, err
	}
	cmd, err := start(dir, port)
	if err != nil {
		return updateRun{}, err
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return updateRun{}, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer stop(cmd, exited)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	want, err := dns.NewRR(f.probe)
	if err != nil {
		return updateRun{}, err
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := firstAnswers(wctx, addr, []dns.RR{want}, exited); err != nil {
		return updateRun{}, fmt.Errorf("%s: %v\n%s", name, err, out.String())
	}

	var lat []float64
	for i := range sequential {
		t0 := time.Now()
		if err := sendUpdate(addr, f.key, fmt.Sprintf("seq%d.%s", i, updOrigin)); err != nil {
			return updateRun{}, fmt.Errorf("%s: %v\n%s", name, err, out.String())
		}
		lat = append(lat, float64(time.Since(t0)))
	}
	sort.Float64s(lat)
	run := updateRun{latency: time.Duration(median(lat))}

	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	t0 := time.Now()
	for range updClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(concurrent) {
					return
				}
				if err := sendUpdate(addr, f.key, fmt.Sprintf("con%d.%s", i, updOrigin)); err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		return updateRun{}, fmt.Errorf("%s under %d clients: %v\n%s", name, updClients, err, out.String())
	}
	run.rate = float64(concurrent) / time.Since(t0).Seconds()
	return run, nil
}

// sendUpdate adds one A record with a signed UPDATE over TCP; only an
// acknowledged update counts.
func sendUpdate(addr string, key tsig.Key, name string) error {
	kr := tsig.NewKeyring(key)
	p := &tsig.Provider{Keys: func() *tsig.Keyring { return kr }}
	m := new(dns.Msg)
	m.SetUpdate(updOrigin)
	rr, err := dns.NewRR(name + " 300 IN A 192.0.2.1")
	if err != nil {
		return err
	}
	m.Insert([]dns.RR{rr})
	if err := p.SignRequest(m, key.Name); err != nil {
		return err
	}
	c := &dns.Client{Net: "tcp", TsigProvider: p, Timeout: 30 * time.Second}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		return err
	}
	if r.Rcode != dns.RcodeSuccess {
		return fmt.Errorf("update %s: %s", name, dns.RcodeToString[r.Rcode])
	}
	return nil
}
