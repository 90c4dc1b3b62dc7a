package tsig

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/miekg/dns"
)

// MaxUnsigned is how many messages in a row a multi-message response may
// leave unsigned (RFC 8945 §5.3.1: a client must accept up to 99).
const MaxUnsigned = 99

// ErrUnsigned is a response, or the end of one, that lacks the TSIG RFC
// 8945 §5.3.1 requires: on the first and the last message, and at least
// once every hundred.
var ErrUnsigned = errors.New("tsig: response not signed where it must be")

// Stream verifies the messages of one response to a signed request: a
// single answer, or the many of a zone transfer, where the first and
// the last message must be signed and up to MaxUnsigned between two
// signed ones may not be (RFC 8945 §5.3.1). The MAC of a signed message
// after the first covers the previous MAC, every unsigned message since,
// the message itself and the TSIG timers only.
//
// miekg's Transfer.In (v1.1.73), given a provider, verifies every
// message and fails at the first unsigned one, which §5.3.1 allows, and
// checks the time against the real clock as well; Stream allows the gaps
// and uses the Provider's clock alone.
type Stream struct {
	p        *Provider
	key      Key
	mac      string // the previous MAC, hex: the request's at first
	unsigned []byte // the unsigned messages since the last signed one
	count    int    // how many
	seen     bool   // a signed message came: the next are timers only
}

// NewStream returns a Stream for the response to a request signed with
// key (which p must hold) whose MAC was requestMAC (hex).
func (p *Provider) NewStream(key Key, requestMAC string) *Stream {
	return &Stream{p: p, key: key, mac: requestMAC}
}

// Verify checks one message as received. It returns the message's TSIG
// record when it had one, also with an error, so that the caller can read
// the peer's TSIG error. A TSIG error other than NOERROR in a message
// that verifies is an *Error with that code.
func (s *Stream) Verify(raw []byte) (*dns.TSIG, error) {
	msg, t, err := split(raw)
	if errors.Is(err, dns.ErrNoSig) {
		if !s.seen {
			return nil, fmt.Errorf("%w: the first message has no TSIG", ErrUnsigned)
		}
		if s.count >= MaxUnsigned {
			return nil, fmt.Errorf("%w: %d messages in a row without TSIG", ErrUnsigned, s.count+1)
		}
		s.unsigned = append(s.unsigned, raw...)
		s.count++
		return nil, nil
	}
	if err != nil {
		return t, err
	}
	if dns.CanonicalName(t.Hdr.Name) != s.key.Name {
		return t, &Error{Code: dns.RcodeBadKey, Key: t.Hdr.Name, Reason: "response signed with another key than the request (" + s.key.Name + ")"}
	}
	k, err := s.p.keyFor(t)
	if err != nil {
		return t, err
	}
	var in []byte
	if s.mac != "" {
		mac, err := hex.DecodeString(s.mac)
		if err != nil {
			return t, fmt.Errorf("tsig: previous MAC: %w", err)
		}
		in = binary.BigEndian.AppendUint16(in, uint16(len(mac)))
		in = append(in, mac...)
	}
	in = append(in, s.unsigned...)
	rest, err := macInput(msg, t, "", s.seen)
	if err != nil {
		return t, err
	}
	if err := s.p.check(k, append(in, rest...), t); err != nil {
		return t, err
	}
	if t.Error != dns.RcodeSuccess {
		return t, &Error{Code: int(t.Error), Key: t.Hdr.Name, Reason: "the peer answered with a TSIG error"}
	}
	s.mac, s.unsigned, s.count, s.seen = t.MAC, s.unsigned[:0], 0, true
	return t, nil
}

// End checks that the last message verified was signed.
func (s *Stream) End() error {
	if !s.seen {
		return fmt.Errorf("%w: no message was signed", ErrUnsigned)
	}
	if s.count > 0 {
		return fmt.Errorf("%w: the last %d messages have no TSIG", ErrUnsigned, s.count)
	}
	return nil
}
