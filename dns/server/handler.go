package server

import (
	"context"
	"net"
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/authority"
)

// ServeDNS answers one message.
func (s *Server) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	from := addrPort(w.RemoteAddr())
	_, overTCP := w.RemoteAddr().(*net.TCPAddr)
	if len(r.Question) != 1 {
		// The header promised one question, the message held none:
		// miekg unpacks a bare header without an error.
		s.write(w, r, reply(r, dns.RcodeFormatError), overTCP)
		return
	}

	key, refusal, tsigErr := s.authenticate(w, r)
	if refusal != nil {
		s.writeStatus(w, r, refusal, overTCP, tsigErr)
		return
	}
	if opt := r.IsEdns0(); opt != nil && opt.Version() != 0 {
		// RFC 6891 §6.1.3: BADVERS, with our own OPT of version 0.
		m := reply(r, dns.RcodeBadVers)
		s.write(w, r, m, overTCP)
		return
	}
	switch r.Opcode {
	case dns.OpcodeQuery:
		q := r.Question[0]
		switch {
		case q.Qclass != dns.ClassINET && q.Qclass != dns.ClassANY:
			s.write(w, r, reply(r, dns.RcodeRefused), overTCP)
		case q.Qtype == dns.TypeAXFR || q.Qtype == dns.TypeIXFR:
			s.transfer(w, r, key, overTCP)
		default:
			s.write(w, r, s.answer(r), overTCP)
		}
	case dns.OpcodeNotify:
		s.write(w, r, s.notify(r, key, from), overTCP)
	case dns.OpcodeUpdate:
		if s.cfg.Update == nil {
			s.write(w, r, reply(r, dns.RcodeNotImplemented), overTCP)
			return
		}
		s.write(w, r, s.cfg.Update(context.Background(), r, key, from), overTCP)
	default:
		s.write(w, r, reply(r, dns.RcodeNotImplemented), overTCP)
	}
}

// answer answers a standard query from the current zones.
func (s *Server) answer(r *dns.Msg) *dns.Msg {
	m := lookup(s.cfg.Zones(), r)
	s.cfg.Metrics.query(r.Question[0].Qtype, m.Rcode)
	return m
}

// lookup answers a standard query from set, before EDNS and truncation.
func lookup(set *authority.Set, r *dns.Msg) *dns.Msg {
	res := set.Answer(r.Question[0])
	m := reply(r, res.Rcode)
	m.Authoritative = res.Authoritative
	m.Answer, m.Ns, m.Extra = res.Answer, res.Ns, res.Extra
	return m
}

// reply starts a response to r with the given rcode.
func reply(r *dns.Msg, rcode int) *dns.Msg {
	m := new(dns.Msg)
	m.SetRcode(r, rcode)
	m.RecursionDesired = r.RecursionDesired
	m.CheckingDisabled = r.CheckingDisabled
	return m
}

// write finishes a response: EDNS, truncation over UDP, and a TSIG record
// when the request was signed (miekg signs it as it writes).
func (s *Server) write(w dns.ResponseWriter, r, m *dns.Msg, overTCP bool) {
	s.writeStatus(w, r, m, overTCP, w.TsigStatus())
}

func (s *Server) writeStatus(w dns.ResponseWriter, r, m *dns.Msg, overTCP bool, tsigStatus error) {
	fit(r, m, overTCP)
	s.sign(r, m, tsigStatus)
	if err := w.WriteMsg(m); err != nil {
		s.cfg.Logger.Debug("dns: write failed", "err", err)
	}
}

// fit adds our OPT record when the request had one (or the rcode needs
// one) and truncates a UDP answer to what the client can take, leaving
// room for a TSIG record when the request was signed. The fast path packs
// its cached answers through here too, so both agree byte for byte.
func fit(r, m *dns.Msg, overTCP bool) {
	size := dns.MaxMsgSize
	if opt := r.IsEdns0(); opt != nil {
		m.SetEdns0(DefaultUDPSize, false)
		if !overTCP {
			size = max(plainUDPSize, min(int(opt.UDPSize()), DefaultUDPSize))
		}
	} else if !overTCP {
		size = plainUDPSize
	}
	if m.Rcode > 0xF && m.IsEdns0() == nil {
		// An extended rcode needs an OPT record to travel in.
		m.SetEdns0(DefaultUDPSize, false)
	}
	if !overTCP {
		room := 0
		if t := r.IsTsig(); t != nil {
			room = tsigRoom(t) // the signature comes after truncation
		}
		m.Truncate(size - room)
		// miekg never truncates below 512 bytes: make room for the
		// signature ourselves, dropping records from the end.
		for room > 0 && m.Len()+room > size && dropLast(m) {
			m.Truncated = true
		}
	}
}

func addrPort(a net.Addr) netip.AddrPort {
	switch a := a.(type) {
	case *net.UDPAddr:
		return a.AddrPort()
	case *replyAddr:
		return a.AddrPort()
	case *net.TCPAddr:
		return a.AddrPort()
	}
	return netip.AddrPort{}
}

// zoneFor is the served zone a transfer or notify names exactly.
func (s *Server) zoneFor(name string) *authority.Zone {
	return s.cfg.Zones().Zone(dns.CanonicalName(name))
}

// tsigRoom is the most the TSIG record signing an answer to t can take:
// the longest MAC (hmac-sha512) and the six bytes of a BADTIME's data.
func tsigRoom(t *dns.TSIG) int {
	return dns.Len(&dns.TSIG{
		Hdr:       dns.RR_Header{Name: t.Hdr.Name, Rrtype: dns.TypeTSIG, Class: dns.ClassANY},
		Algorithm: t.Algorithm,
		MACSize:   64,
		MAC:       strings.Repeat("00", 64),
		OtherLen:  6,
		OtherData: "000000000000",
	})
}

// dropLast removes the last record of m, OPT aside, for truncation.
func dropLast(m *dns.Msg) bool {
	m.Compress = true
	for i := len(m.Extra) - 1; i >= 0; i-- {
		if m.Extra[i].Header().Rrtype != dns.TypeOPT {
			m.Extra = append(m.Extra[:i], m.Extra[i+1:]...)
			return true
		}
	}
	switch {
	case len(m.Ns) > 0:
		m.Ns = m.Ns[:len(m.Ns)-1]
	case len(m.Answer) > 0:
		m.Answer = m.Answer[:len(m.Answer)-1]
	default:
		return false
	}
	return true
}
