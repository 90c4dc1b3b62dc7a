package syslog

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"log/slog"
	"math/big"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/slogtest"
	"time"
)

// listenUDP returns a UDP socket on the loopback.
func listenUDP(t *testing.T) net.PacketConn {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc
}

// readDatagram reads and parses one message from pc.
func readDatagram(t *testing.T, pc net.PacketConn) *message {
	t.Helper()
	buf := make([]byte, 65536)
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := pc.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	m, err := parseMessage(buf[:n])
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// serveStream accepts connections on l until the test ends and sends every
// octet-counted frame it reads, parsed, on the returned channel. A frame
// that does not parse fails the test.
func serveStream(t *testing.T, l net.Listener) <-chan *message {
	t.Helper()
	msgs := make(chan *message, 1000)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() {
				r := bufio.NewReader(c)
				for {
					b, err := readFrame(r)
					if err != nil {
						return
					}
					m, err := parseMessage(b)
					if err != nil {
						t.Error(err)
						return
					}
					msgs <- m
				}
			})
		}
	})
	return msgs
}

func listenTCP(t *testing.T, addr string) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func receive(t *testing.T, msgs <-chan *message) *message {
	t.Helper()
	select {
	case m := <-msgs:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no message within 5s")
		return nil
	}
}

func checkHello(t *testing.T, m *message) {
	t.Helper()
	if m.pri != 3*8+4 || m.appName != "app" || m.hostname != "host.example" {
		t.Errorf("header: %+v", m)
	}
	if m.msg != "hello user=alice" || len(m.sd) != 1 || len(m.sd[0].params) != 1 || m.sd[0].params[0] != (field{"user", "alice"}) {
		t.Errorf("got MSG %q SD %+v", m.msg, m.sd)
	}
}

func TestUDP(t *testing.T) {
	pc := listenUDP(t)
	h := newTestHandler(t, Config{URL: "udp://" + pc.LocalAddr().String()})
	slog.New(h).Warn("hello", "user", "alice")
	checkHello(t, readDatagram(t, pc))

	// A long message arrives as one truncated datagram.
	slog.New(h).Info(strings.Repeat("€", 1000))
	if m := readDatagram(t, pc); len(m.msg) > maxUDP || !strings.HasPrefix(m.msg, "€€€") {
		t.Errorf("long message: %d bytes", len(m.msg))
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestTCP(t *testing.T) {
	l := listenTCP(t, "127.0.0.1:0")
	msgs := serveStream(t, l)
	h := newTestHandler(t, Config{URL: "tcp://" + l.Addr().String()})
	log := slog.New(h)
	log.Warn("hello", "user", "alice")
	log.Info("two\nlines")
	checkHello(t, receive(t, msgs))
	if m := receive(t, msgs); m.msg != "two\nlines" {
		t.Errorf("got %q", m.msg)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
}

// testCert makes a throwaway self-signed certificate for 127.0.0.1, and
// returns it also as PEM for other TLS servers.
func testCert(t testing.TB) (cert tls.Certificate, roots *x509.CertPool, certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "quercus syslog test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots = x509.NewCertPool()
	roots.AddCert(leaf)
	cert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return cert, roots, certPEM, keyPEM
}

func TestTLS(t *testing.T) {
	cert, roots, _, _ := testCert(t)
	l := tls.NewListener(listenTCP(t, "127.0.0.1:0"), &tls.Config{Certificates: []tls.Certificate{cert}})
	msgs := serveStream(t, l)
	url := "tls://" + l.Addr().String()

	h := newTestHandler(t, Config{URL: url, TLS: &tls.Config{RootCAs: roots}})
	slog.New(h).Warn("hello", "user", "alice")
	checkHello(t, receive(t, msgs))
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}

	// The server is checked: without our root, nothing is sent.
	h = newTestHandler(t, Config{URL: url, CloseTimeout: time.Second})
	slog.New(h).Warn("secret")
	var unknown x509.UnknownAuthorityError
	if err := h.Close(); !errors.As(err, &unknown) {
		t.Errorf("Close with an untrusted server: %v, want x509.UnknownAuthorityError", err)
	}
	select {
	case m := <-msgs:
		t.Errorf("untrusted server got %q", m.msg)
	default:
	}
}

// TestReconnect closes the server's end of the connection: messages flow
// again over a new one.
func TestReconnect(t *testing.T) {
	l := listenTCP(t, "127.0.0.1:0")
	t.Cleanup(func() { l.Close() })
	h := newTestHandler(t, Config{URL: "tcp://" + l.Addr().String()})
	log := slog.New(h)

	log.Info("first")
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if b, err := readFrame(bufio.NewReader(c)); err != nil || !strings.HasSuffix(string(b), "first") {
		t.Fatalf("first message: %q, %v", b, err)
	}
	c.Close()

	// A message written just as the server closes may be lost (TCP says
	// nothing of it); keep logging until one arrives on a new connection.
	msgs := serveStream(t, l)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				log.Info("again", "i", i)
			}
		}
	}()
	if m := receive(t, msgs); !strings.HasPrefix(m.msg, "again") {
		t.Errorf("got %q", m.msg)
	}
}

// TestDropped logs into a full queue while the syslog host is down, then
// starts it: the queued messages arrive after a notice counting the drops.
func TestDropped(t *testing.T) {
	l := listenTCP(t, "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close() // refuse connections for now

	const logged = 20
	h := newTestHandler(t, Config{URL: "tcp://" + addr, QueueSize: 2})
	log := slog.New(h)
	for i := range logged {
		log.Info("message", "i", i)
	}
	dropped := h.Dropped()
	if dropped < logged-3 { // the queue and the message being retried
		t.Fatalf("Dropped() = %d after %d messages into a queue of 2", dropped, logged)
	}

	msgs := serveStream(t, listenTCP(t, addr))
	m := receive(t, msgs)
	want := strconv.FormatUint(dropped, 10) + " messages dropped"
	if m.pri != 3*8+4 || !strings.HasPrefix(m.msg, want) || m.sd[0].params[0] != (field{"dropped", strconv.FormatUint(dropped, 10)}) {
		t.Errorf("first message %q %+v, want a notice %q", m.msg, m.sd, want)
	}
	for range logged - dropped {
		if m := receive(t, msgs); !strings.HasPrefix(m.msg, "message i=") {
			t.Errorf("got %q", m.msg)
		}
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if h.Dropped() != dropped {
		t.Errorf("Dropped() changed from %d to %d", dropped, h.Dropped())
	}
}

// TestNeverBlocks logs while the connection cannot be made (a server that
// accepts TCP but never answers the TLS handshake): Handle keeps returning
// at once, and Close gives up after CloseTimeout.
func TestNeverBlocks(t *testing.T) {
	l := listenTCP(t, "127.0.0.1:0")
	holdConns(t, l)
	h := newTestHandler(t, Config{
		URL:          "tls://" + l.Addr().String(),
		QueueSize:    10,
		DialTimeout:  time.Minute,
		CloseTimeout: 200 * time.Millisecond,
	})
	log := slog.New(h)
	start := time.Now()
	for range 10000 {
		log.Info("message")
	}
	if d := time.Since(start); d > 20*time.Second { // a hang guard: a blocking Handle would wait for the minute-long dial
		t.Errorf("logging took %v", d)
	}
	if d := h.Dropped(); d < 10000-11 {
		t.Errorf("Dropped() = %d, want at least %d", d, 10000-11)
	}
	start = time.Now()
	err := h.Close()
	// Far below DialTimeout, far above CloseTimeout: a hang guard that a
	// loaded machine does not trip.
	if !errors.Is(err, context.Canceled) || time.Since(start) > 20*time.Second {
		t.Errorf("Close() = %v after %v, want context.Canceled after about 200ms", err, time.Since(start))
	}
	if d := h.Dropped(); d != 10000 {
		t.Errorf("Dropped() = %d after Close, want all 10000", d)
	}
	if err := h.Handle(t.Context(), slog.NewRecord(time.Now(), slog.LevelInfo, "late", 0)); err != ErrClosed {
		t.Errorf("Handle after Close: %v, want ErrClosed", err)
	}
	if err := h.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestWriteTimeout logs more than the socket buffers hold to a server that
// never reads: writes time out, and Close gives up after CloseTimeout.
func TestWriteTimeout(t *testing.T) {
	// A small receive buffer, so that the client's send buffer (up to 4 MB
	// on Linux) is all that takes the load.
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var err error
		c.Control(func(fd uintptr) { err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		return err
	}}
	l, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	holdConns(t, l)
	h := newTestHandler(t, Config{
		URL:          "tcp://" + l.Addr().String(),
		QueueSize:    2000,
		WriteTimeout: 100 * time.Millisecond,
		CloseTimeout: 300 * time.Millisecond,
	})
	log := slog.New(h)
	long := strings.Repeat("x", 8000)
	for range 2000 { // 16 MB
		log.Info(long)
	}
	start := time.Now()
	if err := h.Close(); err == nil || time.Since(start) > 20*time.Second { // a hang guard: without its time-out, Close would wait for ever
		t.Errorf("Close() = %v after %v, want an error after about 300ms", err, time.Since(start))
	}
}

// holdConns accepts connections on l and holds them open, never reading,
// until the test ends.
func holdConns(t *testing.T, l net.Listener) {
	var (
		mu    sync.Mutex
		conns []net.Conn
		done  = make(chan struct{})
	)
	t.Cleanup(func() {
		l.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
}

// TestSlogtest runs the standard library's conformance tests of handlers,
// reading the messages back from the structured data.
func TestSlogtest(t *testing.T) {
	var pc net.PacketConn
	slogtest.Run(t, func(t *testing.T) slog.Handler {
		pc = listenUDP(t)
		return newTestHandler(t, Config{URL: "udp://" + pc.LocalAddr().String()})
	}, func(t *testing.T) map[string]any {
		m := readDatagram(t, pc)
		got := map[string]any{slog.LevelKey: m.pri % 8}
		if m.timestamp != "-" {
			got[slog.TimeKey] = m.timestamp
		}
		for _, e := range m.sd {
			for _, p := range e.params {
				// Dotted names are groups.
				g := got
				path := strings.Split(p.key, ".")
				for _, name := range path[:len(path)-1] {
					sub, ok := g[name].(map[string]any)
					if !ok {
						sub = map[string]any{}
						g[name] = sub
					}
					g = sub
				}
				g[path[len(path)-1]] = p.value
			}
			// The text repeats the params after the message.
			got[slog.MessageKey] = strings.TrimSuffix(m.msg, " "+string(appendText(nil, "", e.params)))
		}
		if len(m.sd) == 0 {
			got[slog.MessageKey] = m.msg
		}
		return got
	})
}
