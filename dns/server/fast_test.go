package server

import (
	"bytes"
	"context"
	"encoding/binary"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/bench/dns/workload"
	"github.com/quercus-dev/quercus/dns/authority"
	"github.com/quercus-dev/quercus/dns/tsig"
	"github.com/quercus-dev/quercus/internal/zonetest"
)

// fastZone has a bit of everything the lookup does differently: glue,
// a delegation, CNAME chains within and out of the zone, a DNAME, a
// wildcard, MX additionals, upper case in owners and rdata, and answers
// too big for 512 bytes or for 1232.
const fastZone = `$ORIGIN example.com.
$TTL 300
@       SOA ns1 hostmaster 7 3600 900 1209600 300
@       NS  ns1
@       MX  10 Mail
ns1     A   192.0.2.53
Mail    A   192.0.2.25
mail    AAAA 2001:db8::25
www     A   192.0.2.1
www     AAAA 2001:db8::1
alias   CNAME www
chain   CNAME alias
out     CNAME www.example.net.
sub     NS  ns.sub
ns.sub  A   192.0.2.99
d       DNAME example.net.
*.wild  TXT "wild"
e.f.g   A   192.0.2.7
`

const fastZone2 = `$ORIGIN example.net.
$TTL 60
@       SOA ns1.example.com. hostmaster.example.com. 1 3600 900 1209600 60
@       NS  ns1.example.com.
www     A   198.51.100.1
`

func fastSet(t testing.TB) *authority.Set {
	t.Helper()
	var b strings.Builder
	b.WriteString(fastZone)
	for i := range 12 {
		b.WriteString("mid TXT \"" + strings.Repeat(string(rune('a'+i)), 60) + "\"\n")
	}
	for i := range 30 {
		b.WriteString("big TXT \"" + strings.Repeat(string(rune('a'+i)), 60) + "\"\n")
	}
	return authority.NewSet(zonetest.Zone(t, "example.com.", b.String()), zonetest.Zone(t, "example.net.", fastZone2))
}

func newTestServer(t testing.TB, set *authority.Set) *Server {
	t.Helper()
	s, err := New(Config{Zones: func() *authority.Set { return set }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// recorder is a UDP dns.ResponseWriter that keeps what miekg's writer
// would send for an unsigned message.
type recorder struct {
	dns.ResponseWriter
	out []byte
}

func (r *recorder) RemoteAddr() net.Addr { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5300} }
func (r *recorder) TsigStatus() error    { return nil }
func (r *recorder) WriteMsg(m *dns.Msg) error {
	b, err := m.Pack()
	r.out = b
	return err
}

// general answers pkt through miekg's unpacking and ServeDNS, as an
// unsigned UDP query; ok false if miekg would not hand it to ServeDNS
// as a query to answer.
func general(t testing.TB, s *Server, pkt []byte) ([]byte, bool) {
	t.Helper()
	var hdr dns.Msg
	if err := hdr.Unpack(pkt[:12]); err != nil {
		return nil, false
	}
	dh := dns.Header{Id: hdr.Id, Qdcount: be16(pkt[4:]), Ancount: be16(pkt[6:]), Nscount: be16(pkt[8:]), Arcount: be16(pkt[10:])}
	dh.Bits = be16(pkt[2:])
	if accept(dh) != dns.MsgAccept {
		return nil, false
	}
	req := new(dns.Msg)
	if err := req.Unpack(pkt); err != nil {
		return nil, false
	}
	w := &recorder{}
	s.ServeDNS(w, req)
	return w.out, true
}

// checkSame fails unless the fast path's answer to pkt, if it gives one,
// is the general path's.
func checkSame(t testing.TB, s *Server, pkt []byte) bool {
	t.Helper()
	out := make([]byte, DefaultUDPSize)
	fast, ok := s.fastAnswer(pkt, out)
	if !ok {
		return false
	}
	want, ok := general(t, s, pkt)
	if !ok {
		t.Fatalf("fast path answered a message the general path would not:\n%x", pkt)
	}
	if !bytes.Equal(fast, want) {
		var fm, wm dns.Msg
		fm.Unpack(fast)
		wm.Unpack(want)
		t.Fatalf("fast path and general path differ for %x\nfast:\n%x\n%v\ngeneral:\n%x\n%v", pkt, fast, &fm, want, &wm)
	}
	return true
}

// variants packs q in the ways a client may ask it: with and without
// EDNS and with several buffer sizes, flags and IDs, each twice so that
// the second hits the cache.
func variants(q dns.Question, rnd *rand.Rand) [][]byte {
	var pkts [][]byte
	for _, size := range []uint16{0, 512, 1232, 4096, 700} {
		m := new(dns.Msg)
		m.Question = []dns.Question{q}
		m.Id = uint16(rnd.Uint32())
		m.RecursionDesired = rnd.IntN(2) == 0
		m.CheckingDisabled = rnd.IntN(2) == 0
		m.AuthenticatedData = rnd.IntN(2) == 0
		if size > 0 {
			m.SetEdns0(size, rnd.IntN(2) == 0)
		}
		b, err := m.Pack()
		if err != nil {
			panic(err)
		}
		pkts = append(pkts, b, bytes.Clone(b))
	}
	return pkts
}

// TestFastPathEquivalence answers every query of the benchmark's query
// file, and the questions of a zone with every kind of answer, by both
// paths, and wants the same bytes.
func TestFastPathEquivalence(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	t.Run("bench", func(t *testing.T) {
		const names = 10000
		var zb bytes.Buffer
		if err := workload.Zone(&zb, names); err != nil {
			t.Fatal(err)
		}
		s := newTestServer(t, authority.NewSet(zonetest.Zone(t, workload.Origin, zb.String())))
		fast := 0
		qs := workload.Queries(names)
		for _, q := range qs {
			for _, pkt := range variants(dns.Question{Name: q.Name, Qtype: dns.StringToType[q.Type], Qclass: dns.ClassINET}, rnd) {
				if checkSame(t, s, pkt) {
					fast++
				}
			}
		}
		if fast != len(qs)*10 {
			t.Errorf("fast path answered %d of %d queries", fast, len(qs)*10)
		}
	})
	t.Run("kinds", func(t *testing.T) {
		s := newTestServer(t, fastSet(t))
		names := []string{"example.com.", "Example.COM.", "www.example.com.", "WWW.example.com.", "alias.example.com.",
			"Chain.Example.Com.", "out.example.com.", "sub.example.com.", "x.SUB.example.com.", "ns.sub.example.com.",
			"a.d.example.com.", "A.b.D.example.com.", "x.wild.example.com.", "X.Y.Wild.example.com.", "nx.example.com.",
			"NX.example.com.", "f.g.example.com.", "mail.example.com.", "MAIL.example.com.", "mid.example.com.",
			"big.example.com.", "www.example.net.", "WWW.EXAMPLE.NET.", "example.org.", "*.wild.example.com.", "."}
		types := []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeMX, dns.TypeNS, dns.TypeSOA, dns.TypeTXT, dns.TypeCNAME,
			dns.TypeDNAME, dns.TypeDS, dns.TypeANY, dns.TypeSRV, 65000}
		fast := 0
		for _, n := range names {
			for _, typ := range types {
				for _, pkt := range variants(dns.Question{Name: n, Qtype: typ, Qclass: dns.ClassINET}, rnd) {
					if checkSame(t, s, pkt) {
						fast++
					}
				}
			}
		}
		t.Logf("fast path answered %d of %d", fast, len(names)*len(types)*10)
	})
}

// TestFastPathDeclines lists what the fast path leaves to the general path.
func TestFastPathDeclines(t *testing.T) {
	s := newTestServer(t, fastSet(t))
	q := func(f func(m *dns.Msg)) []byte {
		m := new(dns.Msg)
		m.SetQuestion("www.example.com.", dns.TypeA)
		f(m)
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	signed := new(dns.Msg)
	signed.SetQuestion("www.example.com.", dns.TypeA)
	signed.SetTsig("k.", dns.HmacSHA256, 300, 0)
	key, _ := tsig.Generate("k.", dns.HmacSHA256, strings.NewReader(strings.Repeat("k", 64)))
	signedPkt, _, err := dns.TsigGenerate(signed, key.Secret, "", false)
	if err != nil {
		t.Fatal(err)
	}
	compressed := q(func(m *dns.Msg) {})
	compressed = append(compressed[:12], 0xC0, 0x0C, 0, 1, 0, 1) // a pointer as the name
	cases := map[string][]byte{
		"response":     q(func(m *dns.Msg) { m.Response = true }),
		"notify":       q(func(m *dns.Msg) { m.Opcode = dns.OpcodeNotify }),
		"update":       q(func(m *dns.Msg) { m.Opcode = dns.OpcodeUpdate }),
		"class CH":     q(func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassCHAOS }),
		"class ANY":    q(func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassANY }),
		"AXFR":         q(func(m *dns.Msg) { m.Question[0].Qtype = dns.TypeAXFR }),
		"IXFR":         q(func(m *dns.Msg) { m.Question[0].Qtype = dns.TypeIXFR }),
		"EDNS version": q(func(m *dns.Msg) { m.SetEdns0(1232, false); m.IsEdns0().SetVersion(1) }),
		"EDNS subnet": q(func(m *dns.Msg) {
			m.SetEdns0(1232, false)
			m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 24, Address: net.IPv4(192, 0, 2, 0)}}
		}),
		"escaped name":  q(func(m *dns.Msg) { m.Question[0].Name = `w\.w.example.com.` }),
		"two questions": q(func(m *dns.Msg) { m.Question = append(m.Question, m.Question[0]) }),
		"answer record": q(func(m *dns.Msg) {
			m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeA, Class: 1}}}
		}),
		"TSIG":          signedPkt,
		"compressed":    compressed,
		"trailing byte": append(q(func(m *dns.Msg) {}), 0),
		"bare header":   q(func(m *dns.Msg) {})[:12],
		"too big":       q(func(m *dns.Msg) { m.Question[0].Name = "big.example.com."; m.Question[0].Qtype = dns.TypeTXT }),
		"mid, no EDNS":  q(func(m *dns.Msg) { m.Question[0].Name = "mid.example.com."; m.Question[0].Qtype = dns.TypeTXT }),
	}
	for name, pkt := range cases {
		if resp, ok := s.fastAnswer(pkt, make([]byte, DefaultUDPSize)); ok {
			t.Errorf("%s: fast path answered: %x", name, resp)
		}
	}
}

// TestFastPathZoneSwap: a new set of zones is answered from at once, from
// a fresh cache.
func TestFastPathZoneSwap(t *testing.T) {
	set := fastSet(t)
	s, err := New(Config{Zones: func() *authority.Set { return set }})
	if err != nil {
		t.Fatal(err)
	}
	pkt := variants(dns.Question{Name: "www.example.net.", Qtype: dns.TypeA, Qclass: dns.ClassINET}, rand.New(rand.NewPCG(3, 4)))[2]
	first := bytes.Clone(mustFast(t, s, pkt))
	set = authority.NewSet(zonetest.Zone(t, "example.net.", strings.Replace(fastZone2, "198.51.100.1", "198.51.100.2", 1)))
	second := mustFast(t, s, pkt)
	if bytes.Equal(first, second) || !bytes.Contains(second, []byte{198, 51, 100, 2}) {
		t.Fatalf("after the swap the fast path answered %x", second)
	}
	checkSame(t, s, pkt)
}

func mustFast(t testing.TB, s *Server, pkt []byte) []byte {
	t.Helper()
	resp, ok := s.fastAnswer(pkt, make([]byte, DefaultUDPSize))
	if !ok {
		t.Fatalf("fast path declined %x", pkt)
	}
	return resp
}

// TestFastPathAllocs: a cached answer costs no allocation.
func TestFastPathAllocs(t *testing.T) {
	s := newTestServer(t, fastSet(t))
	out := make([]byte, DefaultUDPSize)
	for _, name := range []string{"www.example.com.", "WwW.example.com."} {
		pkt := variants(dns.Question{Name: name, Qtype: dns.TypeA, Qclass: dns.ClassINET}, rand.New(rand.NewPCG(5, 6)))[4]
		mustFast(t, s, pkt)
		if n := testing.AllocsPerRun(100, func() { s.fastAnswer(pkt, out) }); n != 0 {
			t.Errorf("%s: %v allocations per answer", name, n)
		}
	}
}

// FuzzFastPath: whatever the message, the fast path answers it as the
// general path does, or leaves it alone.
func FuzzFastPath(f *testing.F) {
	rnd := rand.New(rand.NewPCG(7, 8))
	for _, n := range []string{"www.example.com.", "Alias.example.com.", "x.d.example.com.", "a.wild.example.com.", "nx.example.com.", "MID.example.com."} {
		for _, typ := range []uint16{dns.TypeA, dns.TypeTXT, dns.TypeMX} {
			for _, pkt := range variants(dns.Question{Name: n, Qtype: typ, Qclass: dns.ClassINET}, rnd) {
				f.Add(pkt)
			}
		}
	}
	s := newTestServer(f, fastSet(f))
	f.Fuzz(func(t *testing.T, pkt []byte) {
		checkSame(t, s, pkt)
	})
}

// BenchmarkFastPath answers a cached query; it must report 0 allocs/op.
func BenchmarkFastPath(b *testing.B) {
	for _, name := range []string{"www.example.com.", "WWW.Example.com."} {
		b.Run(strings.ToLower(name[:3])+map[bool]string{true: "-lower", false: "-mixed"}[name[0] == 'w'], func(b *testing.B) {
			s := newTestServer(b, fastSet(b))
			pkt := variants(dns.Question{Name: name, Qtype: dns.TypeA, Qclass: dns.ClassINET}, rand.New(rand.NewPCG(9, 10)))[4]
			out := make([]byte, DefaultUDPSize)
			mustFast(b, s, pkt)
			b.ReportAllocs()
			for b.Loop() {
				s.fastAnswer(pkt, out)
			}
		})
	}
}

// BenchmarkGeneralPath is the same query through unpacking, ServeDNS and
// packing, for comparison.
func BenchmarkGeneralPath(b *testing.B) {
	s := newTestServer(b, fastSet(b))
	pkt := variants(dns.Question{Name: "www.example.com.", Qtype: dns.TypeA, Qclass: dns.ClassINET}, rand.New(rand.NewPCG(9, 10)))[4]
	b.ReportAllocs()
	for b.Loop() {
		req := new(dns.Msg)
		if err := req.Unpack(pkt); err != nil {
			b.Fatal(err)
		}
		s.ServeDNS(&recorder{}, req)
	}
}

// TestFastPathSteadyState: once every query of the bench file was asked,
// asking them all again makes no new cache entry: the cache holds the
// workload, upper-case queries included.
func TestFastPathSteadyState(t *testing.T) {
	const names = 10000
	var zb bytes.Buffer
	if err := workload.Zone(&zb, names); err != nil {
		t.Fatal(err)
	}
	s := newTestServer(t, authority.NewSet(zonetest.Zone(t, workload.Origin, zb.String())))
	var pkts [][]byte
	rnd := rand.New(rand.NewPCG(11, 12))
	for _, q := range workload.Queries(names) {
		pkts = append(pkts, variants(dns.Question{Name: q.Name, Qtype: dns.StringToType[q.Type], Qclass: dns.ClassINET}, rnd)[6])
	}
	out := make([]byte, DefaultUDPSize)
	for _, pkt := range pkts {
		mustFast(t, s, pkt)
	}
	before := s.fills.Load()
	for _, pkt := range pkts {
		s.fastAnswer(pkt, out)
	}
	if n := s.fills.Load() - before; n != 0 {
		t.Errorf("the second pass made %d cache entries", n)
	}
}

// serveOn runs a server with cfg on addr until the test ends.
func serveOn(t *testing.T, cfg Config, addr string) string {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pc, ln, err := Listen(addr, 0)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Serve(ctx, pc, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return pc.LocalAddr().String()
}

// TestFastPathOverSockets sends the same bursts of queries, fast-path
// ones and general ones mixed, to a server with the fast path and to one
// without, over IPv4 and IPv6 loopback, and wants the same bytes back.
func TestFastPathOverSockets(t *testing.T) {
	set := fastSet(t)
	zones := func() *authority.Set { return set }
	rnd := rand.New(rand.NewPCG(13, 14))
	var pkts [][]byte
	for _, n := range []string{"www.example.com.", "WWW.example.com.", "nx.example.com.", "big.example.com.", "x.d.example.com."} {
		for _, typ := range []uint16{dns.TypeA, dns.TypeTXT} {
			pkts = append(pkts, variants(dns.Question{Name: n, Qtype: typ, Qclass: dns.ClassINET}, rnd)...)
		}
	}
	chaos := new(dns.Msg)
	chaos.SetQuestion("version.bind.", dns.TypeTXT)
	chaos.Question[0].Qclass = dns.ClassCHAOS
	b, _ := chaos.Pack()
	pkts = append(pkts, b)
	for i := range pkts {
		binary.BigEndian.PutUint16(pkts[i], uint16(i)) // IDs to match answers by
	}
	for _, host := range []string{"127.0.0.1", "[::1]"} {
		fast := serveOn(t, Config{Zones: zones}, host+":0")
		slow := serveOn(t, Config{Zones: zones, NoFastPath: true}, host+":0")
		got, want := burst(t, fast, pkts), burst(t, slow, pkts)
		for i := range pkts {
			if !bytes.Equal(got[i], want[i]) {
				t.Errorf("%s: query %d: fast path sent\n%x\ngeneral path sent\n%x", host, i, got[i], want[i])
			}
		}
	}
}

// burst sends all pkts at once and collects the answers by ID.
func burst(t *testing.T, addr string, pkts [][]byte) map[int][]byte {
	t.Helper()
	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, p := range pkts {
		if _, err := conn.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	got := map[int][]byte{}
	buf := make([]byte, 65535)
	conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	for len(got) < len(pkts) {
		n, err := conn.Read(buf)
		if err != nil {
			var missing []int
			for i := range pkts {
				if got[i] == nil {
					missing = append(missing, i)
				}
			}
			t.Fatalf("%s: %d of %d answers: %v; missing %v", addr, len(got), len(pkts), err, missing)
		}
		got[int(binary.BigEndian.Uint16(buf))] = bytes.Clone(buf[:n])
	}
	return got
}

// TestFastPathConcurrentSwaps answers from two goroutines while a third
// swaps the zones, as an UPDATE or a new git revision does: nothing
// waits on a lock (there is none), every answer is one set's answer, and
// the race detector sees no race.
func TestFastPathConcurrentSwaps(t *testing.T) {
	sets := []*authority.Set{fastSet(t), authority.NewSet(zonetest.Zone(t, "example.net.", strings.Replace(fastZone2, "198.51.100.1", "198.51.100.2", 1)))}
	var cur atomic.Pointer[authority.Set]
	cur.Store(sets[0])
	s, err := New(Config{Zones: cur.Load})
	if err != nil {
		t.Fatal(err)
	}
	pkt := variants(dns.Question{Name: "www.example.net.", Qtype: dns.TypeA, Qclass: dns.ClassINET}, rand.New(rand.NewPCG(15, 16)))[2]
	want := map[string]bool{}
	for _, set := range sets {
		cur.Store(set)
		want[string(mustFast(t, s, pkt))] = true
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			out := make([]byte, DefaultUDPSize)
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, ok := s.fastAnswer(pkt, out)
				if !ok || !want[string(resp)] {
					t.Errorf("answer %x during swaps", resp)
					return
				}
			}
		})
	}
	for i := range 200 {
		cur.Store(sets[i%2])
	}
	close(stop)
	wg.Wait()
}
