package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/authority"
	"github.com/quercus-dev/quercus/dns/tsig"
	"github.com/quercus-dev/quercus/dns/zone"
)

// Defaults for the zero values of Notifier's fields, after RFC 1996 §3.6:
// "a maximum of 5 retransmissions"; its 60 second interval is about what
// doubling from one second takes in all (1+2+4+8+16+32 s).
const (
	DefaultRetries     = 5
	DefaultBackoff     = time.Second
	DefaultPort        = 53
	DefaultMaxInFlight = 64
)

// Notifier sends NOTIFY messages. The zero value works; it is safe for
// concurrent use and must not be copied after first use.
type Notifier struct {
	// Keys returns the TSIG keys: the _transfer keys say which
	// secondaries to notify and sign their notifies. nil means Provider's
	// keys, or none.
	Keys func() *tsig.Keyring
	// Provider signs notifies and verifies the answers. nil means one of
	// Keys and Now.
	Provider *tsig.Provider
	// Now is the clock for TSIG when Provider is nil. Default time.Now.
	Now func() time.Time
	// Logger gets one line per target notified. Default slog.Default().
	Logger *slog.Logger
	// Retries is how many times an unanswered notify is sent again:
	// 0 means DefaultRetries, negative none.
	Retries int
	// Backoff is how long the first notify waits for its answer; each
	// retransmission waits twice as long as the one before (RFC 1996 §3.6
	// allows exponential back-off). Default DefaultBackoff.
	Backoff time.Duration
	// Port is where NS and _transfer key targets listen. Default 53.
	Port int
	// MaxInFlight bounds the targets being notified at once, over all
	// zones. Default DefaultMaxInFlight.
	MaxInFlight int
	// Metrics counts messages and results; nil counts nothing.
	Metrics *Metrics

	once     sync.Once
	provider *tsig.Provider
	keys     func() *tsig.Keyring
	slots    chan struct{} // one per target being notified
	wg       sync.WaitGroup
	mu       sync.Mutex
	pending  map[string]*job   // by zone origin
	newest   map[string]uint32 // the newest serial notified, by zone origin
}

// job is the notification of one serial of one zone.
type job struct {
	serial uint32
	cancel context.CancelFunc
}

func (n *Notifier) init() {
	n.once.Do(func() {
		n.provider = n.Provider
		if n.provider == nil {
			n.provider = &tsig.Provider{Keys: n.Keys, Now: n.Now}
		}
		n.keys = n.Keys
		if n.keys == nil {
			n.keys = func() *tsig.Keyring {
				if n.provider.Keys == nil {
					return nil
				}
				return n.provider.Keys()
			}
		}
		if n.Logger == nil {
			n.Logger = slog.Default()
		}
		if n.Retries == 0 {
			n.Retries = DefaultRetries
		}
		if n.Backoff <= 0 {
			n.Backoff = DefaultBackoff
		}
		if n.Port <= 0 {
			n.Port = DefaultPort
		}
		if n.MaxInFlight <= 0 {
			n.MaxInFlight = DefaultMaxInFlight
		}
		n.slots = make(chan struct{}, n.MaxInFlight)
		n.pending = map[string]*job{}
		n.newest = map[string]uint32{}
	})
}

// Notify notifies the targets of z (see Targets) and also that z now has
// its current serial, in the background. Retransmissions still pending
// for the zone stop, and its targets are notified anew; but a call for a
// serial older than the one being notified is ignored. Everything stops
// when ctx ends.
func (n *Notifier) Notify(ctx context.Context, z *authority.Zone, also []netip.AddrPort) {
	n.init()
	origin, serial := z.Origin(), z.SOA().Serial
	n.mu.Lock()
	// An older serial than one already notified is stale, also once that
	// notification has ended.
	if newest, ok := n.newest[origin]; ok && zone.SerialLess(serial, newest) {
		n.mu.Unlock()
		n.Logger.Debug("notify: a newer serial was notified", "zone", origin, "serial", serial, "newest", newest)
		return
	}
	n.newest[origin] = serial
	if old := n.pending[origin]; old != nil {
		old.cancel()
	}
	ctx, cancel := context.WithCancel(ctx)
	j := &job{serial: serial, cancel: cancel}
	n.pending[origin] = j
	n.wg.Add(1)
	n.mu.Unlock()

	go func() {
		defer n.wg.Done()
		defer func() {
			cancel()
			n.mu.Lock()
			if n.pending[origin] == j {
				delete(n.pending, origin)
			}
			n.mu.Unlock()
		}()
		n.notifyAll(ctx, z, Targets(z, n.keys(), also, n.Port))
	}()
}

// Wait waits until every notification has ended: answered, given up or
// cancelled.
func (n *Notifier) Wait() {
	n.init()
	n.wg.Wait()
}

func (n *Notifier) notifyAll(ctx context.Context, z *authority.Zone, targets []Target) {
	if len(targets) == 0 {
		n.Logger.Debug("notify: nobody to notify", "zone", z.Origin())
		return
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	for i, t := range targets {
		select {
		case n.slots <- struct{}{}:
		case <-ctx.Done():
			for range targets[i:] {
				n.Metrics.result(Superseded)
			}
			return
		}
		wg.Add(1)
		go func() {
			defer func() { <-n.slots; wg.Done() }()
			n.notifyOne(ctx, z, t)
		}()
	}
}

// notifyOne notifies one target and reports the result.
func (n *Notifier) notifyOne(ctx context.Context, z *authority.Zone, t Target) {
	sent, rcode, err := n.exchange(ctx, z, t)
	log := n.Logger.With("zone", z.Origin(), "serial", z.SOA().Serial, "to", t.Addr.String(), "key", t.Key, "sent", sent)
	var result string
	switch {
	case err == nil && rcode == dns.RcodeSuccess:
		result = Answered
		log.Info("notify answered")
	case err == nil:
		result = Refused
		log.Warn("notify refused", "rcode", dns.RcodeToString[rcode])
	case ctx.Err() != nil:
		result = Superseded
		log.Debug("notify cancelled", "err", err)
	case errors.Is(err, errUnanswered):
		result = Unanswered
		log.Warn("notify unanswered", "err", err)
	default:
		result = Unreachable
		log.Warn("notify failed", "err", err)
	}
	n.Metrics.result(result)
}

var errUnanswered = errors.New("no answer")

// exchange sends the notify and its retransmissions to t over one UDP
// socket, connected so that only t's address and port can answer
// (RFC 1996 §3.6), until an answer or an error. It returns how many
// messages it sent and the answer's rcode.
func (n *Notifier) exchange(ctx context.Context, z *authority.Zone, t Target) (sent, rcode int, err error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", t.Addr.String())
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close()
	// Wake a blocked read when ctx ends.
	defer context.AfterFunc(ctx, func() { conn.SetReadDeadline(time.Now()) })()

	id := dns.Id() // the same for every copy, so a late answer counts
	var (
		macs    []string // of every copy sent: any of them may be answered
		problem error    // why the last message received did not count
		wait    = n.Backoff
	)
	for {
		msg, mac, err := n.request(z, id, t.Key)
		if err != nil {
			return sent, 0, err
		}
		if _, err := conn.Write(msg); err != nil {
			return sent, 0, err
		}
		sent++
		n.Metrics.sent()
		macs = append(macs, mac)

		r, skipped, err := n.await(ctx, conn, time.Now().Add(wait), id, z.Origin(), t.Key, macs)
		switch {
		case r != nil:
			return sent, r.Rcode, nil
		case err != nil:
			return sent, 0, err
		case skipped != nil:
			problem = skipped
		}
		if sent > n.Retries {
			if problem != nil {
				return sent, 0, fmt.Errorf("%w to %d messages; the last one received: %v", errUnanswered, sent, problem)
			}
			return sent, 0, fmt.Errorf("%w to %d messages", errUnanswered, sent)
		}
		n.Logger.Debug("notify unanswered, sending again", "zone", z.Origin(), "to", t.Addr.String(), "waited", wait)
		wait *= 2
	}
}

// request packs the NOTIFY for z (RFC 1996 §3.7), signed with key if
// there is one, and returns it with its MAC.
func (n *Notifier) request(z *authority.Zone, id uint16, key string) ([]byte, string, error) {
	m := new(dns.Msg)
	m.SetNotify(z.Origin())
	m.Id = id
	// The new SOA, as a hint the secondary may use (§3.7).
	m.Answer = []dns.RR{z.SOA()}
	if key == "" {
		b, err := m.Pack()
		return b, "", err
	}
	if err := n.provider.SignRequest(m, key); err != nil {
		return nil, "", err
	}
	return dns.TsigGenerateWithProvider(m, n.provider, "", false)
}

// await reads until deadline for an answer to the notify: a response with
// its ID and QNAME, verified against one of the copies' MACs if signed.
// Other messages are skipped; if no answer came, skipped says why the last
// one did not count.
func (n *Notifier) await(ctx context.Context, conn net.Conn, deadline time.Time, id uint16, origin, key string, macs []string) (answer *dns.Msg, skipped, err error) {
	conn.SetReadDeadline(deadline)
	if err := ctx.Err(); err != nil { // ended before the deadline was set
		return nil, nil, err
	}
	buf := make([]byte, dns.DefaultMsgSize)
	for {
		size, err := conn.Read(buf)
		var ne net.Error
		switch {
		case ctx.Err() != nil:
			return nil, nil, ctx.Err()
		case errors.As(err, &ne) && ne.Timeout():
			return nil, skipped, nil
		case errors.Is(err, syscall.ECONNREFUSED):
			return nil, nil, fmt.Errorf("port unreachable: %w", err)
		case err != nil:
			return nil, nil, err
		}
		raw := buf[:size]
		r := new(dns.Msg)
		if err := r.Unpack(raw); err != nil {
			skipped = fmt.Errorf("unreadable: %w", err)
			continue
		}
		if !r.Response || r.Id != id || r.Opcode != dns.OpcodeNotify || len(r.Question) != 1 ||
			!strings.EqualFold(dns.Fqdn(r.Question[0].Name), origin) {
			skipped = errors.New("not an answer to our notify")
			continue
		}
		if key != "" {
			if err := n.verify(raw, macs); err != nil {
				skipped = err
				continue
			}
		}
		return r, nil, nil
	}
}

// verify checks that raw is signed as an answer to one of the requests
// whose MACs are given (RFC 8945 §5.3).
func (n *Notifier) verify(raw []byte, macs []string) error {
	var err error
	for _, mac := range macs {
		if _, _, err = n.provider.VerifyMsg(raw, mac, false); err == nil {
			return nil
		}
	}
	if errors.Is(err, dns.ErrNoSig) {
		return errors.New("answer not signed")
	}
	return fmt.Errorf("answer does not verify: %w", err)
}
