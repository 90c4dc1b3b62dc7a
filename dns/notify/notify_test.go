package notify_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/quercus-dev/quercus/dns/authority"
	"github.com/quercus-dev/quercus/dns/notify"
	"github.com/quercus-dev/quercus/dns/tsig"
	"github.com/quercus-dev/quercus/internal/dnstest"
)

// received is one NOTIFY as the fake secondary saw it.
type received struct {
	id     uint16
	serial uint32 // from the SOA in the answer section
	key    string // the key that signed it, verified; "" if unsigned
	bad    error  // a TSIG that did not verify
}

// secondary is a fake secondary: it drops the first notifies of each
// serial and answers the others with rcode.
type secondary struct {
	addr     netip.AddrPort
	drop     func(serial uint32, nth int) bool
	rcode    int
	unsigned bool // answer without TSIG
	provider *tsig.Provider

	mu       sync.Mutex
	got      []received
	arrivals []time.Time // read from the socket, in order
	recv     chan received
}

// stamp notes when each message was read: miekg then handles it in a
// goroutine of its own, which may start late.
type stamp struct {
	dns.Reader
	s *secondary
}

func (r stamp) ReadUDP(conn *net.UDPConn, timeout time.Duration) ([]byte, *dns.SessionUDP, error) {
	m, session, err := r.Reader.ReadUDP(conn, timeout)
	if err == nil {
		r.s.mu.Lock()
		r.s.arrivals = append(r.s.arrivals, time.Now())
		r.s.mu.Unlock()
	}
	return m, session, err
}

// start serves s on a loopback port with keys; set drop, rcode and
// unsigned before.
func (s *secondary) start(t *testing.T, keys *tsig.Keyring) *secondary {
	t.Helper()
	s.provider = &tsig.Provider{Keys: func() *tsig.Keyring { return keys }}
	s.recv = make(chan received, 100)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = netip.MustParseAddrPort(pc.LocalAddr().String())
	started := make(chan struct{})
	srv := &dns.Server{
		PacketConn:        pc,
		Handler:           s,
		TsigProvider:      s.provider,
		NotifyStartedFunc: func() { close(started) },
		DecorateReader:    func(r dns.Reader) dns.Reader { return stamp{r, s} },
	}
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return s
}

func (s *secondary) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	key, err := s.provider.Check(r, w.TsigStatus())
	rec := received{id: r.Id, bad: err}
	if key != nil {
		rec.key = key.Name
	}
	if len(r.Answer) == 1 {
		if soa, ok := r.Answer[0].(*dns.SOA); ok {
			rec.serial = soa.Serial
		}
	}
	s.mu.Lock()
	nth := 0
	for _, g := range s.got {
		if g.serial == rec.serial {
			nth++
		}
	}
	s.got = append(s.got, rec)
	s.mu.Unlock()
	s.recv <- rec
	if s.drop != nil && s.drop(rec.serial, nth) {
		return
	}
	m := new(dns.Msg)
	m.SetRcode(r, s.rcode)
	if !s.unsigned {
		s.provider.Sign(m, r, err)
	}
	w.WriteMsg(m)
}

func (s *secondary) received() ([]received, []time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got), slices.Clone(s.arrivals)
}

// testLogger logs to t, shown when the test fails or with -v.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}

// zoneAt is example.com at a serial; only its primary is an NS.
func zoneAt(t testing.TB, serial uint32) *authority.Zone {
	return parse(t, fmt.Sprintf("@ SOA ns1 hostmaster %d 3600 900 1209600 300\n@ NS ns1\nns1 A 192.0.2.1\n", serial))
}

func TestRetransmit(t *testing.T) {
	// The copy that is answered waits answerWindow for its answer, so that
	// an answer a busy machine delays (an in-process secondary under -race
	// took more than 40 ms) is not followed by one more copy than the test
	// counts; the copies before it wait window>>drop, twice as long each
	// time. Cases that are never answered send every copy whatever the
	// timing, and wait little.
	const (
		answerWindow = 2 * time.Second
		unanswered   = 40 * time.Millisecond
	)
	secondaryKey := key(t, "127.0.0.1.127.0.0.1._transfer.example.com.")
	keys := tsig.NewKeyring(
		secondaryKey,
		key(t, "127.0.0.1.127.0.0.1._transfer."),             // less specific
		key(t, "ops._update.example.com."),                   // not a secondary's
		key(t, "127.0.0.1.127.0.0.1._transfer.example.org."), // another zone
	)
	tests := []struct {
		name     string
		drop     int
		rcode    int
		unsigned bool
		viaAlso  bool // the target given as also, with no key for it
		sent     int
		result   string
	}{
		{name: "answered at once", sent: 1, result: notify.Answered},
		{name: "answered after drops", drop: 3, sent: 4, result: notify.Answered},
		{name: "never answered", drop: 100, sent: 1 + 4, result: notify.Unanswered},
		{name: "refused", rcode: dns.RcodeRefused, sent: 1, result: notify.Refused},
		{name: "answer not signed", unsigned: true, sent: 1 + 4, result: notify.Unanswered},
		{name: "unsigned target", viaAlso: true, drop: 1, sent: 2, result: notify.Answered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // most of the time is spent waiting
			backoff := unanswered
			if tt.result != notify.Unanswered {
				backoff = answerWindow >> tt.drop
			}
			s := (&secondary{
				drop:     func(_ uint32, nth int) bool { return nth < tt.drop },
				rcode:    tt.rcode,
				unsigned: tt.unsigned,
			}).start(t, keys)
			reg := prometheus.NewRegistry()
			var waits waitLog
			n := &notify.Notifier{
				Logger:  slog.New(&waits),
				Keys:    func() *tsig.Keyring { return keys },
				Retries: 4,
				Backoff: backoff,
				Port:    int(s.addr.Port()),
				Metrics: notify.NewMetrics(reg),
			}
			var also []netip.AddrPort
			if tt.viaAlso {
				// No keys: the target comes from also, unsigned.
				n.Keys = func() *tsig.Keyring { return nil }
				also = []netip.AddrPort{s.addr}
			}
			n.Notify(context.Background(), zoneAt(t, 7), also)
			n.Wait()

			got, at := s.received()
			if len(got) != tt.sent || len(at) != tt.sent {
				t.Fatalf("secondary got %d notifies (handled %d), want %d", len(at), len(got), tt.sent)
			}
			for i, g := range got {
				want := secondaryKey.Name
				if tt.viaAlso {
					want = ""
				}
				if g.key != want || g.bad != nil {
					t.Errorf("notify %d signed by %q (%v), want %q", i, g.key, g.bad, want)
				}
				if g.serial != 7 || g.id != got[0].id {
					t.Errorf("notify %d: serial %d, id %d; want 7, %d", i, g.serial, g.id, got[0].id)
				}
			}
			// Each copy waited twice as long as the one before: the
			// schedule the notifier logs, not elapsed time, which a
			// busy machine stretches.
			want := make([]time.Duration, tt.sent-1)
			for i := range want {
				want[i] = backoff << i
			}
			if got := waits.get(); !slices.Equal(got, want) {
				t.Errorf("waited %v before resending, want %v", got, want)
			}
			if c := dnstest.Metric(t, reg, "quercus_dns_notifies_total", "result", tt.result); c != 1 {
				t.Errorf("result %s counted %v times, want 1", tt.result, c)
			}
			if c := dnstest.Metric(t, reg, "quercus_dns_notify_messages_total", "", ""); c != float64(tt.sent) {
				t.Errorf("%v messages counted, want %d", c, tt.sent)
			}
		})
	}
}

// A newer serial stops the retransmissions for the older one; an older
// serial than the one being notified is ignored.
func TestSupersede(t *testing.T) {
	keys := tsig.NewKeyring(key(t, "127.0.0.1.127.0.0.1._transfer.example.com."))
	// Serial 1 is never answered, serial 2 at once. The back-off leaves
	// time, on a busy machine, for serial 2's answer to come before a
	// second copy and for the supersession to come between serial 1's
	// second and third copies (at 1 s and 3 s).
	s := (&secondary{drop: func(serial uint32, _ int) bool { return serial == 1 }}).start(t, keys)
	const backoff = time.Second
	n := &notify.Notifier{Keys: func() *tsig.Keyring { return keys }, Backoff: backoff, Port: int(s.addr.Port()), Logger: testLogger(t)}

	n.Notify(context.Background(), zoneAt(t, 1), nil)
	for range 2 {
		<-s.recv
	}
	n.Notify(context.Background(), zoneAt(t, 2), nil)
	n.Notify(context.Background(), zoneAt(t, 1), nil) // stale
	n.Wait()
	// Not superseded, serial 1 would have been sent six times.
	bySerial := map[uint32]int{}
	got, _ := s.received()
	for _, g := range got {
		bySerial[g.serial]++
	}
	if bySerial[1] > 3 || bySerial[2] != 1 {
		t.Errorf("notifies by serial %v, want 2 or 3 of serial 1 and one of 2", bySerial)
	}
}

// Cancelling the context stops everything at once.
func TestCancel(t *testing.T) {
	s := (&secondary{drop: func(uint32, int) bool { return true }}).start(t, nil)
	n := &notify.Notifier{Backoff: time.Second, Logger: testLogger(t)}
	ctx, cancel := context.WithCancel(context.Background())
	n.Notify(ctx, zoneAt(t, 1), []netip.AddrPort{s.addr})
	<-s.recv
	cancel()
	n.Wait()
	// Not cancelled, it would have retransmitted after a second.
	if got, _ := s.received(); len(got) != 1 {
		t.Errorf("%d messages sent, want 1: cancel must stop retransmission", len(got))
	}
}

// ICMP port unreachable ends the notification (RFC 1996 §3.6).
func TestUnreachable(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	pc.Close() // nobody listens there now
	reg := prometheus.NewRegistry()
	n := &notify.Notifier{Backoff: time.Second, Metrics: notify.NewMetrics(reg), Logger: testLogger(t)}
	n.Notify(context.Background(), zoneAt(t, 1), []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:" + strconv.Itoa(port))})
	n.Wait()
	if c := dnstest.Metric(t, reg, "quercus_dns_notify_messages_total", "", ""); c != 1 {
		t.Errorf("%v messages sent, want 1: no retransmission to an unreachable port", c)
	}
	if c := dnstest.Metric(t, reg, "quercus_dns_notifies_total", "result", notify.Unreachable); c != 1 {
		t.Errorf("unreachable counted %v times, want 1", c)
	}
}

// waitLog is a slog handler keeping the waits the notifier logs before
// each retransmission.
type waitLog struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (w *waitLog) Enabled(context.Context, slog.Level) bool { return true }
func (w *waitLog) WithAttrs([]slog.Attr) slog.Handler       { return w }
func (w *waitLog) WithGroup(string) slog.Handler            { return w }

func (w *waitLog) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "waited" {
			w.mu.Lock()
			w.waits = append(w.waits, a.Value.Duration())
			w.mu.Unlock()
		}
		return true
	})
	return nil
}

func (w *waitLog) get() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.waits)
}
