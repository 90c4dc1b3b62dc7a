package server

import (
	"net/netip"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/authority"
	"github.com/quercus-dev/quercus/dns/tsig"
	"github.com/quercus-dev/quercus/dns/zone"
)

// envelopeSize is how full we pack each transfer message: well under the
// 64 KiB limit, so the TSIG record always fits after it.
const envelopeSize = 16 << 10

// transfer answers AXFR (RFC 5936) and IXFR (RFC 1995).
func (s *Server) transfer(w dns.ResponseWriter, r *dns.Msg, key *tsig.Key, overTCP bool) {
	q := r.Question[0]
	if q.Qtype == dns.TypeAXFR && !overTCP {
		// RFC 5936 §4.2: AXFR is not defined over UDP.
		s.write(w, r, reply(r, dns.RcodeNotImplemented), overTCP)
		return
	}
	z := s.zoneFor(q.Name)
	if z == nil {
		s.write(w, r, reply(r, dns.RcodeNotAuth), overTCP)
		return
	}
	if !s.cfg.AXFROpen && (key == nil || !key.Allows(tsig.Transfer, z.Origin())) {
		s.cfg.Logger.Info("dns: transfer refused", "zone", z.Origin(), "from", addrPort(w.RemoteAddr()).Addr().String(), "key", tsig.NameOf(key))
		s.cfg.Metrics.refused("transfer")
		s.write(w, r, reply(r, dns.RcodeRefused), overTCP)
		return
	}
	if z.Expired() {
		// Our copy may be out of date: the secondaries must not take it.
		s.write(w, r, reply(r, dns.RcodeServerFailure), overTCP)
		return
	}
	soa := z.SOA()
	if q.Qtype == dns.TypeIXFR {
		// RFC 1995 §3: the client's SOA is the only authority record.
		var have *dns.SOA
		if len(r.Ns) == 1 {
			have, _ = r.Ns[0].(*dns.SOA)
		}
		switch {
		case have == nil:
			s.write(w, r, reply(r, dns.RcodeFormatError), overTCP)
			return
		case !zone.SerialLess(have.Serial, soa.Serial):
			// Up to date (RFC 1995 §2): the current SOA alone.
			m := reply(r, dns.RcodeSuccess)
			m.Authoritative = true
			m.Answer = []dns.RR{soa}
			s.write(w, r, m, overTCP)
			return
		case !overTCP:
			// RFC 1995 §2: over UDP, tell the client to come over TCP.
			m := reply(r, dns.RcodeSuccess)
			m.Authoritative = true
			m.Answer = []dns.RR{soa}
			s.write(w, r, m, overTCP)
			return
		}
		if s.cfg.Transfer != nil {
			if rrs, ok := s.cfg.Transfer.IXFR(z, have.Serial); ok {
				s.cfg.Metrics.transfer("ixfr")
				s.stream(w, r, rrs)
				return
			}
		}
	}
	s.cfg.Metrics.transfer("axfr")
	s.stream(w, r, axfr(z))
}

// axfr is the zone framed by its SOA (RFC 5936 §2.2).
func axfr(z *authority.Zone) []dns.RR {
	recs := z.Records()
	out := make([]dns.RR, 0, len(recs)+1)
	out = append(out, recs...)
	return append(out, z.SOA())
}

// stream sends rrs in as many messages as they need, each signed when the
// request was: the first in full, the rest chained to it (RFC 8945 §5.3.1).
func (s *Server) stream(w dns.ResponseWriter, r *dns.Msg, rrs []dns.RR) {
	for len(rrs) > 0 {
		m := reply(r, dns.RcodeSuccess)
		m.Authoritative = true
		m.Compress = true
		size := 12 + 512 // header, question and room for TSIG
		n := 0
		for n < len(rrs) && (n == 0 || size+dns.Len(rrs[n]) < envelopeSize) {
			size += dns.Len(rrs[n])
			n++
		}
		m.Answer, rrs = rrs[:n], rrs[n:]
		s.sign(r, m, nil)
		if err := w.WriteMsg(m); err != nil {
			s.cfg.Logger.Info("dns: transfer aborted", "err", err)
			return
		}
		w.TsigTimersOnly(true)
	}
}

// notify handles an incoming NOTIFY (RFC 1996): only signed ones, with a
// key that may notify for the zone, and unsigned ones NotifyFrom approves
// cause anything.
func (s *Server) notify(r *dns.Msg, key *tsig.Key, from netip.AddrPort) *dns.Msg {
	q := r.Question[0]
	z := s.zoneFor(q.Name)
	switch {
	case z == nil || q.Qtype != dns.TypeSOA:
		return reply(r, dns.RcodeNotAuth)
	case key == nil && s.cfg.NotifyFrom != nil && s.cfg.NotifyFrom(z.Origin(), from.Addr().Unmap()):
		key = &tsig.Key{}
	case key == nil || !key.Allows(tsig.Notify, z.Origin()):
		s.cfg.Logger.Info("dns: notify refused", "zone", q.Name, "from", from.Addr().String(), "key", tsig.NameOf(key))
		s.cfg.Metrics.refused("notify")
		return reply(r, dns.RcodeRefused)
	}
	if s.cfg.Notify != nil {
		s.cfg.Notify(z.Origin(), *key, from)
	}
	m := reply(r, dns.RcodeSuccess)
	m.Authoritative = true
	return m
}
