package server

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/authority"
	"github.com/quercus-dev/quercus/dns/tsig"
)

// Sizes from RFC 6891 §6.2.5 and the DNS flag day 2020 recommendation.
const (
	// DefaultUDPSize is the largest UDP answer we send, whatever the
	// client offers: 1232 bytes avoids IP fragmentation.
	DefaultUDPSize = 1232
	// plainUDPSize is the limit for clients without EDNS (RFC 1035).
	plainUDPSize = 512
)

// Config configures a Server. Zones is required; the zero value of every
// other field works.
type Config struct {
	// Zones returns the zones to answer from; called once per message,
	// it must be cheap and lock-free (an atomic.Pointer's Load).
	Zones func() *authority.Set
	// Keys returns the TSIG keys; nil means no keys.
	Keys func() *tsig.Keyring
	// AXFROpen allows zone transfers without TSIG.
	AXFROpen bool
	// Transfer, if set, answers IXFR with the records to stream (see
	// IXFR); nil answers every IXFR with the whole zone, as RFC 1995 §4
	// allows.
	Transfer IXFRSource
	// Notify handles an authenticated NOTIFY for a served zone; the
	// server has checked the key's right and answers NOERROR on return.
	Notify func(zone string, key tsig.Key, from netip.AddrPort)
	// NotifyFrom, if set, lets an unsigned NOTIFY for a served zone count
	// when it comes from an address it approves, as Knot's and BIND's
	// secondaries accept their primary's: a secondary's NOTIFY only
	// prompts an SOA check, which is itself signed. Notify then gets a
	// zero Key.
	NotifyFrom func(zone string, from netip.Addr) bool
	// Update handles UPDATE messages; nil answers NOTIMP.
	Update func(ctx context.Context, req *dns.Msg, key *tsig.Key, from netip.AddrPort) *dns.Msg
	// IdleTimeout closes idle TCP connections. Default 10s.
	IdleTimeout time.Duration
	// MaxTCPQueries bounds queries per TCP connection. Default 256.
	MaxTCPQueries int
	// Now is the clock for TSIG. Default time.Now.
	Now func() time.Time
	// Logger receives one line per refused transfer or notify.
	Logger *slog.Logger
	// Metrics counts what the server does; nil counts nothing.
	Metrics *Metrics
	// NoFastPath answers every UDP query through the general path, for
	// comparison: see fast.go.
	NoFastPath bool
}

// IXFRSource computes incremental transfers.
type IXFRSource interface {
	// IXFR returns the records of an IXFR answer from serial to the zone's
	// current version (RFC 1995 §4: SOA, then per step the old SOA, the
	// deletions, the new SOA and the additions, then SOA), or ok false if
	// it cannot (unknown serial) and the whole zone must be sent.
	IXFR(zone *authority.Zone, serial uint32) (rrs []dns.RR, ok bool)
}

// Server answers DNS messages. Use Serve, or ServeDNS as a dns.Handler.
type Server struct {
	cfg      Config
	provider *tsig.Provider

	fast  atomic.Pointer[answerCache] // the fast path's cache for the current set
	fills atomic.Uint64               // cache entries made, for tests
}

// New returns a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Zones == nil {
		return nil, errors.New("server: no zones")
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 10 * time.Second
	}
	if cfg.MaxTCPQueries <= 0 {
		cfg.MaxTCPQueries = 256
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Keys == nil {
		empty := tsig.NewKeyring()
		cfg.Keys = func() *tsig.Keyring { return empty }
	}
	s := &Server{cfg: cfg}
	s.provider = &tsig.Provider{Keys: cfg.Keys, Now: cfg.Now}
	return s, nil
}

// Listen binds UDP and TCP on addr, so that the caller can sandbox itself
// before serving. With port 0 both get the same free port.
//
// UDP gets the given number of sockets on that one address (0: one per
// CPU the process may use, at most maxUDPSockets), sharing it through
// SO_REUSEPORT: each has its own reader in Serve, and the kernel spreads
// queries over them by source, as Knot's udp-workers do, so that
// answering scales with cores. The sockets come back as one
// net.PacketConn whose address and reads are the first socket's.
func Listen(addr string, sockets int) (net.PacketConn, net.Listener, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, err
	}
	if sockets < 0 {
		return nil, nil, fmt.Errorf("dns server: %d UDP sockets", sockets)
	}
	if sockets == 0 {
		sockets = min(cpus(), maxUDPSockets)
	}
	if reusePort == nil {
		sockets = 1
	}
	tries := 1
	if port == "0" {
		// The port UDP got may be taken for TCP: try another.
		tries = 20
	}
	for i := 0; ; i++ {
		pc, ln, err := listenOnce(addr, sockets)
		if err == nil {
			for _, pc := range packetConns(pc) {
				u := pc.(*net.UDPConn)
				u.SetReadBuffer(udpReadBuffer) // best effort, before any sandbox
				if a, ok := u.LocalAddr().(*net.UDPAddr); ok && a.IP.IsUnspecified() {
					// For the fast path to answer from each query's
					// destination (udp.go); without, it stays off.
					enablePktinfo(u)
				}
			}
			return pc, ln, nil
		}
		if i+1 >= tries {
			return nil, nil, err
		}
	}
}

// SocketsFlag registers --udp-sockets, the sockets argument of Listen,
// on fs.
func SocketsFlag(fs *flag.FlagSet) *int {
	return fs.Int("udp-sockets", 0, fmt.Sprintf("UDP sockets sharing the --listen address, each with its own reader, for the kernel to spread queries over cores (0: one per CPU the process may use, as the Go runtime counts them, at most %d)", maxUDPSockets))
}

// maxUDPSockets bounds Listen's one socket per CPU: past a few readers
// a server is limited by the network, and each holds a P (udp.go).
const maxUDPSockets = 16

func listenOnce(addr string, sockets int) (net.PacketConn, net.Listener, error) {
	// The first socket is bound without SO_REUSEPORT, so that an address
	// another server holds is refused even if it shares with SO_REUSEPORT
	// too: a second dns-primary started by mistake on the same port must
	// fail, not take half the queries. With more sockets it is only this
	// check, and where the port comes from when addr asks for any.
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, nil, err
	}
	at := pc.LocalAddr().String()
	ln, err := net.Listen("tcp", at)
	if err != nil {
		pc.Close()
		return nil, nil, err
	}
	if sockets == 1 {
		return pc, ln, nil
	}
	pc.Close()
	g := &udpGroup{}
	lc := net.ListenConfig{Control: reusePort}
	for range sockets {
		pc, err := lc.ListenPacket(context.Background(), "udp", at)
		if err != nil {
			g.Close()
			ln.Close()
			return nil, nil, err
		}
		g.conns = append(g.conns, pc.(*net.UDPConn))
	}
	g.UDPConn = g.conns[0]
	return g, ln, nil
}

// udpGroup is the UDP sockets Listen bound to one address. Callers that
// know one socket see the first; Serve serves each (udpConns).
type udpGroup struct {
	*net.UDPConn
	conns []*net.UDPConn // the first included
}

func (g *udpGroup) Close() error {
	var errs []error
	for _, u := range g.conns {
		errs = append(errs, u.Close())
	}
	return errors.Join(errs...)
}

// Serve answers on the given sockets until ctx ends.
func (s *Server) Serve(ctx context.Context, pc net.PacketConn, ln net.Listener) error {
	mk := func() *dns.Server {
		return &dns.Server{
			Handler:       s,
			TsigProvider:  s.provider,
			MsgAcceptFunc: accept,
			UDPSize:       dns.MaxMsgSize,
			IdleTimeout:   func() time.Duration { return s.cfg.IdleTimeout },
			ReadTimeout:   s.cfg.IdleTimeout,
			WriteTimeout:  s.cfg.IdleTimeout,
			MaxTCPQueries: s.cfg.MaxTCPQueries,
		}
	}
	// One server per UDP socket, each with its own reader, and one for TCP.
	var servers []*dns.Server
	for _, pc := range packetConns(pc) {
		udp := mk()
		udp.PacketConn = s.fastConn(pc)
		servers = append(servers, udp)
	}
	tcp := mk()
	tcp.Listener = ln
	servers = append(servers, tcp)
	// miekg cannot shut down a server that has not started yet, and
	// one it was asked to shut down before it started goes on serving:
	// wait until each has started or returned, even after another
	// failed, before watching ctx and shutting them all down.
	type ended struct {
		i   int
		err error
	}
	started := make(chan int, len(servers))
	ends := make(chan ended, len(servers))
	for i, srv := range servers {
		srv.NotifyStartedFunc = func() { started <- i }
	}
	for i, srv := range servers {
		go func() { ends <- ended{i, srv.ActivateAndServe()} }()
	}
	var err error
	settled := make([]bool, len(servers))
	for n := 0; n < len(servers); {
		i := 0
		select {
		case i = <-started:
		case e := <-ends:
			i, err = e.i, cmp.Or(err, e.err)
		}
		if !settled[i] {
			settled[i] = true
			n++
		}
	}
	if err == nil {
		select {
		case <-ctx.Done():
		case e := <-ends:
			err = e.err
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, srv := range servers {
		srv.ShutdownContext(sctx)
	}
	if err != nil {
		return fmt.Errorf("dns server: %w", err)
	}
	return nil
}

// packetConns is the sockets of pc to serve: a group's each, or pc.
func packetConns(pc net.PacketConn) []net.PacketConn {
	g, ok := pc.(*udpGroup)
	if !ok {
		return []net.PacketConn{pc}
	}
	pcs := make([]net.PacketConn, len(g.conns))
	for i, u := range g.conns {
		pcs[i] = u
	}
	return pcs
}

// accept is miekg's default filter with UPDATE let through: its sections
// hold prerequisites and updates, not one question and its answers.
func accept(dh dns.Header) dns.MsgAcceptAction {
	const qr = 1 << 15
	if dh.Bits&qr != 0 {
		return dns.MsgIgnore
	}
	switch opcode := int(dh.Bits>>11) & 0xF; opcode {
	case dns.OpcodeUpdate:
		if dh.Qdcount != 1 {
			return dns.MsgReject
		}
		return dns.MsgAccept
	case dns.OpcodeQuery, dns.OpcodeNotify:
	default:
		return dns.MsgRejectNotImplemented
	}
	// IXFR carries the client's SOA in authority (RFC 1995 §3).
	if dh.Qdcount != 1 || dh.Ancount > 1 || dh.Nscount > 1 || dh.Arcount > 2 {
		return dns.MsgReject
	}
	return dns.MsgAccept
}
