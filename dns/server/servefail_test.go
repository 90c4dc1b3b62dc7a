package server

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/quercus-dev/quercus/dns/authority"
)

// brokenConn is a UDP socket whose every read fails for good.
type brokenConn struct{ net.PacketConn }

func (brokenConn) ReadFrom([]byte) (int, net.Addr, error) { return 0, nil, errors.New("broken socket") }

// TestServeFailureStopsAll: when one of Serve's sockets fails, Serve
// returns its error having shut every other one down, even one whose
// server had not started yet when the failure came: none is left
// serving after Serve returned. Each round races a read that fails at
// once against the start of the TCP server.
func TestServeFailureStopsAll(t *testing.T) {
	set := fastSet(t)
	s, err := New(Config{Zones: func() *authority.Set { return set }})
	if err != nil {
		t.Fatal(err)
	}
	for round := range 50 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Serve(context.Background(), brokenConn{pc}, ln); err == nil {
			t.Fatalf("round %d: Serve on a broken socket returned no error", round)
		}
		pc.Close()
		if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
			c.Close()
			ln.Close()
			t.Fatalf("round %d: TCP still accepts after Serve returned", round)
		}
	}
}
