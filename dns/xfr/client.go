package xfr

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/authority"
	"github.com/quercus-dev/quercus/dns/tsig"
	"github.com/quercus-dev/quercus/dns/zone"
)

// Defaults for the zero values of Client's fields.
const (
	DefaultTimeout  = 10 * time.Second
	DefaultMaxBytes = zone.MaxSize
)

// ErrTooLarge is a transfer larger than Client.MaxBytes, counting its
// names uncompressed.
var ErrTooLarge = errors.New("xfr: transfer larger than the limit")

// RcodeError is an answer whose rcode is not NOERROR.
type RcodeError struct {
	Op     string // "SOA", "IXFR" or "AXFR"
	Rcode  int
	Signed bool // the answer's TSIG verified (or the request was unsigned)
}

func (e *RcodeError) Error() string {
	s := fmt.Sprintf("xfr: %s answered %s", e.Op, dns.RcodeToString[e.Rcode])
	if !e.Signed {
		s += " (unsigned)"
	}
	return s
}

// FormatError is an answer that breaks the protocol: a wrong ID or
// question, records after the end of a transfer, an IXFR that does not
// apply to the version held.
type FormatError struct {
	Op     string
	Reason string
}

func (e *FormatError) Error() string { return "xfr: " + e.Op + ": " + e.Reason }

// Client transfers zones. The zero value works.
type Client struct {
	// Timeout bounds the connection set-up and every read and write.
	// Default DefaultTimeout.
	Timeout time.Duration
	// MaxBytes bounds the bytes of one transfer, names counted
	// uncompressed. Default DefaultMaxBytes.
	MaxBytes int
	// Now is the clock for TSIG. Default time.Now.
	Now func() time.Time
	// Dial opens connections; default a net.Dialer with Timeout.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Request names a zone, where to get it, and how to sign.
type Request struct {
	Zone   string
	Server netip.AddrPort
	Key    *tsig.Key // nil: unsigned
	// Have is the version held: Transfer asks for IXFR from its serial.
	// nil asks for AXFR.
	Have *authority.Zone
}

// Kind is how a transfer went.
type Kind string

// The kinds of transfer.
const (
	AXFR     Kind = "axfr"
	IXFR     Kind = "ixfr"
	UpToDate Kind = "none" // an IXFR answered with the SOA held
)

// Result is a finished transfer.
type Result struct {
	Kind Kind
	SOA  *dns.SOA // the primary's
	// Records is the whole zone after the transfer, SOA first; for
	// UpToDate, the records held.
	Records []dns.RR
	// Steps are the changes an IXFR applied, oldest first.
	Steps []Step
	Bytes int // received
	// Fallback says why an IXFR was retried as AXFR; nil if it was not.
	Fallback error
}

func (c *Client) timeout() time.Duration {
	if c.Timeout <= 0 {
		return DefaultTimeout
	}
	return c.Timeout
}

func (c *Client) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

func (c *Client) dial(ctx context.Context, network string, addr netip.AddrPort) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	if c.Dial != nil {
		return c.Dial(ctx, network, addr.String())
	}
	return (&net.Dialer{}).DialContext(ctx, network, addr.String())
}

// SOA asks the server for the zone's SOA over UDP, and over TCP if the
// answer was truncated.
func (c *Client) SOA(ctx context.Context, r Request) (*dns.SOA, error) {
	soa, err := c.soa(ctx, "udp", r)
	if errors.Is(err, errTruncated) {
		soa, err = c.soa(ctx, "tcp", r)
	}
	return soa, err
}

var errTruncated = errors.New("xfr: truncated")

func (c *Client) soa(ctx context.Context, network string, r Request) (*dns.SOA, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(r.Zone), dns.TypeSOA)
	m.RecursionDesired = false
	ex, err := c.start(ctx, network, r, m)
	if err != nil {
		return nil, err
	}
	defer ex.close()
	var ans *dns.Msg
	for {
		// A late answer to an earlier query over UDP is skipped.
		ans, err = ex.read("SOA")
		var fe *FormatError
		if network == "udp" && errors.As(err, &fe) && fe.Reason == reasonID {
			continue
		}
		break
	}
	if err != nil {
		return nil, err
	}
	if err := ex.end(); err != nil {
		return nil, err
	}
	if ans.Truncated {
		return nil, errTruncated
	}
	for _, rr := range ans.Answer {
		if soa, ok := rr.(*dns.SOA); ok && dns.CanonicalName(soa.Hdr.Name) == dns.CanonicalName(r.Zone) {
			return soa, nil
		}
	}
	return nil, &FormatError{Op: "SOA", Reason: "no SOA for the zone in the answer"}
}

// Transfer transfers the zone: IXFR from r.Have's serial if r.Have is
// set, with a fallback to AXFR; AXFR otherwise. r.Have may be expired.
func (c *Client) Transfer(ctx context.Context, r Request) (*Result, error) {
	if r.Have == nil {
		return c.transfer(ctx, r, dns.TypeAXFR)
	}
	res, err := c.transfer(ctx, r, dns.TypeIXFR)
	var re *RcodeError
	var fe *FormatError
	switch {
	case errors.As(err, &re) && re.Rcode != dns.RcodeNotAuth, errors.As(err, &fe):
		// Refused, or broken: the whole zone may still come.
		res, aerr := c.transfer(ctx, r, dns.TypeAXFR)
		if res != nil {
			res.Fallback = err
		}
		return res, aerr
	}
	return res, err
}

func (c *Client) transfer(ctx context.Context, r Request, qtype uint16) (*Result, error) {
	op := dns.TypeToString[qtype]
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(r.Zone), qtype)
	m.RecursionDesired = false
	var have *dns.SOA
	if qtype == dns.TypeIXFR {
		have = r.Have.SOA()
		m.Ns = []dns.RR{have}
	}
	ex, err := c.start(ctx, "tcp", r, m)
	if err != nil {
		return nil, err
	}
	defer ex.close()
	col := &collector{op: op, origin: dns.CanonicalName(r.Zone), have: have}
	for first := true; !col.done; first = false {
		ans, err := ex.read(op)
		if err != nil {
			return nil, err
		}
		if err := col.add(ans.Answer); err != nil {
			return nil, err
		}
		if first && col.upToDate() {
			break
		}
	}
	if err := ex.end(); err != nil {
		return nil, err
	}
	res := &Result{SOA: col.final, Bytes: ex.bytes}
	switch {
	case col.upToDate():
		res.Kind, res.Records = UpToDate, r.Have.Records()
	case col.steps != nil:
		res.Kind, res.Steps = IXFR, col.steps
		if res.Records, err = Apply(r.Have.Records(), col.steps); err != nil {
			return nil, &FormatError{Op: op, Reason: err.Error()}
		}
	default:
		res.Kind, res.Records = AXFR, col.records
	}
	return res, nil
}

// exchange is one request and the messages answering it.
type exchange struct {
	c      *Client
	conn   net.Conn
	tcp    bool
	id     uint16
	q      dns.Question
	stream *tsig.Stream // nil for an unsigned request
	bytes  int
	n      int
	stop   func() bool
}

// start signs m with r.Key, connects and sends it.
func (c *Client) start(ctx context.Context, network string, r Request, m *dns.Msg) (*exchange, error) {
	m.Id = dns.Id()
	var raw []byte
	var stream *tsig.Stream
	var err error
	if r.Key != nil {
		p := &tsig.Provider{Keys: ring(*r.Key), Now: c.now}
		if err := p.SignRequest(m, r.Key.Name); err != nil {
			return nil, err
		}
		var mac string
		if raw, mac, err = dns.TsigGenerateWithProvider(m, p, "", false); err != nil {
			return nil, err
		}
		stream = p.NewStream(*r.Key, mac)
	} else if raw, err = m.Pack(); err != nil {
		return nil, err
	}
	conn, err := c.dial(ctx, network, r.Server)
	if err != nil {
		return nil, err
	}
	ex := &exchange{c: c, conn: conn, tcp: network == "tcp", id: m.Id, q: m.Question[0], stream: stream}
	ex.stop = context.AfterFunc(ctx, func() { conn.Close() })
	if ex.tcp {
		raw = append(binary.BigEndian.AppendUint16(nil, uint16(len(raw))), raw...)
	}
	conn.SetWriteDeadline(time.Now().Add(c.timeout()))
	if _, err := conn.Write(raw); err != nil {
		ex.close()
		return nil, ctxErr(ctx, err)
	}
	return ex, nil
}

func ring(k tsig.Key) func() *tsig.Keyring {
	r := tsig.NewKeyring(k)
	return func() *tsig.Keyring { return r }
}

func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

func (ex *exchange) close() {
	ex.stop()
	ex.conn.Close()
}

const reasonID = "answer with another ID"

// read reads, verifies and unpacks the next message.
func (ex *exchange) read(op string) (*dns.Msg, error) {
	ex.conn.SetReadDeadline(time.Now().Add(ex.c.timeout()))
	var raw []byte
	if ex.tcp {
		var l [2]byte
		if _, err := io.ReadFull(ex.conn, l[:]); err != nil {
			return nil, fmt.Errorf("xfr: %s: read: %w", op, err)
		}
		raw = make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(ex.conn, raw); err != nil {
			return nil, fmt.Errorf("xfr: %s: read: %w", op, err)
		}
	} else {
		buf := make([]byte, dns.MaxMsgSize)
		n, err := ex.conn.Read(buf)
		if err != nil {
			return nil, fmt.Errorf("xfr: %s: read: %w", op, err)
		}
		raw = buf[:n]
	}
	max := ex.c.MaxBytes
	if max <= 0 {
		max = DefaultMaxBytes
	}
	if ex.bytes += len(raw); ex.bytes > max {
		return nil, fmt.Errorf("%w (%d bytes)", ErrTooLarge, max)
	}
	m := new(dns.Msg)
	if err := m.Unpack(raw); err != nil {
		return nil, &FormatError{Op: op, Reason: "unreadable answer: " + err.Error()}
	}
	// Names compressed to 2-byte pointers unpack into whole strings:
	// count what the records take once unpacked, not only the wire.
	if ex.bytes += m.Len() - len(raw); ex.bytes > max {
		return nil, fmt.Errorf("%w (%d bytes, names uncompressed)", ErrTooLarge, max)
	}
	if m.Id != ex.id || !m.Response {
		return nil, &FormatError{Op: op, Reason: reasonID}
	}
	signed := true
	if ex.stream != nil {
		if _, err := ex.stream.Verify(raw); err != nil {
			if m.Rcode != dns.RcodeSuccess {
				return nil, &RcodeError{Op: op, Rcode: m.Rcode, Signed: false}
			}
			return nil, fmt.Errorf("xfr: %s: %w", op, err)
		}
		signed = ex.n == 0 || m.IsTsig() != nil
	}
	if m.Rcode != dns.RcodeSuccess {
		return nil, &RcodeError{Op: op, Rcode: m.Rcode, Signed: signed}
	}
	if ex.n == 0 || len(m.Question) > 0 {
		if len(m.Question) != 1 || m.Question[0].Qtype != ex.q.Qtype || dns.CanonicalName(m.Question[0].Name) != dns.CanonicalName(ex.q.Name) {
			return nil, &FormatError{Op: op, Reason: "answer to another question"}
		}
	}
	ex.n++
	return m, nil
}

// end checks that the answer ended signed.
func (ex *exchange) end() error {
	if ex.stream == nil {
		return nil
	}
	return ex.stream.End()
}
