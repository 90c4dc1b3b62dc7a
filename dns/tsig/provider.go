package tsig

import (
	"crypto/hmac"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/miekg/dns"
)

// DefaultFudge is the time window in seconds, either way, that RFC 8945
// §10 recommends; SignRequest uses it, responses echo the request's.
const DefaultFudge = 300

// Provider signs and verifies TSIG for miekg/dns (it is a
// dns.TsigProvider) with keys that may change and a clock that tests can
// set. See the package documentation for how a server uses it.
type Provider struct {
	// Keys returns the current keys; it is called for every signed
	// message, so it must be cheap (an atomic.Pointer's Load). nil, or a
	// nil Keyring, means no keys.
	Keys func() *Keyring
	// Now is the clock for the time check and for the time in our
	// signatures. nil means time.Now.
	Now func() time.Time
}

var _ dns.TsigProvider = (*Provider)(nil)

func (p *Provider) now() time.Time {
	if p.Now == nil {
		return time.Now()
	}
	return p.Now()
}

func (p *Provider) key(name string) (Key, bool) {
	if p.Keys == nil {
		return Key{}, false
	}
	return p.Keys().Key(name)
}

// Error is a message whose TSIG does not verify. Code is the TSIG error
// to answer with (RFC 8945 §5.2): dns.RcodeBadKey, dns.RcodeBadSig or
// dns.RcodeBadTime, or dns.RcodeFormatError for a TSIG record that
// cannot be interpreted, which is answered FORMERR without TSIG.
type Error struct {
	Code   int
	Key    string // the key name the message gave
	Reason string
	Err    error // miekg's error, when it found the problem
}

func (e *Error) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("tsig: %s: %s", dns.RcodeToString[e.Code], e.Reason)
	}
	return fmt.Sprintf("tsig: %s: key %s: %s", dns.RcodeToString[e.Code], e.Key, e.Reason)
}

func (e *Error) Unwrap() error { return e.Err }

// Is matches miekg's errors for the same failure, so that
// errors.Is(err, dns.ErrTime) works whoever found it.
func (e *Error) Is(target error) bool {
	switch e.Code {
	case dns.RcodeBadKey:
		return target == dns.ErrSecret
	case dns.RcodeBadSig:
		return target == dns.ErrSig
	case dns.RcodeBadTime:
		return target == dns.ErrTime
	}
	return false
}

// ErrorCode is the TSIG error to answer when verification failed with
// err, from this package or from miekg: 0 for nil, dns.RcodeBadKey,
// dns.RcodeBadSig, dns.RcodeBadTime, or dns.RcodeFormatError for anything
// else (a TSIG record miekg could not take apart).
func ErrorCode(err error) int {
	var e *Error
	switch {
	case err == nil:
		return dns.RcodeSuccess
	case errors.As(err, &e):
		return e.Code
	case errors.Is(err, dns.ErrTime):
		return dns.RcodeBadTime
	case errors.Is(err, dns.ErrSig):
		return dns.RcodeBadSig
	case errors.Is(err, dns.ErrSecret), errors.Is(err, dns.ErrKeyAlg):
		return dns.RcodeBadKey
	}
	return dns.RcodeFormatError
}

// keyFor finds the key a TSIG record names. RFC 8945 §5.2.1: an unknown
// name, or a known name with another algorithm, is BADKEY.
func (p *Provider) keyFor(t *dns.TSIG) (Key, error) {
	k, ok := p.key(t.Hdr.Name)
	if !ok {
		return Key{}, &Error{Code: dns.RcodeBadKey, Key: t.Hdr.Name, Reason: "unknown key"}
	}
	if alg := dns.CanonicalName(t.Algorithm); alg != k.Algorithm {
		return Key{}, &Error{Code: dns.RcodeBadKey, Key: t.Hdr.Name,
			Reason: fmt.Sprintf("message uses %s, the key is %s", alg, k.Algorithm)}
	}
	return k, nil
}

// Generate implements dns.TsigProvider: the MAC of msg, the bytes miekg
// assembled per RFC 8945 §4.3.
func (p *Provider) Generate(msg []byte, t *dns.TSIG) ([]byte, error) {
	k, err := p.keyFor(t)
	if err != nil {
		return nil, err
	}
	return k.mac(msg)
}

// Verify implements dns.TsigProvider: it checks the MAC and then the
// time with p's clock. miekg checks the time again with time.Now after
// Verify returns nil; see the package documentation.
func (p *Provider) Verify(msg []byte, t *dns.TSIG) error {
	k, err := p.keyFor(t)
	if err != nil {
		return err
	}
	return p.check(k, msg, t)
}

// check verifies t's MAC over msg and then t's time. The order is RFC 8945
// §5.2.3's: a forged message must learn nothing, not even our clock.
func (p *Provider) check(k Key, msg []byte, t *dns.TSIG) error {
	want, err := k.mac(msg)
	if err != nil {
		return &Error{Code: dns.RcodeBadKey, Key: t.Hdr.Name, Reason: err.Error()}
	}
	// Only full-length MACs: hmac.Equal compares in constant time and
	// fails on any other length. Truncation (RFC 8945 §5.2.2.1) is not
	// supported, as in ocaml-dns.
	got, err := hex.DecodeString(t.MAC)
	if err != nil || !hmac.Equal(got, want) {
		return &Error{Code: dns.RcodeBadSig, Key: t.Hdr.Name, Reason: "MAC does not verify"}
	}
	now := p.now().Unix()
	if d := now - int64(t.TimeSigned); d > int64(t.Fudge) || -d > int64(t.Fudge) {
		return &Error{Code: dns.RcodeBadTime, Key: t.Hdr.Name,
			Reason: fmt.Sprintf("signed at %d, our time is %d, fudge %ds", t.TimeSigned, now, t.Fudge)}
	}
	return nil
}

// Check says who signed the request r that miekg's dns.Server verified
// with p: status must be w.TsigStatus() of a server whose TsigProvider is
// p. (Without a provider miekg verifies nothing and status is always nil:
// Check would then trust any signature.)
//
// It returns nil, nil for an unsigned request, the key for a valid
// signature, and otherwise an *Error to hand to Refuse and Sign.
func (p *Provider) Check(r *dns.Msg, status error) (*Key, error) {
	for i, rr := range r.Extra {
		if rr.Header().Rrtype == dns.TypeTSIG && i != len(r.Extra)-1 {
			// RFC 8945 §5.2: a TSIG anywhere but last is FORMERR.
			return nil, &Error{Code: dns.RcodeFormatError, Key: rr.Header().Name, Reason: "TSIG is not the last record"}
		}
	}
	t := r.IsTsig()
	if t == nil {
		return nil, nil
	}
	if status != nil {
		var e *Error
		if errors.As(status, &e) {
			return nil, e
		}
		return nil, &Error{Code: ErrorCode(status), Key: t.Hdr.Name, Reason: status.Error(), Err: status}
	}
	k, ok := p.key(t.Hdr.Name)
	if !ok { // the keys changed since miekg verified r
		return nil, &Error{Code: dns.RcodeBadKey, Key: t.Hdr.Name, Reason: "unknown key"}
	}
	return &k, nil
}

// Refuse returns the response to request r when Check failed with err:
// NOTAUTH for a TSIG error (RFC 8945 §5.2), FORMERR for a TSIG record
// that cannot be interpreted. Sign it like any response.
func (p *Provider) Refuse(r *dns.Msg, err error) *dns.Msg {
	rcode := dns.RcodeNotAuth
	if ErrorCode(err) == dns.RcodeFormatError {
		rcode = dns.RcodeFormatError
	}
	m := new(dns.Msg)
	m.SetRcode(r, rcode)
	return m
}

// Sign attaches to m, the response to request r, the TSIG record that
// miekg completes when it writes m (w.WriteMsg of a dns.Server whose
// TsigProvider is p). status is the request's: w.TsigStatus() or Check's
// error. Call Sign last, after EDNS and truncation: the TSIG record must
// stay the last record of m.
//
//   - r unsigned, or its TSIG cannot be interpreted: no TSIG (RFC 8945 §5.2).
//   - valid: our time and the request's fudge; miekg signs the request
//     MAC, m and the TSIG variables (§5.3.1).
//   - BADKEY, BADSIG: the error and no MAC, because §5.3.2 forbids
//     signing these; miekg leaves them unsigned.
//   - BADTIME: the error, our time in Other Data (§4.2), and, as BIND
//     does, the request's Time Signed, so that the client can check the
//     answer with its own clock; miekg signs it with the request's key
//     (§5.2.3).
//
// Also when the keys changed since r was checked and the key is gone, m
// gets an unsigned BADKEY record, which the client will reject.
func (p *Provider) Sign(m, r *dns.Msg, status error) {
	t := r.IsTsig()
	code := ErrorCode(status)
	if t == nil || code == dns.RcodeFormatError {
		return
	}
	if m.IsTsig() != nil {
		m.Extra = m.Extra[:len(m.Extra)-1]
	}
	if code != dns.RcodeBadKey && code != dns.RcodeBadSig {
		if _, err := p.keyFor(t); err != nil {
			code = dns.RcodeBadKey
		}
	}
	now := p.now().Unix()
	s := &dns.TSIG{
		Hdr:        dns.RR_Header{Name: t.Hdr.Name, Rrtype: dns.TypeTSIG, Class: dns.ClassANY},
		Algorithm:  t.Algorithm,
		TimeSigned: uint64(now),
		Fudge:      t.Fudge,
		OrigId:     m.Id,
		Error:      uint16(code),
	}
	if code == dns.RcodeBadTime {
		s.TimeSigned = t.TimeSigned
		s.OtherLen = 6
		s.OtherData = fmt.Sprintf("%012x", uint64(now)&(1<<48-1))
	}
	m.Extra = append(m.Extra, s)
}

// SignRequest attaches to m a TSIG record for the key called name, with
// p's time and DefaultFudge; miekg signs it when a dns.Client,
// dns.Conn or dns.Transfer whose TsigProvider is p sends m.
func (p *Provider) SignRequest(m *dns.Msg, name string) error {
	k, ok := p.key(name)
	if !ok {
		return &Error{Code: dns.RcodeBadKey, Key: name, Reason: "unknown key"}
	}
	m.SetTsig(k.Name, k.Algorithm, DefaultFudge, p.now().Unix())
	return nil
}

// VerifyMsg checks the TSIG of raw, one message as received, with p's
// keys and clock alone. Unlike miekg's TsigVerify it does not check the
// time against time.Now as well, does not refuse every NOTAUTH message
// (so a client can verify a BADTIME answer), and leaves raw unchanged.
//
// requestMAC is the hex MAC of the request that raw answers, "" for a
// request; timersOnly is for the second and later messages of a zone
// transfer (RFC 8945 §5.3.1). The TSIG record is returned whenever there
// is one, also with an error, so that the caller can read the peer's
// TSIG error and, for BADTIME, its time. A message without TSIG gives
// dns.ErrNoSig.
func (p *Provider) VerifyMsg(raw []byte, requestMAC string, timersOnly bool) (Key, *dns.TSIG, error) {
	msg, t, err := split(raw)
	if err != nil {
		return Key{}, t, err
	}
	k, err := p.keyFor(t)
	if err != nil {
		return Key{}, t, err
	}
	in, err := macInput(msg, t, requestMAC, timersOnly)
	if err != nil {
		return Key{}, t, err
	}
	if err := p.check(k, in, t); err != nil {
		return Key{}, t, err
	}
	return k, t, nil
}

// split returns raw without its TSIG record, ARCOUNT lowered by one, and
// the TSIG record.
func split(raw []byte) ([]byte, *dns.TSIG, error) {
	formErr := func(reason string, err error) error {
		return &Error{Code: dns.RcodeFormatError, Reason: reason, Err: err}
	}
	if len(raw) < 12 {
		return nil, nil, formErr("message shorter than its header", nil)
	}
	count := func(i int) int { return int(binary.BigEndian.Uint16(raw[i:])) }
	ar, rrs := count(10), count(6)+count(8)+count(10)
	off := 12
	for range count(4) {
		var err error
		if _, off, err = dns.UnpackDomainName(raw, off); err != nil {
			return nil, nil, formErr("question", err)
		}
		if off += 4; off > len(raw) {
			return nil, nil, formErr("question", nil)
		}
	}
	var (
		t     *dns.TSIG
		start int
	)
	for i := range rrs {
		start = off
		rr, next, err := dns.UnpackRR(raw, off)
		if err != nil {
			return nil, nil, formErr("record", err)
		}
		off = next
		if x, ok := rr.(*dns.TSIG); ok {
			if i != rrs-1 || ar == 0 {
				return nil, x, formErr("TSIG is not the last record", nil)
			}
			t = x
		}
	}
	if t == nil {
		return nil, nil, dns.ErrNoSig
	}
	if off != len(raw) {
		return nil, t, formErr("bytes after the last record", nil)
	}
	msg := slices.Clone(raw[:start])
	binary.BigEndian.PutUint16(msg[10:], uint16(ar-1))
	return msg, t, nil
}

// macInput is what the MAC covers (RFC 8945 §4.3): the request MAC for a
// response, the message with its original ID, and the TSIG variables, or
// only the timers for later messages of a transfer.
func macInput(msg []byte, t *dns.TSIG, requestMAC string, timersOnly bool) ([]byte, error) {
	var b []byte
	if requestMAC != "" {
		mac, err := hex.DecodeString(requestMAC)
		if err != nil {
			return nil, fmt.Errorf("tsig: request MAC: %w", err)
		}
		b = binary.BigEndian.AppendUint16(b, uint16(len(mac)))
		b = append(b, mac...)
	}
	id := len(b)
	b = append(b, msg...)
	binary.BigEndian.PutUint16(b[id:], t.OrigId)

	var err error
	if !timersOnly {
		if b, err = appendName(b, t.Hdr.Name); err != nil {
			return nil, err
		}
		b = binary.BigEndian.AppendUint16(b, dns.ClassANY)
		b = binary.BigEndian.AppendUint32(b, t.Hdr.Ttl)
		if b, err = appendName(b, t.Algorithm); err != nil {
			return nil, err
		}
	}
	b = binary.BigEndian.AppendUint16(b, uint16(t.TimeSigned>>32))
	b = binary.BigEndian.AppendUint32(b, uint32(t.TimeSigned))
	b = binary.BigEndian.AppendUint16(b, t.Fudge)
	if timersOnly {
		return b, nil
	}
	other, err := hex.DecodeString(t.OtherData)
	if err != nil {
		return nil, &Error{Code: dns.RcodeFormatError, Key: t.Hdr.Name, Reason: "other data", Err: err}
	}
	b = binary.BigEndian.AppendUint16(b, t.Error)
	b = binary.BigEndian.AppendUint16(b, uint16(len(other)))
	return append(b, other...), nil
}

// appendName appends name in canonical wire form: lowercase, uncompressed.
func appendName(b []byte, name string) ([]byte, error) {
	buf := make([]byte, 256)
	n, err := dns.PackDomainName(dns.CanonicalName(name), buf, 0, nil, false)
	if err != nil {
		return nil, &Error{Code: dns.RcodeFormatError, Key: name, Reason: "name", Err: err}
	}
	return append(b, buf[:n]...), nil
}
