package service_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quercus-dev/quercus/service"
)

func TestParseEnvAndFlags(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		env       map[string]string
		wantHTTP  string
		wantLevel string
	}{
		{"defaults", nil, nil, "127.0.0.1:9100", "info"},
		{"env", nil, map[string]string{"QUERCUS_HTTP": ":9999", "QUERCUS_LOG_LEVEL": "debug"}, ":9999", "debug"},
		{"flag beats env", []string{"--http", ":1"}, map[string]string{"QUERCUS_HTTP": ":9999"}, ":1", "info"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("svc", flag.ContinueOnError)
			var f service.Flags
			f.Register(fs, service.Flags{HTTP: "127.0.0.1:9100"})
			if err := service.Parse(fs, tc.args, func(k string) string { return tc.env[k] }); err != nil {
				t.Fatal(err)
			}
			if f.HTTP != tc.wantHTTP || f.LogLevel != tc.wantLevel {
				t.Errorf("http %q level %q, want %q %q", f.HTTP, f.LogLevel, tc.wantHTTP, tc.wantLevel)
			}
		})
	}
}

func TestParseRejectsBadEnv(t *testing.T) {
	fs := flag.NewFlagSet("svc", flag.ContinueOnError)
	fs.Int("workers", 1, "")
	err := service.Parse(fs, nil, func(k string) string {
		if k == "QUERCUS_WORKERS" {
			return "many"
		}
		return ""
	})
	if err == nil || !strings.Contains(err.Error(), "QUERCUS_WORKERS") {
		t.Fatalf("bad env value: %v", err)
	}
}

func TestHelpListsEveryFlagWithDefaultAndEnv(t *testing.T) {
	fs := flag.NewFlagSet("svc", flag.ContinueOnError)
	var out bytes.Buffer
	fs.SetOutput(&out)
	var f service.Flags
	f.Register(fs, service.Flags{Listen: "127.0.0.1:5353"})
	if err := service.Parse(fs, []string{"--help"}, func(string) string { return "" }, "a note"); err != flag.ErrHelp {
		t.Fatalf("--help: %v", err)
	}
	for _, want := range []string{"--listen", `"127.0.0.1:5353"`, "QUERCUS_LISTEN", "--remote", "--syslog", "--influx", "QUERCUS_LOG_LEVEL", "--ssh-known-hosts", "QUERCUS_GIT_TOKEN", "QUERCUS_SSH_KEY_PASSPHRASE", "a note"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, out.String())
		}
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// syncBuffer is a log sink the test reads while the service writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRunSidePortAndShutdown(t *testing.T) {
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := make(chan *service.Chassis)
	done := make(chan error)
	go func() {
		done <- service.Run(ctx, service.Config{
			Name:   "test",
			Flags:  service.Flags{HTTP: "127.0.0.1:0", LogFormat: "json", LogLevel: "info"},
			Stderr: &logs,
		}, func(ctx context.Context, c *service.Chassis) error {
			n := prometheus.NewCounter(prometheus.CounterOpts{Name: "quercus_test_things_total", Help: "things"})
			c.Registry.MustRegister(n)
			n.Add(3)
			started <- c
			<-ctx.Done()
			return nil
		})
	}()
	var c *service.Chassis
	select {
	case c = <-started:
	case err := <-done:
		t.Fatalf("Run returned before serving: %v", err)
	}
	base := "http://" + c.HTTPAddr.String()
	if code, _ := get(t, base+"/healthz"); code != 200 {
		t.Errorf("/healthz = %d", code)
	}
	if code, _ := get(t, base+"/readyz"); code != 503 {
		t.Errorf("/readyz before ready = %d, want 503", code)
	}
	c.SetReady(true)
	if code, _ := get(t, base+"/readyz"); code != 200 {
		t.Errorf("/readyz when ready = %d, want 200", code)
	}
	_, metrics := get(t, base+"/metrics")
	for _, want := range []string{"quercus_test_things_total 3", "go_goroutines", "process_resident_memory_bytes"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if _, err := net.Dial("tcp", c.HTTPAddr.String()); err == nil {
		t.Error("side port still open after shutdown")
	}
	if !strings.Contains(logs.String(), `"msg":"http side port listening"`) {
		t.Errorf("no JSON log line about the side port:\n%s", logs.String())
	}
}

func TestRunStopsOnSignal(t *testing.T) {
	done := make(chan error)
	started := make(chan struct{})
	go func() {
		done <- service.Run(context.Background(), service.Config{
			Name:    "test",
			Stderr:  io.Discard,
			Signals: []os.Signal{syscall.SIGUSR1},
		}, func(ctx context.Context, c *service.Chassis) error {
			close(started)
			<-ctx.Done()
			return ctx.Err()
		})
	}()
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("Run returned before serving: %v", err)
	}
	syscall.Kill(os.Getpid(), syscall.SIGUSR1)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after signal: %v, want a clean stop", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop on the signal")
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	serve := func(context.Context, *service.Chassis) error { t.Error("served despite bad flags"); return nil }
	for _, f := range []service.Flags{
		{LogLevel: "loud"},
		{LogFormat: "xml"},
		{HTTP: "127.0.0.1:notaport"},
		{Syslog: "carrier-pigeon://x"},
		{Influx: "gopher://x"},
	} {
		if err := service.Run(context.Background(), service.Config{Name: "t", Flags: f, Stderr: io.Discard}, serve); err == nil {
			t.Errorf("Run with %+v succeeded", f)
		}
	}
}

func TestRunLogsToSyslog(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	err = service.Run(context.Background(), service.Config{
		Name:  "quercus-test",
		Flags: service.Flags{Syslog: "udp://" + pc.LocalAddr().String()},
	}, func(ctx context.Context, c *service.Chassis) error {
		c.Logger.Warn("zone rejected", "zone", "example.org")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatalf("no syslog message arrived: %v", err)
		}
		msg := string(buf[:n])
		if strings.Contains(msg, "zone rejected") {
			// <28> is facility daemon (3) at severity warning (4).
			if !strings.HasPrefix(msg, "<28>1 ") || !strings.Contains(msg, " quercus-test ") || !strings.Contains(msg, `zone="example.org"`) {
				t.Errorf("syslog message %q", msg)
			}
			return
		}
	}
}

// TestSecondSignalStopsAtOnce runs this test binary again as a service
// whose serve never returns; the first SIGTERM starts a graceful stop, the
// second must end the process.
func TestSecondSignalStopsAtOnce(t *testing.T) {
	if os.Getenv("QUERCUS_TEST_STUCK_SERVICE") == "1" {
		service.Run(context.Background(), service.Config{Name: "stuck", ShutdownTimeout: time.Hour},
			func(ctx context.Context, c *service.Chassis) error {
				fmt.Println("serving")
				select {} // ignores ctx, as a long load would
			})
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSecondSignalStopsAtOnce$")
	cmd.Env = append(os.Environ(), "QUERCUS_TEST_STUCK_SERVICE=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := bufio.NewReader(out).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		t.Fatalf("the first signal ended the process (%v); it should wait for serve", err)
	case <-time.After(300 * time.Millisecond):
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM {
			t.Errorf("process ended with %v, want killed by SIGTERM", err)
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the second signal did not stop the process")
	}
}
