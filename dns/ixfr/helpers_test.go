package ixfr_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/authority"
	"github.com/quercus-dev/quercus/dns/zone"
	"github.com/quercus-dev/quercus/kv"
	"github.com/quercus-dev/quercus/kv/mem"
)

const origin = "example.com."

// text is a zone file for example.com with the given serial and body.
func text(serial uint32, body string) string {
	return fmt.Sprintf(`$TTL 300
@     SOA ns1 hostmaster %d 3600 900 1209600 300
@     NS  ns1
ns1   A   192.0.2.53
%s`, serial, body)
}

// deleted, as a commit's content, deletes the zone file.
const deleted = "\x00deleted"

// history commits each text in turn as example.com's file.
func history(t testing.TB, texts ...string) *mem.Store {
	t.Helper()
	s := mem.New()
	for i, src := range texts {
		_, err := s.Batch(context.Background(), kv.Commit{Message: fmt.Sprintf("commit %d", i)}, func(tx kv.Txn) error {
			if src == deleted {
				return tx.Delete("example.com")
			}
			return tx.Put("example.com", []byte(src))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// served parses src as the primary does and indexes it.
func served(t testing.TB, src string) *authority.Zone {
	t.Helper()
	z, err := zone.Parse(origin, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if p := zone.Check(z); len(p) > 0 {
		t.Fatalf("zone fails its checks: %v", p)
	}
	a, err := authority.New(origin, z.Records)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// records parses src into records for apply.
func records(t testing.TB, src string) []dns.RR {
	t.Helper()
	z, err := zone.Parse(origin, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return z.Records
}

func key(rr dns.RR) string { return strings.ToLower(rr.String()) }

// apply applies an IXFR answer (RFC 1995 §4) to base, strictly: every
// step must start at the serial reached so far, delete only records
// present and add only records absent.
func apply(t testing.TB, base, answer []dns.RR) []dns.RR {
	t.Helper()
	set := map[string]dns.RR{}
	var soa *dns.SOA
	for _, rr := range base {
		if s, ok := rr.(*dns.SOA); ok {
			soa = s
			continue
		}
		set[key(rr)] = rr
	}
	isSOA := func(i int) bool { _, ok := answer[i].(*dns.SOA); return ok }
	if len(answer) < 2 || !isSOA(0) || !isSOA(len(answer)-1) {
		t.Fatalf("not framed by SOA records: %v", answer)
	}
	last := answer[0].(*dns.SOA)
	if key(answer[len(answer)-1]) != key(last) {
		t.Fatalf("last SOA %v differs from the first %v", answer[len(answer)-1], last)
	}
	i := 1
	for i < len(answer)-1 {
		from := answer[i].(*dns.SOA) // a step starts with an SOA
		if from.Serial != soa.Serial {
			t.Fatalf("step from serial %d, but at %d", from.Serial, soa.Serial)
		}
		for i++; i < len(answer) && !isSOA(i); i++ {
			if _, ok := set[key(answer[i])]; !ok {
				t.Errorf("deletes absent %v", answer[i])
			}
			delete(set, key(answer[i]))
		}
		if i >= len(answer)-1 {
			t.Fatalf("step from %d has no new SOA", from.Serial)
		}
		soa = answer[i].(*dns.SOA)
		for i++; i < len(answer)-1 && !isSOA(i); i++ {
			if _, ok := set[key(answer[i])]; ok {
				t.Errorf("adds present %v", answer[i])
			}
			set[key(answer[i])] = answer[i]
		}
	}
	if soa.Serial != last.Serial {
		t.Fatalf("steps end at %d, want %d", soa.Serial, last.Serial)
	}
	out := []dns.RR{soa}
	for _, rr := range set {
		out = append(out, rr)
	}
	return out
}

// same fails t unless got and want hold the same records.
func same(t testing.TB, got, want []dns.RR) {
	t.Helper()
	keys := func(rrs []dns.RR) []string {
		var out []string
		for _, rr := range rrs {
			out = append(out, key(rr))
		}
		slices.Sort(out)
		return out
	}
	if g, w := keys(got), keys(want); !slices.Equal(g, w) {
		t.Errorf("records differ:\ngot  %s\nwant %s", strings.Join(g, "\n     "), strings.Join(w, "\n     "))
	}
}

// counting counts the file reads through its snapshots (the parses) and
// the history reads.
type counting struct {
	kv.Store
	gets, histories atomic.Int64
}

func (c *counting) History(ctx context.Context, key string, limit int) ([]kv.Revision, error) {
	c.histories.Add(1)
	return c.Store.History(ctx, key, limit)
}

func (c *counting) At(ctx context.Context, v string) (kv.Snapshot, error) {
	snap, err := c.Store.At(ctx, v)
	if err != nil {
		return nil, err
	}
	return countingSnap{snap, &c.gets}, nil
}

type countingSnap struct {
	kv.Snapshot
	gets *atomic.Int64
}

func (c countingSnap) Get(ctx context.Context, key string) ([]byte, error) {
	c.gets.Add(1)
	return c.Snapshot.Get(ctx, key)
}
