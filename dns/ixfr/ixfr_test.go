package ixfr_test

import (
	"context"
	"errors"
	"testing"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/ixfr"
	"github.com/quercus-dev/quercus/dns/server"
	"github.com/quercus-dev/quercus/kv"
)

var _ server.IXFRSource = (*ixfr.Source)(nil)

// A zone edited over several commits.
var (
	v1 = text(1, "www A 192.0.2.1\nmail A 192.0.2.2\n@ MX 10 mail\n")
	v2 = text(2, "www A 192.0.2.1\nmail A 192.0.2.2\n@ MX 10 mail\nftp A 192.0.2.3\n")   // added
	v3 = text(3, "www A 192.0.2.1\nftp A 192.0.2.3\n")                                   // removed
	v4 = text(4, "www 600 A 192.0.2.1\nftp A 192.0.2.3\n")                               // TTL changed
	c4 = v4 + "; a comment, and no new serial\n"                                         // same records
	b5 = text(5, "www A not-an-address\n")                                               // does not parse
	v5 = text(5, "www 600 A 192.0.2.1\nftp A 192.0.2.3\ntxt TXT hello\n")                // the fix
	b6 = text(6, "www 600 A 192.0.2.1\nwww CNAME ftp\nftp A 192.0.2.3\ntxt TXT hello\n") // fails zone.Check
	v7 = text(7, "www 600 A 192.0.2.9\nwww 600 AAAA 2001:db8::9\nftp A 192.0.2.3\ntxt TXT hello\n")
	v8 = text(8, "www 600 A 192.0.2.9\nftp A 192.0.2.3\n")
)

func TestAnswer(t *testing.T) {
	tests := []struct {
		name     string
		commits  []string
		served   string // the version served; "" for the last commit
		maxSteps int
		serial   uint32
		base     string // the client's version, or
		err      error  // why there is no incremental answer
	}{
		{name: "from 1", commits: []string{v1, v2, v3, v4, c4, b5, v5, b6, v7}, serial: 1, base: v1},
		{name: "from 2", commits: []string{v1, v2, v3, v4, c4, b5, v5, b6, v7}, serial: 2, base: v2},
		{name: "from 3", commits: []string{v1, v2, v3, v4, c4, b5, v5, b6, v7}, serial: 3, base: v3},
		{name: "from 4, two versions", commits: []string{v1, v2, v3, v4, c4, b5, v5, b6, v7}, serial: 4, base: c4},
		{name: "from 5, after a bad version", commits: []string{v1, v2, v3, v4, c4, b5, v5, b6, v7}, serial: 5, base: v5},
		{name: "6 was rejected", commits: []string{v1, v2, v3, v4, c4, b5, v5, b6, v7}, serial: 6, err: ixfr.ErrUnknownSerial},
		{name: "never existed", commits: []string{v1, v2, v3, v4, c4, b5, v5, b6, v7}, serial: 0, err: ixfr.ErrUnknownSerial},
		{name: "current", commits: []string{v1, v2, v3, v4, c4, b5, v5, b6, v7}, serial: 7, err: ixfr.ErrNotBehind},
		{name: "newer", commits: []string{v1, v2, v3, v4, c4, b5, v5, b6, v7}, serial: 8, err: ixfr.ErrNotBehind},

		// The head is not served (rejected by the primary, or not loaded
		// yet): the answer leads to the version served.
		{name: "not head, from 2", commits: []string{v1, v2, v3, v4, v5, v7, v8}, served: v7, serial: 2, base: v2},
		{name: "not head, from 5", commits: []string{v1, v2, v3, v4, v5, v7, v8}, served: v7, serial: 5, base: v5},
		{name: "not head, from head", commits: []string{v1, v2, v3, v4, v5, v7, v8}, served: v7, serial: 8, err: ixfr.ErrNotBehind},
		{name: "head bad", commits: []string{v1, v2, v3, b5}, served: v3, serial: 1, base: v1},

		{name: "within max steps", commits: []string{v1, v2, v3, v4, v5, v7}, maxSteps: 3, serial: 3, base: v3},
		{name: "beyond max steps", commits: []string{v1, v2, v3, v4, v5, v7}, maxSteps: 3, serial: 2, err: ixfr.ErrTooOld},

		// A change committed without a new serial: a client at 3 may
		// hold either version.
		{name: "ambiguous", commits: []string{v1, v2, v3, text(3, "www A 192.0.2.7\n"), v4}, serial: 3, err: ixfr.ErrAmbiguous},
		{name: "before the ambiguous", commits: []string{v1, v2, v3, text(3, "www A 192.0.2.7\n"), v4}, serial: 2, base: v2},

		// Serial reset from 3 down to 1, then up: what came before the
		// reset is not reached by increments.
		{name: "after a reset", commits: []string{text(2, ""), text(3, ""), v1, v2, v4}, serial: 1, base: v1},
		{name: "before a reset", commits: []string{text(2, "a A 192.0.2.4\n"), text(3, ""), v1, v4}, serial: 2, err: ixfr.ErrUnknownSerial},

		// Deleted and created again: another life of the zone.
		{name: "after a deletion", commits: []string{v1, v2, deleted, v3, v4}, serial: 3, base: v3},
		{name: "before a deletion", commits: []string{v1, v2, deleted, v3, v4}, serial: 2, err: ixfr.ErrUnknownSerial},
		{name: "served zone deleted", commits: []string{v1, v2, deleted}, served: v2, serial: 1, err: ixfr.ErrUnknownSerial},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := history(t, tt.commits...)
			src := &ixfr.Source{Store: store, MaxSteps: tt.maxSteps}
			cur := tt.served
			if cur == "" {
				cur = tt.commits[len(tt.commits)-1]
			}
			z := served(t, cur)
			got, err := src.Answer(context.Background(), z, tt.serial)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("Answer from %d: err %v, want %v", tt.serial, err, tt.err)
				}
				if rrs, ok := src.IXFR(z, tt.serial); ok || rrs != nil {
					t.Errorf("IXFR from %d: ok, want the whole zone", tt.serial)
				}
				return
			}
			if err != nil {
				t.Fatalf("Answer from %d: %v", tt.serial, err)
			}
			same(t, apply(t, records(t, tt.base), got), z.Records())
			if rrs, ok := src.IXFR(z, tt.serial); !ok || len(rrs) != len(got) {
				t.Errorf("IXFR from %d: %d records, ok %v; Answer gave %d", tt.serial, len(rrs), ok, len(got))
			}
		})
	}
}

// The answer is one condensed step, with no SOA among the changes.
func TestAnswerCondensed(t *testing.T) {
	src := &ixfr.Source{Store: history(t, v1, v2, v3, v4)}
	z := served(t, v4)
	got, err := src.Answer(context.Background(), z, 1)
	if err != nil {
		t.Fatal(err)
	}
	var serials []uint32
	for _, rr := range got {
		if soa, ok := rr.(*dns.SOA); ok {
			serials = append(serials, soa.Serial)
		}
	}
	if want := []uint32{4, 1, 4, 4}; !equal(serials, want) {
		t.Errorf("SOA serials %v, want %v", serials, want)
	}
	// v1 → v4: mail A, MX and www A (TTL) removed; www A (TTL) and ftp
	// A added.
	if len(got) != 4+3+2 {
		t.Errorf("%d records, want 9:\n%v", len(got), got)
	}
}

func equal(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Each version is parsed once, and again only after the cache dropped it.
func TestCache(t *testing.T) {
	store := &counting{Store: history(t, v1, v2, v3, v4, c4, b5, v5)}
	z := served(t, v5)
	src := &ixfr.Source{Store: store}
	if _, err := src.Answer(context.Background(), z, 1); err != nil {
		t.Fatal(err)
	}
	if n := store.gets.Load(); n != 7 {
		t.Errorf("first answer parsed %d versions, want 7", n)
	}
	for _, serial := range []uint32{1, 2, 3, 4} {
		if _, err := src.Answer(context.Background(), z, serial); err != nil {
			t.Fatal(err)
		}
	}
	if n := store.gets.Load(); n != 7 {
		t.Errorf("later answers parsed %d versions in all, want still 7", n)
	}
	if n := store.histories.Load(); n != 1 {
		t.Errorf("history read %d times at one head, want once", n)
	}

	// Room for one version at a time: every answer parses again the
	// five versions from 5 down to 3.
	small := &ixfr.Source{Store: store, CacheRecords: 8}
	for range 2 {
		store.gets.Store(0)
		if _, err := small.Answer(context.Background(), z, 4); err != nil {
			t.Fatal(err)
		}
		if n := store.gets.Load(); n != 5 {
			t.Errorf("answer with a small cache parsed %d versions, want 5", n)
		}
	}
}

// A file named in other case than the zone is found all the same.
func TestFileCase(t *testing.T) {
	store := history(t)
	for _, src := range []string{v1, v2} {
		_, err := store.Batch(context.Background(), kv.Commit{}, func(tx kv.Txn) error { return tx.Put("Example.COM", []byte(src)) })
		if err != nil {
			t.Fatal(err)
		}
	}
	src := &ixfr.Source{Store: store}
	z := served(t, v2)
	got, err := src.Answer(context.Background(), z, 1)
	if err != nil {
		t.Fatal(err)
	}
	same(t, apply(t, records(t, v1), got), z.Records())
}
