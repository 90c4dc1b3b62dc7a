package influx

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     Config
		wantErr string // "" for success
	}{
		{"udp", Config{URL: "udp://127.0.0.1:8094"}, ""},
		{"udp name", Config{URL: "udp://telegraf.example:8094"}, ""},
		{"tcp", Config{URL: "tcp://[::1]:8094"}, ""},
		{"tcp slash", Config{URL: "tcp://[::1]:8094/"}, ""},
		{"http", Config{URL: "http://127.0.0.1:8086/write?db=quercus"}, ""},
		{"https prefix", Config{URL: "https://metrics.example/influx/write?db=q&rp=week"}, ""},
		{"all set", Config{URL: "udp://h:1", Interval: time.Minute, Timeout: time.Second, Tags: map[string]string{"host": "a b"}}, ""},
		{"empty", Config{}, `scheme ""`},
		{"no scheme", Config{URL: "127.0.0.1:8094"}, "bad URL"},
		{"no scheme name", Config{URL: "localhost:8094"}, `scheme "localhost"`},
		{"opaque password", Config{URL: "admin:s3cret@localhost:8094"}, `scheme "admin"`},
		{"bad scheme", Config{URL: "unix:///run/telegraf.sock"}, `scheme "unix"`},
		{"udp no port", Config{URL: "udp://127.0.0.1"}, "want udp://host:port"},
		{"tcp path", Config{URL: "tcp://127.0.0.1:1/write"}, "want tcp://host:port"},
		{"udp query", Config{URL: "udp://127.0.0.1:1?db=x"}, "want udp://host:port"},
		{"http no db", Config{URL: "http://127.0.0.1:8086/write"}, "want http://host:port/write?db=NAME"},
		{"http no write", Config{URL: "http://127.0.0.1:8086/?db=x"}, "want http://host:port/write?db=NAME"},
		{"credentials", Config{URL: "http://admin:s3cret@127.0.0.1:8086/write?db=x"}, "QUERCUS_INFLUX_USERNAME"},
		{"credentials udp", Config{URL: "udp://admin:s3cret@127.0.0.1:8094"}, "holds credentials"},
		{"bad URL", Config{URL: "http://admin:s3cret@[::1/write"}, "bad URL"},
		{"negative", Config{URL: "udp://h:1", Interval: -time.Second}, "negative"},
		{"empty tag", Config{URL: "udp://h:1", Tags: map[string]string{"host": ""}}, "needs a key and a value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(tc.cfg)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				p.Close()
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("New = %v, want an error with %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}

func TestNewPasswordWithoutUser(t *testing.T) {
	t.Setenv(EnvUsername, "")
	t.Setenv(EnvPassword, "pw")
	if _, err := New(Config{URL: "http://h:1/write?db=x"}); err != nil {
		t.Errorf("empty username: %v", err) // set, though empty: allowed
	}
	t.Setenv(EnvUsername, "unset")
	if _, err := New(Config{URL: "udp://h:1"}); err != nil {
		t.Errorf("credentials are for HTTP only: %v", err)
	}
}

func TestNewRegistersOnce(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := New(Config{URL: "udp://h:1", Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{URL: "udp://h:1", Registerer: reg}); err == nil {
		t.Error("a second Pusher on the same registerer: no error")
	}
}

func TestDatagrams(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want []string
	}{
		{"", 10, nil},
		{"a\n", 10, []string{"a\n"}},
		{"aaa\nbbb\nccc\n", 8, []string{"aaa\nbbb\n", "ccc\n"}},
		{"aaa\nbbb\nccc\n", 7, []string{"aaa\n", "bbb\n", "ccc\n"}},
		{"a\nlong line\nb\nc\n", 4, []string{"a\n", "long line\n", "b\nc\n"}},
		{"no newline", 4, []string{"no newline"}},
	} {
		var got []string
		for _, d := range datagrams([]byte(tc.in), tc.max) {
			got = append(got, string(d))
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("datagrams(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

// testRegistry returns a registry with n counters, and the lines Encode
// makes of it.
func testRegistry(t *testing.T, n int) (*prometheus.Registry, []string) {
	t.Helper()
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "test_total", Help: "Test."}, []string{"path"})
	for i := range n {
		c.WithLabelValues(fmt.Sprintf("/some/longer/path/%03d/so/that/lines/fill/datagrams", i)).Add(float64(i))
	}
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	Encode(&buf, mfs, map[string]string{"host": "test"}, testTime)
	return reg, splitLines(buf.String())
}

// splitLines splits s after each newline.
func splitLines(s string) []string {
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

func newPusher(t *testing.T, cfg Config) *Pusher {
	t.Helper()
	cfg.Tags = map[string]string{"host": "test"}
	cfg.Now = func() time.Time { return testTime }
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestPushUDP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	reg, want := testRegistry(t, 100)
	p := newPusher(t, Config{URL: "udp://" + pc.LocalAddr().String(), Gatherer: reg})
	if err := p.Push(context.Background()); err != nil {
		t.Fatal(err)
	}

	var got []string
	buf := make([]byte, 64<<10)
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	for len(got) < len(want) {
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatalf("after %d of %d lines: %v", len(got), len(want), err)
		}
		d := string(buf[:n])
		if n > maxDatagram || !strings.HasSuffix(d, "\n") {
			t.Errorf("datagram of %d bytes, ending in %q", n, d[len(d)-1:])
		}
		got = append(got, splitLines(d)...)
	}
	if strings.Join(got, "") != strings.Join(want, "") {
		t.Errorf("got lines\n%s\nwant\n%s", strings.Join(got, ""), strings.Join(want, ""))
	}
}

// tcpServer accepts connections on 127.0.0.1 and reports each line it reads
// with the number of the connection it came on.
type tcpServer struct {
	net.Listener
	lines chan tcpLine
	mu    sync.Mutex
	conns []net.Conn
}

type tcpLine struct {
	conn int
	line string
}

func newTCPServer(t *testing.T) *tcpServer {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &tcpServer{Listener: l, lines: make(chan tcpLine, 1000)}
	t.Cleanup(func() { l.Close(); s.closeConns() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			n := len(s.conns)
			s.mu.Unlock()
			go func() {
				r := bufio.NewScanner(c)
				for r.Scan() {
					s.lines <- tcpLine{n, r.Text() + "\n"}
				}
			}()
		}
	}()
	return s
}

func (s *tcpServer) closeConns() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.Close()
	}
}

// read returns the next n lines, and the connection they came on.
func (s *tcpServer) read(t *testing.T, n int) (conn int, lines []string) {
	t.Helper()
	for range n {
		select {
		case l := <-s.lines:
			if conn != 0 && l.conn != conn {
				t.Errorf("lines on connections %d and %d", conn, l.conn)
			}
			conn = l.conn
			lines = append(lines, l.line)
		case <-time.After(5 * time.Second):
			t.Fatalf("got %d of %d lines", len(lines), n)
		}
	}
	return conn, lines
}

func TestPushTCP(t *testing.T) {
	s := newTCPServer(t)
	reg, want := testRegistry(t, 20)
	p := newPusher(t, Config{URL: "tcp://" + s.Addr().String(), Gatherer: reg})
	ctx := context.Background()

	for i := range 2 {
		if err := p.Push(ctx); err != nil {
			t.Fatal(err)
		}
		conn, got := s.read(t, len(want))
		if conn != 1 {
			t.Errorf("push %d came on connection %d, want the first", i, conn)
		}
		if strings.Join(got, "") != strings.Join(want, "") {
			t.Errorf("got lines\n%s\nwant\n%s", strings.Join(got, ""), strings.Join(want, ""))
		}
	}

	// The server goes away and comes back: the next push must not be lost.
	s.closeConns()
	waitFIN(t, p)
	if err := p.Push(ctx); err != nil {
		t.Fatal(err)
	}
	if conn, _ := s.read(t, len(want)); conn != 2 {
		t.Errorf("push after close came on connection %d, want 2", conn)
	}

	s.Close()
	s.closeConns()
	waitFIN(t, p)
	if err := p.Push(ctx); err == nil {
		t.Error("push without a server: no error")
	}
}

// waitFIN waits until p's TCP connection has the server's FIN, which a
// busy machine may deliver some time after the server closed its end;
// until then a push has no way to know.
func waitFIN(t *testing.T, p *Pusher) {
	t.Helper()
	c := p.sender.(*tcpSender).conn
	for deadline := time.Now().Add(10 * time.Second); !closedByPeer(c); { // each look waits 1 ms
		if time.Now().After(deadline) {
			t.Fatal("the server's close did not reach the client")
		}
	}
}

func TestPushHTTP(t *testing.T) {
	reg, want := testRegistry(t, 5)
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		user, pass, _ := r.BasicAuth()
		body, _ := io.ReadAll(r.Body)
		switch {
		case r.Method != http.MethodPost || r.URL.Path != "/write" || r.URL.Query().Get("db") != "quercus":
			http.Error(w, "wrong request "+r.Method+" "+r.URL.String(), http.StatusNotFound)
		case user != "pusher" || pass != "pw":
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintln(w, `{"error":"authorization failed"}`)
		case string(body) != strings.Join(want, ""):
			http.Error(w, "unexpected body:\n"+string(body), http.StatusBadRequest)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer srv.Close()

	for _, tc := range []struct {
		name, path, user, pass string
		wantStatus             int // 0: success
		wantMessage            string
	}{
		{"ok", "/write?db=quercus", "pusher", "pw", 0, ""},
		{"bad password", "/write?db=quercus", "pusher", "wrong", 401, "authorization failed"},
		{"no credentials", "/write?db=quercus", "", "", 401, "authorization failed"},
		{"wrong db", "/write?db=other", "pusher", "pw", 404, "wrong request POST /write?db=other"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(EnvUsername, tc.user)
			t.Setenv(EnvPassword, tc.pass)
			p := newPusher(t, Config{URL: srv.URL + tc.path, Gatherer: reg})
			err := p.Push(context.Background())
			if tc.wantStatus == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var he *HTTPError
			if !errors.As(err, &he) || he.StatusCode != tc.wantStatus || he.Message != tc.wantMessage {
				t.Fatalf("Push = %v, want an HTTPError %d %q", err, tc.wantStatus, tc.wantMessage)
			}
		})
	}
}

func TestPushTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // then the server notices the client leave
		<-r.Context().Done()        // and the handler never answers
	}))
	defer srv.Close()
	reg, _ := testRegistry(t, 1)
	p := newPusher(t, Config{URL: srv.URL + "/write?db=x", Gatherer: reg, Timeout: 100 * time.Millisecond})
	start := time.Now()
	err := p.Push(context.Background())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Push = %v, want a deadline error", err)
	}
	if d := time.Since(start); d > 20*time.Second { // a hang guard: the handler never answers
		t.Errorf("Push took %v with a timeout of 100ms", d)
	}
}

func TestPushGatherError(t *testing.T) {
	reg, want := testRegistry(t, 1)
	gatherErr := errors.New("collector broke")
	g := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		mfs, _ := reg.Gather()
		return mfs, gatherErr
	})
	s := newTCPServer(t)
	p := newPusher(t, Config{URL: "tcp://" + s.Addr().String(), Gatherer: g})
	if err := p.Push(context.Background()); !errors.Is(err, gatherErr) {
		t.Errorf("Push = %v, want the gather error", err)
	}
	if _, got := s.read(t, 1); got[0] != want[0] {
		t.Errorf("got %q, want %q: what was gathered must be pushed", got[0], want[0])
	}
}

// syncBuffer is a bytes.Buffer for a logger in one goroutine and a test in
// another.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestRun(t *testing.T) {
	var failing atomic.Bool
	failing.Store(true)
	var fails, oks atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			fails.Add(1)
			http.Error(w, `{"error":"database not found"}`, http.StatusNotFound)
			return
		}
		oks.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	reg, _ := testRegistry(t, 1)
	var log syncBuffer
	p := newPusher(t, Config{
		URL:        srv.URL + "/write?db=x",
		Gatherer:   reg,
		Registerer: reg,
		Interval:   5 * time.Millisecond,
		Logger:     slog.New(slog.NewTextHandler(&log, nil)),
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()

	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; log:\n%s", what, log.String())
			}
		}
	}
	waitFor("failures", func() bool { return fails.Load() >= 5 })
	failing.Store(false)
	waitFor("recovery", func() bool { return oks.Load() >= 2 })
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}

	logged := log.String()
	if n := strings.Count(logged, "influx push failed"); n != 1 {
		t.Errorf("failure logged %d times, want once:\n%s", n, logged)
	}
	if !strings.Contains(logged, "database not found") {
		t.Errorf("the server's message is not logged:\n%s", logged)
	}
	if n := strings.Count(logged, "influx push works again"); n != 1 || !strings.Contains(logged, fmt.Sprintf("failed_pushes=%d", fails.Load())) {
		t.Errorf("recovery logged %d times, want once with failed_pushes=%d:\n%s", n, fails.Load(), logged)
	}
	if got := counterValue(t, reg, "quercus_influx_push_failures_total"); got != float64(fails.Load()) {
		t.Errorf("failure counter = %v, want %d", got, fails.Load())
	}
}

func counterValue(t *testing.T, g prometheus.Gatherer, name string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}
