package primary_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/tsig"
	"github.com/quercus-dev/quercus/internal/peer"
)

// exchangeSigned sends m signed with key over TCP and returns the
// verified answer.
func exchangeSigned(tb testing.TB, addr string, key tsig.Key, m *dns.Msg) *dns.Msg {
	tb.Helper()
	kr := tsig.NewKeyring(key)
	p := &tsig.Provider{Keys: func() *tsig.Keyring { return kr }}
	if err := p.SignRequest(m, key.Name); err != nil {
		tb.Fatal(err)
	}
	c := &dns.Client{Net: "tcp", TsigProvider: p, Timeout: 30 * time.Second}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// sendUpdate adds one A record with a signed UPDATE and fails unless it is
// acknowledged.
func sendUpdate(tb testing.TB, addr string, key tsig.Key, name string) {
	m := new(dns.Msg)
	m.SetUpdate("example.com.")
	rr, _ := dns.NewRR(name + " 300 IN A 192.0.2.1")
	m.Insert([]dns.RR{rr})
	if r := exchangeSigned(tb, addr, key, m); r.Rcode != dns.RcodeSuccess {
		tb.Fatalf("update %s: %s", name, dns.RcodeToString[r.Rcode])
	}
}

// BenchmarkUpdateLatency: one client, one update at a time, each pushed
// to a local bare remote before it is answered.
func BenchmarkUpdateLatency(b *testing.B) {
	peer.Require(b, "git")
	r := startPrimary(b)
	key := r.tkey
	i := 0
	for b.Loop() {
		sendUpdate(b, r.addr, key, fmt.Sprintf("lat%d.example.com.", i))
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/update")
}

// BenchmarkUpdateThroughput: 16 clients at once; acknowledged updates per
// second, with group commit pushing those that arrive together.
func BenchmarkUpdateThroughput(b *testing.B) {
	peer.Require(b, "git")
	r := startPrimary(b)
	key := r.tkey
	var next atomic.Int64
	start := time.Now()
	b.ResetTimer()
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				sendUpdate(b, r.addr, key, fmt.Sprintf("tp%d.example.com.", i))
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "updates/s")
}
