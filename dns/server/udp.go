package server

import (
	"net"
)

// fastConn is the UDP socket as miekg's server sees it: its ReadFrom
// answers every query the fast path can, on the reading goroutine, and
// returns only the others, which miekg unpacks and hands to ServeDNS as
// before. The fast path thus needs no goroutine, no dns.Msg and no
// allocation per query.
type fastConn struct {
	*net.UDPConn
	s   *Server
	in  []byte
	out []byte
}

// fastConn wraps pc for the fast path, or returns pc unchanged when the
// fast path is off or cannot be used: it writes answers from the
// socket's own address, so a socket bound to the unspecified address,
// whose answers need the query's destination address as their source
// (miekg reads it from the control messages), keeps the general path.
func (s *Server) fastConn(pc net.PacketConn) net.PacketConn {
	u, ok := pc.(*net.UDPConn)
	if !ok || s.cfg.NoFastPath {
		return pc
	}
	if a, ok := u.LocalAddr().(*net.UDPAddr); !ok || a.IP.IsUnspecified() {
		return pc
	}
	return &fastConn{UDPConn: u, s: s, in: make([]byte, 65535), out: make([]byte, DefaultUDPSize)}
}

// ReadFrom returns the next message the fast path did not answer.
func (c *fastConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, from, err := c.UDPConn.ReadFromUDPAddrPort(c.in)
		if err != nil {
			return 0, nil, err
		}
		if resp, ok := c.s.fastAnswer(c.in[:n], c.out); ok {
			// A failed write is a lost answer, as in miekg's writer;
			// the client asks again.
			c.UDPConn.WriteToUDPAddrPort(resp, from)
			continue
		}
		return copy(b, c.in[:n]), net.UDPAddrFromAddrPort(from), nil
	}
}
