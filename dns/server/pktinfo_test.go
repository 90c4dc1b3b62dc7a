package server

import (
	"bytes"
	"context"
	"encoding/binary"
	"math/rand/v2"
	"net"
	"strconv"
	"testing"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/authority"
)

// serveWild runs a server with cfg on a socket of network bound to the
// unspecified address, until the test ends, and returns it with its UDP
// port. "udp" goes through Listen (dual-stack, as Go binds "0.0.0.0" and
// "::" alike); "udp4" and "udp6" bind single-family sockets the way
// Listen would prepare them.
func serveWild(t *testing.T, cfg Config, network, host string) (*Server, int) {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var pc net.PacketConn
	var ln net.Listener
	if network == "udp" {
		pc, ln, err = Listen(net.JoinHostPort(host, "0"), 0)
	} else {
		if pc, err = net.ListenPacket(network, net.JoinHostPort(host, "0")); err == nil {
			enablePktinfo(pc.(*net.UDPConn))
			ln, err = net.Listen("tcp", "127.0.0.1:0")
		}
	}
	if err != nil {
		t.Skipf("cannot listen on %s %s: %v", network, host, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Serve(ctx, pc, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return s, pc.LocalAddr().(*net.UDPAddr).Port
}

// TestWildcardOverSockets: a server bound to 0.0.0.0 or :: answers a
// query sent to any of its addresses from that address (burst's client
// socket is connected to it, so it takes no answer from elsewhere), and
// sends the same bytes with the fast path as without; IPv4 traffic to a
// dual-stack socket included. The fast path must have answered: it
// filled its cache.
func TestWildcardOverSockets(t *testing.T) {
	set := fastSet(t)
	zones := func() *authority.Set { return set }
	rnd := rand.New(rand.NewPCG(17, 18))
	var pkts [][]byte
	for _, n := range []string{"www.example.com.", "WWW.example.com.", "nx.example.com.", "big.example.com."} {
		for _, typ := range []uint16{dns.TypeA, dns.TypeTXT} {
			pkts = append(pkts, variants(dns.Question{Name: n, Qtype: typ, Qclass: dns.ClassINET}, rnd)[:4]...)
		}
	}
	chaos := new(dns.Msg) // a general-path query, answered through replyAddr
	chaos.SetQuestion("version.bind.", dns.TypeTXT)
	chaos.Question[0].Qclass = dns.ClassCHAOS
	b, _ := chaos.Pack()
	pkts = append(pkts, b)
	for i := range pkts {
		binary.BigEndian.PutUint16(pkts[i], uint16(i))
	}
	v4, v6 := []string{"127.0.0.1", "127.0.0.2"}, []string{"::1"}
	for _, tc := range []struct {
		network, host string
		to            []string
	}{
		{"udp4", "0.0.0.0", v4},
		{"udp6", "::", v6},
		{"udp", "0.0.0.0", append(v4, v6...)},
		{"udp", "::", append(v4, v6...)},
	} {
		t.Run(tc.network+"-"+tc.host, func(t *testing.T) {
			fast, fastPort := serveWild(t, Config{Zones: zones}, tc.network, tc.host)
			_, slowPort := serveWild(t, Config{Zones: zones, NoFastPath: true}, tc.network, tc.host)
			for _, to := range tc.to {
				if ip := net.ParseIP(to); ip.To4() == nil && !hasIPv6Loopback() {
					continue
				}
				before := fast.fills.Load()
				got := burst(t, net.JoinHostPort(to, strconv.Itoa(fastPort)), pkts)
				want := burst(t, net.JoinHostPort(to, strconv.Itoa(slowPort)), pkts)
				for i := range pkts {
					if !bytes.Equal(got[i], want[i]) {
						t.Errorf("to %s: query %d: fast path sent\n%x\ngeneral path sent\n%x", to, i, got[i], want[i])
					}
				}
				if to == tc.to[0] && fast.fills.Load() == before {
					t.Errorf("to %s: the fast path answered nothing", to)
				}
			}
		})
	}
}

func hasIPv6Loopback() bool {
	c, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		return false
	}
	c.Close()
	return true
}
