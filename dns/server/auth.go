package server

import (
	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/tsig"
)

// authenticate returns the key that signed r (nil if unsigned), or the
// TSIG error and the response refusing it (RFC 8945 §5.2).
func (s *Server) authenticate(w dns.ResponseWriter, r *dns.Msg) (*tsig.Key, *dns.Msg, error) {
	key, err := s.provider.Check(r, w.TsigStatus())
	if err != nil {
		s.cfg.Logger.Info("dns: bad TSIG", "from", addrPort(w.RemoteAddr()).Addr().String(), "err", err)
		s.cfg.Metrics.refused("tsig")
		return nil, s.provider.Refuse(r, err), err
	}
	return key, nil, nil
}

// sign attaches, as the last record, the TSIG record miekg completes when
// it writes m: signed for a valid request, an error record for a bad one.
func (s *Server) sign(r, m *dns.Msg, status error) {
	s.provider.Sign(m, r, status)
}
