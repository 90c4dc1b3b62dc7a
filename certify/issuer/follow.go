package issuer

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/authority"
	"github.com/quercus-dev/quercus/dns/tsig"
)

// Follower is a small stand-in for dns/secondary: it keeps one zone by
// signed AXFR from the primary, transferring it at start, when a NOTIFY
// for it arrives, and at the SOA's refresh interval (retry after a
// failure). It answers NOTIFY only.
type Follower struct {
	Origin  string   // the zone
	Primary string   // host:port
	Key     tsig.Key // signs the transfers
	// OnChange is called after a transfer that brought a new serial.
	OnChange func(*authority.Zone)
	Logger   *slog.Logger
	Now      func() time.Time

	once     sync.Once
	provider *tsig.Provider
	zone     atomic.Pointer[authority.Zone]
	kick     chan struct{}
}

// Zone returns the zone as last transferred, nil before the first.
func (f *Follower) Zone() *authority.Zone { return f.zone.Load() }

func (f *Follower) init() {
	f.once.Do(func() {
		f.kick = make(chan struct{}, 1)
		if f.Logger == nil {
			f.Logger = slog.New(slog.DiscardHandler)
		}
		f.Origin = strings.ToLower(dns.Fqdn(f.Origin))
		ring := tsig.NewKeyring(f.Key)
		f.provider = &tsig.Provider{Keys: func() *tsig.Keyring { return ring }, Now: f.Now}
	})
}

// Run transfers the zone now and then whenever it is due, until ctx ends.
func (f *Follower) Run(ctx context.Context) error {
	f.init()
	for {
		wait := 30 * time.Second
		if err := f.Refresh(ctx); err != nil {
			f.Logger.Warn("zone transfer failed", "zone", f.Origin, "primary", f.Primary, "err", err)
			if z := f.Zone(); z != nil {
				wait = soaTime(z, func(s *dns.SOA) uint32 { return s.Retry })
			}
		} else {
			wait = soaTime(f.Zone(), func(s *dns.SOA) uint32 { return s.Refresh })
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-f.kick:
		case <-t.C:
		}
		t.Stop()
	}
}

func soaTime(z *authority.Zone, field func(*dns.SOA) uint32) time.Duration {
	if soa, ok := z.Records()[0].(*dns.SOA); ok {
		return max(time.Duration(field(soa))*time.Second, time.Second)
	}
	return time.Hour
}

// Refresh transfers the zone once.
func (f *Follower) Refresh(ctx context.Context) error {
	f.init()
	p := f.provider
	m := new(dns.Msg).SetAxfr(f.Origin)
	if err := p.SignRequest(m, f.Key.Name); err != nil {
		return err
	}
	d := net.Dialer{Timeout: 10 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", f.Primary)
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	} else {
		conn.SetDeadline(time.Now().Add(time.Minute))
	}
	tr := &dns.Transfer{Conn: &dns.Conn{Conn: conn}, TsigProvider: p}
	ch, err := tr.In(m, f.Primary)
	if err != nil {
		return err
	}
	var rrs []dns.RR
	for env := range ch {
		if env.Error != nil {
			return env.Error
		}
		rrs = append(rrs, env.RR...)
	}
	if len(rrs) < 2 {
		return fmt.Errorf("AXFR of %s: %d records", f.Origin, len(rrs))
	}
	z, err := authority.New(f.Origin, rrs[:len(rrs)-1]) // the last is the closing SOA
	if err != nil {
		return err
	}
	old := f.zone.Swap(z)
	if old == nil || serial(old) != serial(z) {
		f.Logger.Info("zone transferred", "zone", f.Origin, "serial", serial(z), "records", len(rrs)-1)
		if f.OnChange != nil {
			f.OnChange(z)
		}
	}
	return nil
}

func serial(z *authority.Zone) uint32 {
	if soa, ok := z.Records()[0].(*dns.SOA); ok {
		return soa.Serial
	}
	return 0
}

// ServeDNS answers a NOTIFY for the zone and transfers it soon; anything
// else is REFUSED. An unsigned NOTIFY is taken as a hint too (dns-primary
// sends --also-notify ones unsigned): it can only cause a signed transfer.
func (f *Follower) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg).SetReply(r)
	_, err := f.provider.Check(r, w.TsigStatus())
	switch {
	case err != nil:
		m = f.provider.Refuse(r, err)
	case r.Opcode != dns.OpcodeNotify || len(r.Question) != 1:
		m.Rcode = dns.RcodeRefused
	case !strings.EqualFold(dns.Fqdn(r.Question[0].Name), f.Origin):
		m.Rcode = dns.RcodeNotAuth
	default:
		m.Authoritative = true
		select {
		case f.kick <- struct{}{}:
		default:
		}
	}
	f.provider.Sign(m, r, err)
	w.WriteMsg(m)
}

// Serve answers NOTIFY on pc and ln until ctx ends.
func (f *Follower) Serve(ctx context.Context, pc net.PacketConn, ln net.Listener) error {
	f.init()
	p := f.provider
	udp := &dns.Server{PacketConn: pc, Handler: f, TsigProvider: p}
	tcp := &dns.Server{Listener: ln, Handler: f, TsigProvider: p, ReadTimeout: 10 * time.Second}
	errs := make(chan error, 2)
	go func() { errs <- udp.ActivateAndServe() }()
	go func() { errs <- tcp.ActivateAndServe() }()
	select {
	case <-ctx.Done():
	case err := <-errs:
		udp.Shutdown()
		tcp.Shutdown()
		return err
	}
	udp.Shutdown()
	tcp.Shutdown()
	return ctx.Err()
}
