package tsig

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// transferSigner writes the messages of a transfer response as RFC 8945
// §5.3.1 describes them, computed here by hand (hmac-sha256 only), so
// that the test does not reuse the code it checks.
type transferSigner struct {
	t        *testing.T
	key      Key
	at       time.Time
	prevMAC  []byte
	pending  []byte
	signedAt int // how many were signed
}

func (s *transferSigner) message(i int) *dns.Msg {
	m := new(dns.Msg)
	m.Id = 7
	m.Response = true
	m.Answer = []dns.RR{&dns.TXT{Hdr: dns.RR_Header{Name: "example.com.", Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: []string{string(rune('a' + i%26))}}}
	return m
}

// next returns message i, signed or not.
func (s *transferSigner) next(i int, sign bool) []byte {
	m := s.message(i)
	raw, err := m.Pack()
	if err != nil {
		s.t.Fatal(err)
	}
	if !sign {
		s.pending = append(s.pending, raw...)
		return raw
	}
	secret, _ := base64.StdEncoding.DecodeString(s.key.Secret)
	h := hmac.New(sha256.New, secret)
	var in []byte
	in = binary.BigEndian.AppendUint16(in, uint16(len(s.prevMAC)))
	in = append(in, s.prevMAC...)
	in = append(in, s.pending...)
	in = append(in, raw...)
	tsig := &dns.TSIG{
		Hdr:       dns.RR_Header{Name: s.key.Name, Rrtype: dns.TypeTSIG, Class: dns.ClassANY},
		Algorithm: s.key.Algorithm, TimeSigned: uint64(s.at.Unix()), Fudge: 300, OrigId: 7,
	}
	if s.signedAt == 0 {
		// name, class ANY, TTL 0, algorithm, time, fudge, error, other len
		buf := make([]byte, 256)
		n, _ := dns.PackDomainName(s.key.Name, buf, 0, nil, false)
		in = append(in, buf[:n]...)
		in = binary.BigEndian.AppendUint16(in, dns.ClassANY)
		in = binary.BigEndian.AppendUint32(in, 0)
		n, _ = dns.PackDomainName(s.key.Algorithm, buf, 0, nil, false)
		in = append(in, buf[:n]...)
		in = binary.BigEndian.AppendUint16(in, 0)
		in = binary.BigEndian.AppendUint32(in, uint32(s.at.Unix()))
		in = binary.BigEndian.AppendUint16(in, 300)
		in = binary.BigEndian.AppendUint16(in, 0)
		in = binary.BigEndian.AppendUint16(in, 0)
	} else {
		in = binary.BigEndian.AppendUint16(in, 0)
		in = binary.BigEndian.AppendUint32(in, uint32(s.at.Unix()))
		in = binary.BigEndian.AppendUint16(in, 300)
	}
	h.Write(in)
	mac := h.Sum(nil)
	tsig.MAC, tsig.MACSize = hex.EncodeToString(mac), uint16(len(mac))
	m.Extra = append(m.Extra, tsig)
	out, err := m.Pack()
	if err != nil {
		s.t.Fatal(err)
	}
	s.prevMAC, s.pending = mac, nil
	s.signedAt++
	return out
}

func TestStream(t *testing.T) {
	key := mustKey(t, "k._transfer.example.com:hmac-sha256:"+secret32)
	stranger := mustKey(t, "who._transfer.example.com:hmac-sha256:"+secret32)
	at := time.Date(2001, 9, 9, 1, 46, 40, 0, time.UTC)
	requestMAC := []byte("0123456789abcdef0123456789abcdef")

	tests := []struct {
		name   string
		signed string // per message: s signed, u unsigned
		tamper int    // index of a message to alter after signing, or -1
		verify error  // the first error Verify gives
		end    error
	}{
		{"one message", "s", -1, nil, nil},
		{"every message signed", "ssss", -1, nil, nil},
		{"gaps", "suusus", -1, nil, nil},
		{"99 unsigned in a row", "s" + repeat('u', 99) + "s", -1, nil, nil},
		{"100 unsigned in a row", "s" + repeat('u', 100) + "s", -1, ErrUnsigned, nil},
		{"first unsigned", "us", -1, ErrUnsigned, nil},
		{"last unsigned", "ssu", -1, nil, ErrUnsigned},
		{"unsigned message altered", "sus", 1, dns.ErrSig, nil},
		{"signed message altered", "sss", 1, dns.ErrSig, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := &transferSigner{t: t, key: key, at: at, prevMAC: requestMAC}
			st := (&Provider{Keys: ringOf(key, stranger), Now: fixed(at)}).NewStream(key, hex.EncodeToString(requestMAC))
			var err error
			for i, c := range tc.signed {
				raw := w.next(i, c == 's')
				if i == tc.tamper {
					raw[12+1] ^= 1 // a letter of the first owner name
				}
				if _, err = st.Verify(raw); err != nil {
					break
				}
			}
			if !errors.Is(err, tc.verify) || (tc.verify == nil) != (err == nil) {
				t.Fatalf("Verify: %v, want %v", err, tc.verify)
			}
			if err != nil {
				return
			}
			if err := st.End(); !errors.Is(err, tc.end) || (tc.end == nil) != (err == nil) {
				t.Fatalf("End: %v, want %v", err, tc.end)
			}
		})
	}

	t.Run("another key", func(t *testing.T) {
		w := &transferSigner{t: t, key: stranger, at: at, prevMAC: requestMAC}
		st := (&Provider{Keys: ringOf(key, stranger), Now: fixed(at)}).NewStream(key, hex.EncodeToString(requestMAC))
		if _, err := st.Verify(w.next(0, true)); ErrorCode(err) != dns.RcodeBadKey {
			t.Fatalf("Verify: %v, want BADKEY", err)
		}
	})
	t.Run("time outside the fudge", func(t *testing.T) {
		w := &transferSigner{t: t, key: key, at: at, prevMAC: requestMAC}
		st := (&Provider{Keys: ringOf(key), Now: fixed(at.Add(time.Hour))}).NewStream(key, hex.EncodeToString(requestMAC))
		if _, err := st.Verify(w.next(0, true)); !errors.Is(err, dns.ErrTime) {
			t.Fatalf("Verify: %v, want BADTIME", err)
		}
	})
}

func repeat(c byte, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return string(b)
}
