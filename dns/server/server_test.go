package server_test

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/authority"
	"github.com/quercus-dev/quercus/dns/server"
	"github.com/quercus-dev/quercus/dns/tsig"
	"github.com/quercus-dev/quercus/internal/dnstest"
	"github.com/quercus-dev/quercus/internal/zonetest"
)

const testZone = `$ORIGIN example.com.
$TTL 300
@     SOA ns1 hostmaster 7 3600 900 1209600 300
@     NS  ns1
ns1   A   192.0.2.53
www   A   192.0.2.1
big   TXT "` + "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789" + `"
`

// bigZone adds 40 TXT records at one name so that the answer needs TCP.
func bigZone(t testing.TB) string {
	var b strings.Builder
	b.WriteString(testZone)
	for range 40 {
		b.WriteString("big TXT \"" + strings.Repeat("x", 60) + "\"\n")
	}
	return b.String()
}

// manyZone has n names: its AXFR needs several messages.
func manyZone(n int) string {
	var b strings.Builder
	b.WriteString("$ORIGIN many.test.\n$TTL 300\n@ SOA ns1 hostmaster 1 3600 900 1209600 300\n@ NS ns1\nns1 A 192.0.2.53\n")
	for i := range n {
		fmt.Fprintf(&b, "host%d A 192.0.2.%d\n", i, i%250)
	}
	return b.String()
}

type fixture struct {
	addr     string
	keys     *tsig.Keyring
	update   tsig.Key
	transfer tsig.Key
	notifies chan string
	now      time.Time
	mu       sync.Mutex
}

func start(t *testing.T) *fixture {
	t.Helper()
	upd, _ := tsig.Generate("ops._update.example.com.", dns.HmacSHA256, strings.NewReader(strings.Repeat("k", 64)))
	xfr, _ := tsig.Generate("192.0.2.1.192.0.2.2._transfer.example.com.", dns.HmacSHA512, strings.NewReader(strings.Repeat("x", 64)))
	many, _ := tsig.Generate("ops._update.many.test.", dns.HmacSHA384, strings.NewReader(strings.Repeat("m", 64)))
	f := &fixture{keys: tsig.NewKeyring(upd, xfr, many), update: upd, transfer: xfr, notifies: make(chan string, 4), now: time.Now()}
	set := authority.NewSet(zonetest.Zone(t, "example.com.", bigZone(t)), zonetest.Zone(t, "many.test.", manyZone(2000)))
	f.addr = dnstest.Serve(t, server.Config{
		Zones: func() *authority.Set { return set },
		Keys:  func() *tsig.Keyring { return f.keys },
		Notify: func(zone string, key tsig.Key, from netip.AddrPort) {
			f.notifies <- zone + " " + key.Name
		},
		Now: func() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now },
	})
	return f
}

func (f *fixture) exchange(t *testing.T, m *dns.Msg, network string) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: network, Timeout: 5 * time.Second}
	r, _, err := c.Exchange(m, f.addr)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return r
}

func query(name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	return m
}

func TestAnswers(t *testing.T) {
	f := start(t)
	tests := []struct {
		name    string
		msg     func() *dns.Msg
		network string
		rcode   int
		check   func(t *testing.T, r *dns.Msg)
	}{
		{"hit", func() *dns.Msg { return query("www.example.com.", dns.TypeA) }, "udp", dns.RcodeSuccess,
			func(t *testing.T, r *dns.Msg) {
				if !r.Authoritative || len(r.Answer) != 1 {
					t.Errorf("want one authoritative answer, got %v", r)
				}
			}},
		{"not served", func() *dns.Msg { return query("www.example.net.", dns.TypeA) }, "udp", dns.RcodeRefused, nil},
		{"chaos class", func() *dns.Msg {
			m := query("version.bind.", dns.TypeTXT)
			m.Question[0].Qclass = dns.ClassCHAOS
			return m
		}, "udp", dns.RcodeRefused, nil},
		{"unknown opcode", func() *dns.Msg {
			m := query("www.example.com.", dns.TypeA)
			m.Opcode = dns.OpcodeStatus
			return m
		}, "udp", dns.RcodeNotImplemented, nil},
		{"two questions", func() *dns.Msg {
			m := query("www.example.com.", dns.TypeA)
			m.Question = append(m.Question, m.Question[0])
			return m
		}, "udp", dns.RcodeFormatError, nil},
		{"EDNS version 1", func() *dns.Msg {
			m := query("www.example.com.", dns.TypeA)
			m.SetEdns0(1232, false)
			m.IsEdns0().SetVersion(1)
			return m
		}, "udp", dns.RcodeBadVers, func(t *testing.T, r *dns.Msg) {
			if opt := r.IsEdns0(); opt == nil || opt.Version() != 0 {
				t.Errorf("BADVERS must carry our OPT of version 0: %v", r)
			}
		}},
		{"EDNS size echoed", func() *dns.Msg {
			m := query("www.example.com.", dns.TypeA)
			m.SetEdns0(4096, false)
			return m
		}, "udp", dns.RcodeSuccess, func(t *testing.T, r *dns.Msg) {
			if opt := r.IsEdns0(); opt == nil || opt.UDPSize() != server.DefaultUDPSize {
				t.Errorf("want OPT with our %d-byte size, got %v", server.DefaultUDPSize, opt)
			}
		}},
		{"truncated over UDP", func() *dns.Msg { return query("big.example.com.", dns.TypeTXT) }, "udp", dns.RcodeSuccess,
			func(t *testing.T, r *dns.Msg) {
				r.Compress = true // measure what travelled
				if !r.Truncated || r.Len() > 512 {
					t.Errorf("want TC and at most 512 bytes, got TC=%v %d bytes", r.Truncated, r.Len())
				}
			}},
		{"EDNS truncates at 1232", func() *dns.Msg {
			m := query("big.example.com.", dns.TypeTXT)
			m.SetEdns0(4096, false)
			return m
		}, "udp", dns.RcodeSuccess, func(t *testing.T, r *dns.Msg) {
			r.Compress = true
			if !r.Truncated || r.Len() > server.DefaultUDPSize {
				t.Errorf("want TC within %d bytes, got TC=%v %d bytes", server.DefaultUDPSize, r.Truncated, r.Len())
			}
		}},
		{"whole answer over TCP", func() *dns.Msg { return query("big.example.com.", dns.TypeTXT) }, "tcp", dns.RcodeSuccess,
			func(t *testing.T, r *dns.Msg) {
				if r.Truncated || len(r.Answer) != 41 {
					t.Errorf("want 41 TXT records untruncated, got TC=%v %d", r.Truncated, len(r.Answer))
				}
			}},
		{"AXFR without key", func() *dns.Msg { return query("example.com.", dns.TypeAXFR) }, "tcp", dns.RcodeRefused, nil},
		{"AXFR over UDP", func() *dns.Msg { return query("example.com.", dns.TypeAXFR) }, "udp", dns.RcodeNotImplemented, nil},
		{"AXFR of a zone not served", func() *dns.Msg { return query("example.net.", dns.TypeAXFR) }, "tcp", dns.RcodeNotAuth, nil},
		{"unsigned NOTIFY", func() *dns.Msg {
			m := query("example.com.", dns.TypeSOA)
			m.Opcode = dns.OpcodeNotify
			return m
		}, "udp", dns.RcodeRefused, nil},
		{"UPDATE not offered", func() *dns.Msg {
			m := new(dns.Msg)
			m.SetUpdate("example.com.")
			return m
		}, "udp", dns.RcodeNotImplemented, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := f.exchange(t, tc.msg(), tc.network)
			if r.Rcode != tc.rcode {
				t.Fatalf("rcode %s, want %s\n%v", dns.RcodeToString[r.Rcode], dns.RcodeToString[tc.rcode], r)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

// xfr runs an AXFR with key through miekg's client, which verifies
// every message's TSIG.
func (f *fixture) xfr(t *testing.T, key tsig.Key, qtype uint16, serial uint32) ([]dns.RR, error) {
	t.Helper()
	p := &tsig.Provider{Keys: func() *tsig.Keyring { return f.keys }}
	m := query("example.com.", qtype)
	if qtype == dns.TypeIXFR {
		m.SetIxfr("example.com.", serial, "ns1.example.com.", "hostmaster.example.com.")
	}
	if err := p.SignRequest(m, key.Name); err != nil {
		t.Fatal(err)
	}
	return dnstest.Transfer(f.addr, m, p)
}

func TestAXFRWithKeys(t *testing.T) {
	f := start(t)
	for _, key := range []tsig.Key{f.update, f.transfer} {
		rrs, err := f.xfr(t, key, dns.TypeAXFR, 0)
		if err != nil {
			t.Fatalf("AXFR with %s: %v", key.Name, err)
		}
		// SOA, NS, 2 A, 41 TXT, SOA: more than one message, all signed.
		if len(rrs) != 46 || rrs[0].Header().Rrtype != dns.TypeSOA || rrs[len(rrs)-1].Header().Rrtype != dns.TypeSOA {
			t.Errorf("AXFR with %s: %d records, want 46 framed by SOA", key.Name, len(rrs))
		}
	}
	// IXFR from the current serial: just the SOA; from an older one
	// without history: the whole zone (RFC 1995 §4).
	if rrs, err := f.xfr(t, f.transfer, dns.TypeIXFR, 7); err != nil || len(rrs) != 1 {
		t.Errorf("IXFR up to date: %d records, %v; want the SOA alone", len(rrs), err)
	}
	if rrs, err := f.xfr(t, f.transfer, dns.TypeIXFR, 3); err != nil || len(rrs) != 46 {
		t.Errorf("IXFR from an unknown serial: %d records, %v; want the whole zone", len(rrs), err)
	}
}

func TestTSIGErrors(t *testing.T) {
	f := start(t)
	unknown, _ := tsig.Generate("stranger._update.example.com.", dns.HmacSHA256, strings.NewReader(strings.Repeat("s", 64)))
	forged := f.update
	forged.Secret = unknown.Secret
	tests := []struct {
		name    string
		key     tsig.Key
		skew    time.Duration
		tsigErr uint16
	}{
		{"unknown key", unknown, 0, dns.RcodeBadKey},
		{"wrong secret", forged, 0, dns.RcodeBadSig},
		{"clock skew", f.update, time.Hour, dns.RcodeBadTime},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.mu.Lock()
			f.now = time.Now().Add(tc.skew)
			f.mu.Unlock()
			// The client signs with the key it believes in.
			kr := tsig.NewKeyring(tc.key)
			p := &tsig.Provider{Keys: func() *tsig.Keyring { return kr }}
			m := query("example.com.", dns.TypeSOA)
			if err := p.SignRequest(m, tc.key.Name); err != nil {
				t.Fatal(err)
			}
			c := &dns.Client{Net: "tcp", Timeout: 5 * time.Second}
			// Read the raw answer: miekg's client refuses NOTAUTH with TSIG.
			conn, err := c.Dial(f.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.TsigProvider = p
			if err := conn.WriteMsg(m); err != nil {
				t.Fatal(err)
			}
			r, err := conn.ReadMsg()
			if err != nil && !errors.Is(err, dns.ErrAuth) && !errors.Is(err, dns.ErrTime) && !errors.Is(err, dns.ErrSig) {
				t.Fatalf("read: %v", err)
			}
			if r == nil {
				t.Fatal("no answer")
			}
			ts := r.IsTsig()
			if r.Rcode != dns.RcodeNotAuth || ts == nil || ts.Error != tc.tsigErr {
				t.Errorf("got rcode %s tsig %v, want NOTAUTH with TSIG error %s", dns.RcodeToString[r.Rcode], ts, dns.RcodeToString[int(tc.tsigErr)])
			}
		})
	}
}

func TestNotify(t *testing.T) {
	f := start(t)
	p := &tsig.Provider{Keys: func() *tsig.Keyring { return f.keys }}
	m := query("example.com.", dns.TypeSOA)
	m.Opcode = dns.OpcodeNotify
	p.SignRequest(m, f.transfer.Name)
	c := &dns.Client{Net: "udp", TsigProvider: p, Timeout: 5 * time.Second}
	r, _, err := c.Exchange(m, f.addr)
	if err != nil {
		t.Fatal(err)
	}
	if r.Rcode != dns.RcodeSuccess || !r.Authoritative || r.IsTsig() == nil {
		t.Errorf("signed NOTIFY answered %v", r)
	}
	select {
	case got := <-f.notifies:
		if got != "example.com. "+f.transfer.Name {
			t.Errorf("Notify hook got %q", got)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Notify hook not called")
	}
}

// TestAXFRManyMessages: a transfer of several messages, each signed and
// chained to the one before (RFC 8945 §5.3.1), which miekg's client
// verifies message by message.
func TestAXFRManyMessages(t *testing.T) {
	f := start(t)
	p := &tsig.Provider{Keys: func() *tsig.Keyring { return f.keys }}
	m := query("many.test.", dns.TypeAXFR)
	p.SignRequest(m, "ops._update.many.test.")
	ch, err := (&dns.Transfer{TsigProvider: p}).In(m, f.addr)
	if err != nil {
		t.Fatal(err)
	}
	msgs, records := 0, 0
	for env := range ch {
		if env.Error != nil {
			t.Fatalf("message %d: %v", msgs+1, env.Error)
		}
		msgs++
		records += len(env.RR)
	}
	if msgs < 2 || records != 2000+3+1 {
		t.Errorf("%d messages, %d records; want several messages and %d records", msgs, records, 2004)
	}
}

// TestTCPPipelining: queries sent back to back on one connection are all
// answered, in order.
func TestTCPPipelining(t *testing.T) {
	f := start(t)
	conn, err := net.Dial("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := &dns.Conn{Conn: conn}
	names := []string{"www.example.com.", "ns1.example.com.", "nothing.example.com.", "big.example.com."}
	for i, name := range names {
		m := query(name, dns.TypeA)
		m.Id = uint16(100 + i)
		if err := c.WriteMsg(m); err != nil {
			t.Fatal(err)
		}
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for i := range names {
		r, err := c.ReadMsg()
		if err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
		if r.Id != uint16(100+i) || r.Question[0].Name != names[i] {
			t.Errorf("answer %d is for %d %s", i, r.Id, r.Question[0].Name)
		}
	}
}

// TestAXFROpen: with AXFROpen, transfers need no key.
func TestAXFROpen(t *testing.T) {
	set := authority.NewSet(zonetest.Zone(t, "example.com.", testZone))
	addr := dnstest.Serve(t, server.Config{Zones: func() *authority.Set { return set }, AXFROpen: true})
	rrs, err := dnstest.Transfer(addr, query("example.com.", dns.TypeAXFR), nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(rrs); n != 6 { // SOA, NS, A, A, TXT, SOA
		t.Errorf("unsigned AXFR gave %d records, want 6", len(rrs))
	}
}

// TestBareHeader: a header that promises a question and carries none is
// answered FORMERR, and the server goes on serving.
func TestBareHeader(t *testing.T) {
	f := start(t)
	conn, err := net.Dial("udp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write([]byte{0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0})
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 512)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("no answer to a bare header: %v", err)
	}
	m := new(dns.Msg)
	if err := m.Unpack(buf[:n]); err != nil || m.Rcode != dns.RcodeFormatError {
		t.Errorf("answer %v, %v; want FORMERR", m, err)
	}
	if r := f.exchange(t, query("www.example.com.", dns.TypeA), "udp"); r.Rcode != dns.RcodeSuccess {
		t.Errorf("after a bare header: %v", r)
	}
}

// TestSignedTruncation: a signed answer truncated for UDP still fits the
// client's buffer once its TSIG record is added, and verifies.
func TestSignedTruncation(t *testing.T) {
	f := start(t)
	for _, key := range []tsig.Key{f.update, f.transfer} { // sha256, sha512
		p := &tsig.Provider{Keys: func() *tsig.Keyring { return f.keys }}
		m := query("big.example.com.", dns.TypeTXT)
		p.SignRequest(m, key.Name)
		// miekg's client reads at most 512 bytes without EDNS and checks
		// the signature of what it read.
		c := &dns.Client{Net: "udp", TsigProvider: p, Timeout: 2 * time.Second}
		r, _, err := c.Exchange(m, f.addr)
		if err != nil {
			t.Fatalf("%s: %v", key.Algorithm, err)
		}
		if !r.Truncated || r.IsTsig() == nil {
			t.Errorf("%s: want a signed, truncated answer: %v", key.Algorithm, r)
		}
	}
}

// TestExpiredZone: an expired zone answers SERVFAIL to queries and to
// transfers, even open ones.
func TestExpiredZone(t *testing.T) {
	set := authority.NewSet(zonetest.Zone(t, "example.com.", testZone).Expire())
	addr := dnstest.Serve(t, server.Config{Zones: func() *authority.Set { return set }, AXFROpen: true})
	for _, qt := range []uint16{dns.TypeA, dns.TypeAXFR} {
		c := &dns.Client{Net: "tcp"}
		r, _, err := c.Exchange(query("www.example.com.", qt), addr)
		if qt == dns.TypeAXFR {
			r, _, err = c.Exchange(query("example.com.", qt), addr)
		}
		if err != nil {
			t.Fatal(err)
		}
		if r.Rcode != dns.RcodeServerFailure {
			t.Errorf("%s: rcode %s, want SERVFAIL", dns.TypeToString[qt], dns.RcodeToString[r.Rcode])
		}
	}
}

// TestNotifyFrom: an unsigned NOTIFY counts only from an address
// NotifyFrom approves for the zone; the hook then gets a zero key.
func TestNotifyFrom(t *testing.T) {
	set := authority.NewSet(zonetest.Zone(t, "example.com.", testZone), zonetest.Zone(t, "example.net.", strings.ReplaceAll(testZone, "example.com.", "example.net.")))
	notifies := make(chan string, 4)
	addr := dnstest.Serve(t, server.Config{
		Zones: func() *authority.Set { return set },
		NotifyFrom: func(zone string, from netip.Addr) bool {
			return zone == "example.com." && from == netip.MustParseAddr("127.0.0.1")
		},
		Notify: func(zone string, key tsig.Key, _ netip.AddrPort) { notifies <- zone + " " + key.Name },
	})
	for _, tc := range []struct {
		zone  string
		rcode int
	}{
		{"example.com.", dns.RcodeSuccess},
		{"example.net.", dns.RcodeRefused},
	} {
		m := query(tc.zone, dns.TypeSOA)
		m.Opcode = dns.OpcodeNotify
		r, _, err := (&dns.Client{Timeout: 5 * time.Second}).Exchange(m, addr)
		if err != nil {
			t.Fatal(err)
		}
		if r.Rcode != tc.rcode {
			t.Errorf("unsigned NOTIFY for %s: %s, want %s", tc.zone, dns.RcodeToString[r.Rcode], dns.RcodeToString[tc.rcode])
		}
	}
	if got := <-notifies; got != "example.com. " {
		t.Errorf("Notify hook got %q, want the zone and no key", got)
	}
	select {
	case got := <-notifies:
		t.Errorf("refused NOTIFY reached the hook: %q", got)
	default:
	}
}
