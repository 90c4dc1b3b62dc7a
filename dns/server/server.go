package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
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

	mu      sync.Mutex
	servers []*dns.Server

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
func Listen(addr string) (net.PacketConn, net.Listener, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, err
	}
	tries := 1
	if port == "0" {
		// The port UDP got may be taken for TCP: try another.
		tries = 20
	}
	for i := 0; ; i++ {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, err
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			if u, ok := pc.(*net.UDPConn); ok {
				u.SetReadBuffer(udpReadBuffer) // best effort, before any sandbox
				if a, ok := u.LocalAddr().(*net.UDPAddr); ok && a.IP.IsUnspecified() {
					// For the fast path to answer from each query's
					// destination (udp.go); without, it stays off.
					enablePktinfo(u)
				}
			}
			return pc, ln, nil
		}
		pc.Close()
		if i+1 >= tries {
			return nil, nil, err
		}
	}
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
	udp, tcp := mk(), mk()
	udp.PacketConn, tcp.Listener = s.fastConn(pc), ln
	// miekg cannot shut down a server that has not started yet: wait for
	// both before watching ctx.
	started := make(chan struct{}, 2)
	udp.NotifyStartedFunc = func() { started <- struct{}{} }
	tcp.NotifyStartedFunc = func() { started <- struct{}{} }
	s.mu.Lock()
	s.servers = append(s.servers, udp, tcp)
	s.mu.Unlock()
	errs := make(chan error, 2)
	go func() { errs <- udp.ActivateAndServe() }()
	go func() { errs <- tcp.ActivateAndServe() }()
	var err error
	for up := 0; up < 2 && err == nil; {
		select {
		case <-started:
			up++
		case err = <-errs:
		}
	}
	if err == nil {
		select {
		case <-ctx.Done():
		case err = <-errs:
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	udp.ShutdownContext(sctx)
	tcp.ShutdownContext(sctx)
	if err != nil {
		return fmt.Errorf("dns server: %w", err)
	}
	return nil
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
