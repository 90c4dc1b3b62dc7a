package server

import (
	"context"
	"net"
	"runtime"
	"testing"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/authority"
)

// sources is how many client sockets the tests send from: the kernel
// spreads datagrams over a group's sockets by a hash of their source, so
// with 64 sources and 3 sockets the odds that one socket gets none are
// 3·(2/3)^64, about 10^-11.
const sources = 64

// TestListenSocketGroup: Listen binds the sockets asked for on one
// address and the kernel spreads datagrams from many sources over all of
// them; the address cannot be taken again while they are open, not even
// by another group; once closed, it can.
func TestListenSocketGroup(t *testing.T) {
	if reusePort == nil {
		t.Skip("no SO_REUSEPORT on this platform: one socket")
	}
	pc, ln, err := Listen("127.0.0.1:0", 3)
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	conns := packetConns(pc)
	if len(conns) != 3 {
		t.Fatalf("Listen(_, 3) bound %d sockets", len(conns))
	}
	at := pc.LocalAddr().String()
	for _, c := range conns {
		if c.LocalAddr().String() != at {
			t.Errorf("a socket of the group is bound to %s, not %s", c.LocalAddr(), at)
		}
	}
	if pc2, ln2, err := Listen(at, 2); err == nil {
		pc2.Close()
		ln2.Close()
		t.Errorf("a second group could bind %s, held by the first", at)
	}

	got := make(chan int, sources)
	for i, c := range conns {
		go func() {
			buf := make([]byte, 512)
			for {
				if _, _, err := c.ReadFrom(buf); err != nil {
					return // closed
				}
				got <- i
			}
		}()
	}
	for range sources {
		c, err := net.Dial("udp", at)
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("x"))
		c.Close()
	}
	per := make([]int, len(conns))
	for range sources {
		per[<-got]++
	}
	for i, n := range per {
		if n == 0 {
			t.Errorf("socket %d of the group got none of %d datagrams (per socket: %v)", i, sources, per)
		}
	}

	if err := pc.Close(); err != nil {
		t.Fatal(err)
	}
	pc3, ln3, err := Listen(at, 2)
	if err != nil {
		t.Fatalf("after the group closed, %s cannot be bound: %v", at, err)
	}
	pc3.Close()
	ln3.Close()
}

// TestServeSocketGroup: Serve answers on every socket of a group, so
// that queries from many sources all get answers, and shuts them all
// down.
func TestServeSocketGroup(t *testing.T) {
	set := fastSet(t)
	s, err := New(Config{Zones: func() *authority.Set { return set }})
	if err != nil {
		t.Fatal(err)
	}
	pc, ln, err := Listen("127.0.0.1:0", 3)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Serve(ctx, pc, ln) }()

	c := &dns.Client{}
	for i := range sources {
		q := new(dns.Msg)
		q.SetQuestion("www.example.com.", dns.TypeA)
		if i%2 == 1 {
			q.SetQuestion("example.com.", dns.TypeSOA) // the general path
		}
		r, _, err := c.Exchange(q, pc.LocalAddr().String())
		if err != nil || r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0 {
			t.Fatalf("query %d from a new source: %v, %v", i, r, err)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	for i, c := range packetConns(pc) {
		if _, err := c.WriteTo([]byte("x"), c.LocalAddr()); err == nil {
			t.Errorf("socket %d of the group is still open after Serve returned", i)
		}
	}
}

// TestSocketsFollowCPUs: Listen's default is one socket per CPU the
// process may use, as GOMAXPROCS says (a container's CPU limit lowers
// it), not as the readers of servers already running raised it.
func TestSocketsFollowCPUs(t *testing.T) {
	if reusePort == nil {
		t.Skip("no SO_REUSEPORT on this platform: one socket")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	listen := func() int {
		t.Helper()
		pc, ln, err := Listen("127.0.0.1:0", 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pc.Close(); ln.Close() })
		return len(packetConns(pc))
	}
	if n := listen(); n != 1 {
		t.Errorf("with GOMAXPROCS 1, Listen bound %d sockets", n)
	}
	if runtime.NumCPU() < 2 {
		t.Skip("one CPU: the rest needs two")
	}
	runtime.GOMAXPROCS(2)
	s, err := New(Config{Zones: func() *authority.Set { return fastSet(t) }})
	if err != nil {
		t.Fatal(err)
	}
	pc, _, err := Listen("127.0.0.1:0", 2)
	if err != nil {
		t.Fatal(err)
	}
	var readers []net.PacketConn
	for _, c := range packetConns(pc) {
		readers = append(readers, s.fastConn(c)) // raise GOMAXPROCS to 3
	}
	defer func() {
		for _, r := range readers {
			r.Close()
		}
	}()
	if runtime.GOMAXPROCS(0) <= 2 {
		t.Skip("no batched readers on this platform: GOMAXPROCS stays")
	}
	if n := listen(); n != 2 {
		t.Errorf("with GOMAXPROCS 2 raised to %d by two readers, Listen bound %d sockets, want 2", runtime.GOMAXPROCS(0), n)
	}
}
