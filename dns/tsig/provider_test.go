package tsig

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// fixed is a clock that stands still.
func fixed(t time.Time) func() time.Time { return func() time.Time { return t } }

func ringOf(keys ...Key) func() *Keyring {
	r := NewKeyring(keys...)
	return func() *Keyring { return r }
}

func query(name string) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeTXT)
	return m
}

// signed packs m signed by key at time at, as a client would send it.
func signed(t *testing.T, m *dns.Msg, key Key, at time.Time, requestMAC string, timersOnly bool) ([]byte, string) {
	t.Helper()
	m.SetTsig(key.Name, key.Algorithm, DefaultFudge, at.Unix())
	raw, mac, err := dns.TsigGenerate(m, key.Secret, requestMAC, timersOnly)
	if err != nil {
		t.Fatal(err)
	}
	return raw, mac
}

func TestVerifyMsg(t *testing.T) {
	key := mustKey(t, "k._update.example.com:hmac-sha256:"+secret32)
	other := mustKey(t, "k._update.example.com:hmac-sha256:"+strings.Repeat("A", 43)+"=")
	sha512 := mustKey(t, "k._update.example.com:hmac-sha512:"+secret32)
	stranger := mustKey(t, "who._update.example.com:hmac-sha256:"+secret32)
	at := time.Date(2001, 9, 9, 1, 46, 40, 0, time.UTC) // far from now: VerifyMsg uses only its clock

	tests := []struct {
		name   string
		signer Key
		now    time.Time
		code   int
	}{
		{"in window", key, at, 0},
		{"fudge early edge", key, at.Add(-300 * time.Second), 0},
		{"fudge late edge", key, at.Add(300 * time.Second), 0},
		{"too late", key, at.Add(301 * time.Second), dns.RcodeBadTime},
		{"too early", key, at.Add(-301 * time.Second), dns.RcodeBadTime},
		{"wrong secret", other, at, dns.RcodeBadSig},
		// The MAC is checked before the time (RFC 8945 §5.2.3).
		{"wrong secret, wrong time", other, at.Add(time.Hour), dns.RcodeBadSig},
		{"unknown key", stranger, at, dns.RcodeBadKey},
		{"other algorithm", sha512, at, dns.RcodeBadKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Provider{Keys: ringOf(key), Now: fixed(tt.now)}
			raw, _ := signed(t, query("example.com."), tt.signer, at, "", false)
			before := bytes.Clone(raw)
			k, ts, err := p.VerifyMsg(raw, "", false)
			if !bytes.Equal(raw, before) {
				t.Error("VerifyMsg changed its input")
			}
			if ts == nil || ts.Hdr.Name != tt.signer.Name {
				t.Errorf("TSIG record %v", ts)
			}
			if got := ErrorCode(err); got != tt.code {
				t.Fatalf("err %v (code %d), want code %d", err, got, tt.code)
			}
			if err == nil && k != key {
				t.Errorf("key %+v", k)
			}
			var e *Error
			if err != nil && !errors.As(err, &e) {
				t.Errorf("%T is no *Error", err)
			}
		})
	}

	t.Run("unsigned", func(t *testing.T) {
		raw, _ := query("example.com.").Pack()
		p := &Provider{Keys: ringOf(key), Now: fixed(at)}
		if _, _, err := p.VerifyMsg(raw, "", false); err != dns.ErrNoSig {
			t.Errorf("err %v, want dns.ErrNoSig", err)
		}
	})
	t.Run("garbage", func(t *testing.T) {
		p := &Provider{Keys: ringOf(key), Now: fixed(at)}
		raw, _ := signed(t, query("example.com."), key, at, "", false)
		for _, b := range [][]byte{nil, raw[:11], raw[:len(raw)-3], append(bytes.Clone(raw), 0, 0, 0)} {
			if _, _, err := p.VerifyMsg(b, "", false); err == nil {
				t.Errorf("VerifyMsg(%x): no error", b)
			}
		}
	})
	t.Run("TSIG not last", func(t *testing.T) {
		p := &Provider{Keys: ringOf(key), Now: fixed(at)}
		m := query("example.com.")
		m.SetTsig(key.Name, key.Algorithm, DefaultFudge, at.Unix())
		m.SetEdns0(1232, false)
		raw, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := p.VerifyMsg(raw, "", false); ErrorCode(err) != dns.RcodeFormatError {
			t.Errorf("err %v, want FORMERR", err)
		}
	})

	// A request, its response and a second message of a transfer, signed
	// by miekg and chained by MAC (RFC 8945 §5.3.1).
	t.Run("chain", func(t *testing.T) {
		p := &Provider{Keys: ringOf(key), Now: fixed(at)}
		req := query("example.com.")
		_, reqMAC := signed(t, req, key, at, "", false)
		resp := new(dns.Msg)
		resp.SetReply(req)
		raw1, mac1 := signed(t, resp, key, at, reqMAC, false)
		next := new(dns.Msg)
		next.SetReply(req)
		raw2, _ := signed(t, next, key, at, mac1, true)

		if _, _, err := p.VerifyMsg(raw1, reqMAC, false); err != nil {
			t.Errorf("response: %v", err)
		}
		if _, _, err := p.VerifyMsg(raw2, mac1, true); err != nil {
			t.Errorf("second message: %v", err)
		}
		if _, _, err := p.VerifyMsg(raw1, "", false); ErrorCode(err) != dns.RcodeBadSig {
			t.Errorf("response without request MAC: %v, want BADSIG", err)
		}
		if _, _, err := p.VerifyMsg(raw2, mac1, false); ErrorCode(err) != dns.RcodeBadSig {
			t.Errorf("second message as if full variables: %v, want BADSIG", err)
		}
		if _, _, err := p.VerifyMsg(raw2, reqMAC, true); ErrorCode(err) != dns.RcodeBadSig {
			t.Errorf("second message with the wrong previous MAC: %v, want BADSIG", err)
		}
	})
}

// TestProviderWithMiekg checks the dns.TsigProvider side: miekg's own
// TsigVerifyWithProvider calls Verify, and what Generate signs miekg's
// plain-secret verification accepts.
func TestProviderWithMiekg(t *testing.T) {
	key := mustKey(t, "k._update.example.com:hmac-sha256:"+secret32)
	now := time.Now()
	p := &Provider{Keys: ringOf(key), Now: fixed(now)}

	raw, _ := signed(t, query("example.com."), key, now, "", false)
	if err := dns.TsigVerifyWithProvider(bytes.Clone(raw), p, "", false); err != nil {
		t.Errorf("miekg verifying with Provider: %v", err)
	}
	late := &Provider{Keys: ringOf(key), Now: fixed(now.Add(time.Hour))}
	if err := dns.TsigVerifyWithProvider(bytes.Clone(raw), late, "", false); !errors.Is(err, dns.ErrTime) || ErrorCode(err) != dns.RcodeBadTime {
		t.Errorf("late clock: %v, want BADTIME matching dns.ErrTime", err)
	}

	m := query("example.com.")
	if err := p.SignRequest(m, "K._update.example.com"); err != nil {
		t.Fatal(err)
	}
	raw, _, err := dns.TsigGenerateWithProvider(m, p, "", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := dns.TsigVerify(raw, key.Secret, "", false); err != nil {
		t.Errorf("miekg verifying what Provider signed: %v", err)
	}
	if err := p.SignRequest(query("x."), "nobody."); ErrorCode(err) != dns.RcodeBadKey {
		t.Errorf("SignRequest with unknown key: %v", err)
	}
	if err := (&Provider{}).Verify(raw, &dns.TSIG{Hdr: dns.RR_Header{Name: key.Name}, Algorithm: key.Algorithm}); ErrorCode(err) != dns.RcodeBadKey {
		t.Errorf("Provider without keys: %v", err)
	}
}

func TestErrorCode(t *testing.T) {
	for err, want := range map[error]int{
		nil:                             0,
		dns.ErrTime:                     dns.RcodeBadTime,
		dns.ErrSig:                      dns.RcodeBadSig,
		dns.ErrSecret:                   dns.RcodeBadKey,
		dns.ErrKeyAlg:                   dns.RcodeBadKey,
		dns.ErrAuth:                     dns.RcodeFormatError,
		errors.New("x"):                 dns.RcodeFormatError,
		fmt.Errorf("w: %w", dns.ErrSig): dns.RcodeBadSig,
		&Error{Code: dns.RcodeBadKey}:   dns.RcodeBadKey,
	} {
		if got := ErrorCode(err); got != want {
			t.Errorf("ErrorCode(%v) = %d, want %d", err, got, want)
		}
	}
	e := &Error{Code: dns.RcodeBadTime, Key: "k.", Reason: "late"}
	if !errors.Is(e, dns.ErrTime) || errors.Is(e, dns.ErrSig) {
		t.Error("*Error does not match miekg's errors")
	}
	if s := e.Error(); s != "tsig: BADTIME: key k.: late" {
		t.Errorf("Error() = %q", s)
	}
}

func TestCheckRefuseSign(t *testing.T) {
	key := mustKey(t, "k._update.example.com:hmac-sha256:"+secret32)
	now := time.Unix(1_000_000_000, 0)
	p := &Provider{Keys: ringOf(key), Now: fixed(now)}

	req := query("example.com.")
	req.SetTsig(key.Name, key.Algorithm, 200, now.Unix()-1000)

	if k, err := p.Check(query("example.com."), nil); k != nil || err != nil {
		t.Errorf("unsigned: %v %v", k, err)
	}
	if k, err := p.Check(req, nil); err != nil || k == nil || *k != key {
		t.Errorf("valid: %v %v", k, err)
	}
	gone := &Provider{Keys: ringOf(), Now: fixed(now)}
	if _, err := gone.Check(req, nil); ErrorCode(err) != dns.RcodeBadKey {
		t.Errorf("key removed after verification: %v", err)
	}
	bad := req.Copy()
	bad.Extra = append([]dns.RR{bad.Extra[0]}, &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}})
	if _, err := p.Check(bad, nil); ErrorCode(err) != dns.RcodeFormatError {
		t.Errorf("TSIG not last: %v", err)
	}

	for _, tt := range []struct {
		status error
		rcode  int
		tsig   int // TSIG error, -1 for no TSIG
	}{
		{dns.ErrSecret, dns.RcodeNotAuth, dns.RcodeBadKey},
		{&Error{Code: dns.RcodeBadSig}, dns.RcodeNotAuth, dns.RcodeBadSig},
		{dns.ErrTime, dns.RcodeNotAuth, dns.RcodeBadTime},
		{errors.New("dns: overflow unpacking uint16"), dns.RcodeFormatError, -1},
	} {
		_, err := p.Check(req, tt.status)
		if ErrorCode(err) != ErrorCode(tt.status) {
			t.Errorf("Check(%v) = %v", tt.status, err)
		}
		m := p.Refuse(req, err)
		p.Sign(m, req, err)
		if m.Rcode != tt.rcode || m.Id != req.Id || !m.Response || len(m.Question) != 1 {
			t.Errorf("%v: response %v", tt.status, m)
		}
		ts := m.IsTsig()
		switch {
		case tt.tsig < 0 && ts != nil:
			t.Errorf("%v: TSIG on FORMERR", tt.status)
		case tt.tsig < 0:
		case ts == nil || int(ts.Error) != tt.tsig || ts.Hdr.Name != key.Name || ts.OrigId != req.Id || ts.Fudge != 200:
			t.Errorf("%v: TSIG %v", tt.status, ts)
		case tt.tsig == dns.RcodeBadTime && (ts.TimeSigned != uint64(now.Unix()-1000) || ts.OtherData != fmt.Sprintf("%012x", now.Unix())):
			t.Errorf("BADTIME: Time Signed %d, Other Data %s", ts.TimeSigned, ts.OtherData)
		}
	}

	m := new(dns.Msg)
	m.SetReply(req)
	p.Sign(m, req, nil)
	p.Sign(m, req, nil) // replaces, does not add
	if len(m.Extra) != 1 || m.IsTsig() == nil || m.IsTsig().TimeSigned != uint64(now.Unix()) || m.IsTsig().Error != 0 {
		t.Errorf("signed response: %v", m)
	}
	m = new(dns.Msg)
	m.SetReply(req)
	gone.Sign(m, req, nil)
	if m.IsTsig() == nil || m.IsTsig().Error != dns.RcodeBadKey {
		t.Errorf("key gone: %v", m)
	}
	plain := new(dns.Msg)
	p.Sign(plain, query("example.com."), nil)
	if len(plain.Extra) != 0 {
		t.Error("signed the response to an unsigned request")
	}
}

// clock is real time plus an offset the test moves.
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time        { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) set(d time.Duration)   { c.offset.Store(int64(d)) }
func (c *clock) at(t time.Time) func() { return func() { c.offset.Store(int64(time.Until(t))) } }

// handler is the recipe of the package documentation; it answers a TXT
// record naming the key that signed the query.
func handler(p *Provider) dns.HandlerFunc {
	return func(w dns.ResponseWriter, r *dns.Msg) {
		key, err := p.Check(r, w.TsigStatus())
		if err != nil {
			m := p.Refuse(r, err)
			p.Sign(m, r, err)
			w.WriteMsg(m)
			return
		}
		who := "unsigned"
		if key != nil {
			who = key.Name
		}
		m := new(dns.Msg)
		m.SetReply(r)
		m.Answer = []dns.RR{&dns.TXT{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET}, Txt: []string{who}}}
		p.Sign(m, r, nil)
		w.WriteMsg(m)
	}
}

func serve(t *testing.T, network string, p *Provider, h dns.Handler) string {
	t.Helper()
	started := make(chan struct{})
	srv := &dns.Server{Handler: h, TsigProvider: p, NotifyStartedFunc: func() { close(started) }}
	var addr string
	if network == "udp" {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv.PacketConn, addr = pc, pc.LocalAddr().String()
	} else {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv.Listener, addr = ln, ln.Addr().String()
	}
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return addr
}

func TestServer(t *testing.T) {
	key := mustKey(t, "k._update.example.com:hmac-sha256:"+secret32)
	var serverClock, clientClock clock
	server := &Provider{Keys: ringOf(key), Now: serverClock.now}
	addr := serve(t, "udp", server, handler(server))

	wrongSecret := mustKey(t, "k._update.example.com:hmac-sha256:"+strings.Repeat("B", 42)+"A=")
	wrongAlg := mustKey(t, "k._update.example.com:hmac-sha512:"+secret32)
	stranger := mustKey(t, "who._update.example.com:hmac-sha256:"+secret32)
	past := time.Date(2001, 9, 9, 1, 46, 40, 0, time.UTC)

	tests := []struct {
		name   string
		signer *Key
		clocks func()
		rcode  int
		tsig   int // TSIG error in the response
	}{
		{name: "unsigned", clocks: func() {}, rcode: dns.RcodeSuccess},
		{name: "valid", signer: &key, clocks: func() {}, rcode: dns.RcodeSuccess},
		{name: "server 299s ahead", signer: &key, clocks: func() { serverClock.set(299 * time.Second) }, rcode: dns.RcodeSuccess},
		{name: "server 301s ahead", signer: &key, clocks: func() { serverClock.set(301 * time.Second) }, rcode: dns.RcodeNotAuth, tsig: dns.RcodeBadTime},
		{name: "server 301s behind", signer: &key, clocks: func() { serverClock.set(-301 * time.Second) }, rcode: dns.RcodeNotAuth, tsig: dns.RcodeBadTime},
		{name: "wrong secret", signer: &wrongSecret, clocks: func() {}, rcode: dns.RcodeNotAuth, tsig: dns.RcodeBadSig},
		{name: "wrong algorithm", signer: &wrongAlg, clocks: func() {}, rcode: dns.RcodeNotAuth, tsig: dns.RcodeBadKey},
		{name: "unknown key", signer: &stranger, clocks: func() {}, rcode: dns.RcodeNotAuth, tsig: dns.RcodeBadKey},
		// Both clocks agree, but miekg checks the time again against
		// time.Now after Provider.Verify: see the package documentation.
		{name: "both clocks in 2001", signer: &key, clocks: func() { serverClock.at(past)(); clientClock.at(past)() }, rcode: dns.RcodeNotAuth, tsig: dns.RcodeBadTime},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			serverClock.set(0)
			clientClock.set(0)
			tt.clocks()
			client := &Provider{Now: clientClock.now}
			m := query("example.com.")
			if tt.signer != nil {
				client.Keys = ringOf(*tt.signer)
				if err := client.SignRequest(m, tt.signer.Name); err != nil {
					t.Fatal(err)
				}
			}
			c := &dns.Client{Net: "udp", TsigProvider: client, Timeout: 5 * time.Second}
			r, _, err := c.Exchange(m, addr)
			if r == nil {
				t.Fatal(err)
			}
			if r.Rcode != tt.rcode {
				t.Fatalf("rcode %s, want %s (err %v)", dns.RcodeToString[r.Rcode], dns.RcodeToString[tt.rcode], err)
			}
			ts := r.IsTsig()
			switch {
			case tt.signer == nil:
				if ts != nil || err != nil || r.Answer[0].(*dns.TXT).Txt[0] != "unsigned" {
					t.Errorf("unsigned: %v, %v", r, err)
				}
			case tt.rcode == dns.RcodeSuccess:
				// miekg's client verified the response's MAC over the
				// request MAC: err is nil only if that held.
				if err != nil || ts == nil || r.Answer[0].(*dns.TXT).Txt[0] != key.Name {
					t.Errorf("valid: %v, %v", r, err)
				}
			default:
				// miekg's client refuses every NOTAUTH reply with a TSIG.
				if err != dns.ErrAuth || ts == nil || int(ts.Error) != tt.tsig {
					t.Fatalf("TSIG %v, err %v; want error %s", ts, err, dns.RcodeToString[tt.tsig])
				}
				if tt.tsig == dns.RcodeBadTime {
					if ts.MACSize == 0 || ts.OtherLen != 6 {
						t.Errorf("BADTIME response not signed or without our time: %v", ts)
					}
				} else if ts.MACSize != 0 || ts.MAC != "" {
					t.Errorf("%s response signed: %v", dns.RcodeToString[tt.tsig], ts)
				}
			}
		})
	}
}

// TestServerBadTime checks the BADTIME answer's signature and time with
// VerifyMsg, which miekg's client cannot do.
func TestServerBadTime(t *testing.T) {
	key := mustKey(t, "k._update.example.com:hmac-sha256:"+secret32)
	serverNow := time.Now().Add(time.Hour).Truncate(time.Second)
	server := &Provider{Keys: ringOf(key), Now: fixed(serverNow)}
	addr := serve(t, "udp", server, handler(server))

	clientNow := time.Now()
	client := &Provider{Keys: ringOf(key), Now: fixed(clientNow)}
	m := query("example.com.")
	if err := client.SignRequest(m, key.Name); err != nil {
		t.Fatal(err)
	}
	req, reqMAC, err := dns.TsigGenerateWithProvider(m, client, "", false)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write(req); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	k, ts, err := client.VerifyMsg(buf[:n], reqMAC, false)
	if err != nil {
		t.Fatalf("BADTIME response does not verify: %v", err)
	}
	if k != key || ts.Error != dns.RcodeBadTime || ts.TimeSigned != uint64(clientNow.Unix()) ||
		ts.OtherData != fmt.Sprintf("%012x", serverNow.Unix()) {
		t.Errorf("key %s, TSIG %v; want BADTIME, our Time Signed, the server's time", k.Name, ts)
	}
	if _, _, err := client.VerifyMsg(buf[:n], "", false); ErrorCode(err) != dns.RcodeBadSig {
		t.Errorf("without the request MAC: %v, want BADSIG", err)
	}
}

// TestTransfer streams a zone in several signed messages, MACs chained as
// RFC 8945 §5.3.1 says, to miekg's dns.Transfer, which checks every one.
func TestTransfer(t *testing.T) {
	key := mustKey(t, "192.0.2.1.192.0.2.2._transfer.example.com:hmac-sha512:"+secret32)
	other := mustKey(t, "n._notify.example.com:hmac-sha256:"+secret32)
	var serverClock clock
	server := &Provider{Keys: ringOf(key, other), Now: serverClock.now}
	soa, _ := dns.NewRR("example.com. 300 IN SOA ns.example.com. host.example.com. 1 2 3 4 5")
	a, _ := dns.NewRR("www.example.com. 300 IN A 192.0.2.80")
	addr := serve(t, "tcp", server, dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		key, err := server.Check(r, w.TsigStatus())
		if err == nil && (key == nil || !key.Allows(Transfer, r.Question[0].Name)) {
			m := new(dns.Msg)
			m.SetRcode(r, dns.RcodeRefused)
			server.Sign(m, r, nil)
			w.WriteMsg(m)
			return
		}
		if err != nil {
			m := server.Refuse(r, err)
			server.Sign(m, r, err)
			w.WriteMsg(m)
			return
		}
		for i, rrs := range [][]dns.RR{{soa}, {a}, {a, a}, {soa}} {
			m := new(dns.Msg)
			m.SetReply(r)
			m.Answer = rrs
			server.Sign(m, r, nil)
			if err := w.WriteMsg(m); err != nil {
				t.Error(err)
				return
			}
			if i == 0 {
				w.TsigTimersOnly(true)
			}
		}
	}))

	axfr := func(signer Key) ([]dns.RR, error) {
		client := &Provider{Keys: ringOf(signer)}
		m := new(dns.Msg)
		m.SetAxfr("example.com.")
		if err := client.SignRequest(m, signer.Name); err != nil {
			t.Fatal(err)
		}
		tr := &dns.Transfer{TsigProvider: client}
		ch, err := tr.In(m, addr)
		if err != nil {
			return nil, err
		}
		var rrs []dns.RR
		for env := range ch {
			if env.Error != nil {
				return rrs, env.Error
			}
			rrs = append(rrs, env.RR...)
		}
		return rrs, nil
	}

	rrs, err := axfr(key)
	if err != nil || len(rrs) != 5 {
		t.Fatalf("AXFR: %d records, %v", len(rrs), err)
	}
	if _, err := axfr(other); err == nil {
		t.Error("AXFR with a notify key succeeded")
	}
	serverClock.set(time.Hour)
	if _, err := axfr(key); err == nil {
		t.Error("AXFR with the server an hour ahead succeeded")
	}
}
