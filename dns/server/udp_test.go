package server

import (
	"errors"
	"net"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/authority"
)

// TestFastConnDeadlines: the socket miekg reads from keeps the deadlines
// that wake a reader, a past one (how miekg's Shutdown stops reading)
// and the zero one, and a message for the general path still arrives
// after a future deadline, which the batched loop does not arm.
func TestFastConnDeadlines(t *testing.T) {
	set := fastSet(t)
	s, err := New(Config{Zones: func() *authority.Set { return set }})
	if err != nil {
		t.Fatal(err)
	}
	pc, ln, err := Listen("127.0.0.1:0", 1)
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	c := s.fastConn(pc)
	defer c.Close()
	buf := make([]byte, dns.MaxMsgSize)

	c.SetReadDeadline(time.Now().Add(-time.Second))
	if _, _, err := c.ReadFrom(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("ReadFrom after a past deadline: %v, want %v", err, os.ErrDeadlineExceeded)
	}

	c.SetReadDeadline(time.Time{})
	c.SetReadDeadline(time.Now().Add(time.Hour))
	chaos := new(dns.Msg)
	chaos.SetQuestion("version.bind.", dns.TypeTXT)
	chaos.Question[0].Qclass = dns.ClassCHAOS
	q, _ := chaos.Pack()
	conn, err := net.Dial("udp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write(q); err != nil {
		t.Fatal(err)
	}
	n, _, err := c.ReadFrom(buf)
	if err != nil || string(buf[:n]) != string(q) {
		t.Fatalf("ReadFrom = %x, %v; want the query %x", buf[:n], err, q)
	}
}

// TestBusyReaderLeavesRoom: the batched reader, which waits for
// queries in recvmmsg holding its P, leaves the rest of the process room,
// during a flood of queries and just after one: a TCP query is answered,
// a garbage collection (which stops every goroutine) completes, and a
// shutdown returns. Were it otherwise the test would hang.
func TestBusyReaderLeavesRoom(t *testing.T) {
	set := fastSet(t)
	// serveOn's cleanup shuts the server down and waits for it.
	addr := serveOn(t, Config{Zones: func() *authority.Set { return set }}, "127.0.0.1:0")

	q := new(dns.Msg)
	q.SetQuestion("www.example.com.", dns.TypeA)
	pkt, _ := q.Pack()
	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { // answers are read and dropped
		buf := make([]byte, 1500)
		for {
			select {
			case <-stop:
				return
			default:
			}
			for range 8 {
				conn.Write(pkt)
			}
			conn.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
			for range 8 {
				if _, err := conn.Read(buf); err != nil {
					break
				}
			}
		}
	})
	others := func(when string) {
		runtime.GC()
		r, _, err := (&dns.Client{Net: "tcp"}).Exchange(q, addr)
		if err != nil || len(r.Answer) == 0 {
			t.Fatalf("TCP query %s: %v, %v", when, r, err)
		}
	}
	if _, err := dns.Exchange(q, addr); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		others("during a flood")
	}
	close(stop)
	wg.Wait()
	others("after a flood")
}

// TestReadersGiveBackProcs: each batched reader may raise GOMAXPROCS to
// the live readers plus one, and gives the P back when closed (twice,
// as miekg does), so a process that starts and stops servers (tests, a
// reload) ends with the GOMAXPROCS it had, not one more per server ever
// started.
func TestReadersGiveBackProcs(t *testing.T) {
	set := fastSet(t)
	s, err := New(Config{Zones: func() *authority.Set { return set }})
	if err != nil {
		t.Fatal(err)
	}
	before := runtime.GOMAXPROCS(0)
	open := func() net.PacketConn {
		pc, ln, err := Listen("127.0.0.1:0", 1)
		if err != nil {
			t.Fatal(err)
		}
		ln.Close()
		c := s.fastConn(pc)
		if fc, ok := c.(*fastConn); !ok || fc.batch == nil {
			c.Close()
			t.Skip("no batched reader on this platform")
		}
		return c
	}
	var live []net.PacketConn
	for range 3 {
		live = append(live, open())
	}
	if got := runtime.GOMAXPROCS(0); got < len(live)+1 {
		t.Errorf("GOMAXPROCS with %d readers = %d, want at least %d", len(live), got, len(live)+1)
	}
	for _, c := range live {
		c.Close()
		c.Close()
	}
	for range 5 {
		open().Close()
	}
	if got := runtime.GOMAXPROCS(0); got != before {
		t.Errorf("GOMAXPROCS after every reader closed = %d, want %d as before", got, before)
	}
}
