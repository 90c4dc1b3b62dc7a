package certify

import (
	"context"
	"fmt"
	"time"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/tsig"
)

// Server is a primary DNS server that takes signed UPDATEs (RFC 2136) for
// a zone: dns-primary, or any server that knows the key.
type Server struct {
	Addr string   // host:port
	Key  tsig.Key // a key with update rights on Zone
	// Zone is the zone to update; empty means the key's zone.
	Zone string
	// Timeout bounds each exchange. Default 10s.
	Timeout time.Duration
	// Now is the clock for TSIG. Default time.Now.
	Now func() time.Time
}

// UpdateError is an UPDATE the server refused.
type UpdateError struct {
	Rcode int
	Zone  string
}

func (e *UpdateError) Error() string {
	return fmt.Sprintf("UPDATE of %s refused: %s", e.Zone, dns.RcodeToString[e.Rcode])
}

func (s *Server) zone() string {
	if s.Zone != "" {
		return dns.Fqdn(s.Zone)
	}
	return s.Key.Zone
}

func (s *Server) client() (*dns.Client, *tsig.Provider) {
	ring := tsig.NewKeyring(s.Key)
	p := &tsig.Provider{Keys: func() *tsig.Keyring { return ring }, Now: s.Now}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	// TCP: certificates make large messages.
	return &dns.Client{Net: "tcp", Timeout: timeout, TsigProvider: p}, p
}

// Update sends one signed UPDATE that deletes the records of remove (each
// exactly, RFC 2136 §2.5.4) and then adds those of add.
func (s *Server) Update(ctx context.Context, remove, add []dns.RR) error {
	if len(remove)+len(add) == 0 {
		return nil
	}
	c, p := s.client()
	m := new(dns.Msg)
	m.SetUpdate(s.zone())
	if len(remove) > 0 {
		m.Remove(remove)
	}
	if len(add) > 0 {
		m.Insert(add)
	}
	if err := p.SignRequest(m, s.Key.Name); err != nil {
		return err
	}
	r, _, err := c.ExchangeContext(ctx, m, s.Addr)
	switch {
	case r != nil && r.Rcode != dns.RcodeSuccess:
		return &UpdateError{Rcode: r.Rcode, Zone: s.zone()}
	case err != nil:
		return fmt.Errorf("UPDATE of %s at %s: %w", s.zone(), s.Addr, err)
	}
	return nil
}

// Lookup asks the server for the records of type qtype at name.
func (s *Server) Lookup(ctx context.Context, name string, qtype uint16) ([]dns.RR, error) {
	c, _ := s.client()
	c.TsigProvider = nil
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	r, _, err := c.ExchangeContext(ctx, m, s.Addr)
	if err != nil {
		return nil, fmt.Errorf("%s %s at %s: %w", name, dns.TypeToString[qtype], s.Addr, err)
	}
	if r.Rcode != dns.RcodeSuccess && r.Rcode != dns.RcodeNameError {
		return nil, fmt.Errorf("%s %s at %s: %s", name, dns.TypeToString[qtype], s.Addr, dns.RcodeToString[r.Rcode])
	}
	var out []dns.RR
	for _, rr := range r.Answer {
		if rr.Header().Rrtype == qtype {
			out = append(out, rr)
		}
	}
	return out, nil
}

// Published returns host's records as the server has them.
func (s *Server) Published(ctx context.Context, host string) (*Published, error) {
	rrs, err := s.Lookup(ctx, RecordName(host), dns.TypeTLSA)
	if err != nil {
		return nil, err
	}
	hostName, _ := HostOf(RecordName(host))
	if p := Collect(rrs)[hostName]; p != nil {
		return p, nil
	}
	return &Published{Host: hostName}, nil
}
