package primary_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/primary"
	"github.com/quercus-dev/quercus/dns/primary/primarytest"
	"github.com/quercus-dev/quercus/internal/peer"
	"github.com/quercus-dev/quercus/kv"
	kvgit "github.com/quercus-dev/quercus/kv/git"
)

// racing wraps a store so that, the first time a batch runs, another
// writer pushes to the remote first: the batch's push is then rejected
// and it must run again on the new head.
type racing struct {
	kv.Store
	once  sync.Once
	rival func()
}

func (r *racing) Batch(ctx context.Context, c kv.Commit, fn func(kv.Txn) error) (string, error) {
	return r.Store.Batch(ctx, c, func(tx kv.Txn) error {
		r.once.Do(r.rival)
		return fn(tx)
	})
}

// TestUpdateRechecksPrerequisitesAfterRace: an update whose prerequisite
// held when it was read, but not on the head someone else pushed before
// us, is refused, and nothing of it is committed.
func TestUpdateRechecksPrerequisitesAfterRace(t *testing.T) {
	peer.Require(t, "git")
	remote, key, err := primary.Demo(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	open := func() *kvgit.Store {
		s, err := kvgit.Open(ctx, kvgit.Config{Remote: remote, Timeout: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	mine, theirs := open(), open()
	store := &racing{Store: mine, rival: func() {
		// Someone deletes the www record our update's prerequisite needs.
		_, err := theirs.Batch(ctx, kv.Commit{Message: "rival: drop www"}, func(tx kv.Txn) error {
			src, err := tx.Get("example.com")
			if err != nil {
				return err
			}
			out := strings.Replace(string(src), "www     IN CNAME example.com.\n", "", 1)
			out = strings.Replace(out, "2026112201 ; serial", "2026112202 ; serial", 1)
			return tx.Put("example.com", []byte(out))
		})
		if err != nil {
			t.Errorf("rival push: %v", err)
		}
	}}
	p, err := primary.New(ctx, primary.Config{Store: store, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	addr := primarytest.Serve(t, p)

	// "www exists as a CNAME" held when the primary last read the head.
	m := new(dns.Msg)
	m.SetUpdate("example.com.")
	cname, _ := dns.NewRR("www.example.com. 0 CNAME example.com.")
	m.RRsetUsed([]dns.RR{cname})
	add, _ := dns.NewRR("www2.example.com. 300 A 192.0.2.9")
	m.Insert([]dns.RR{add})
	r := exchangeSigned(t, addr, key, m)
	if r.Rcode != dns.RcodeNXRrset {
		t.Errorf("rcode %s, want NXRRSET: the prerequisite fails on the new head", dns.RcodeToString[r.Rcode])
	}
	theirs.Refresh(ctx)
	if src, _ := theirs.Get(ctx, "example.com"); strings.Contains(string(src), "www2") {
		t.Error("the refused update was committed")
	}
	hist, _ := theirs.History(ctx, "example.com", 0)
	if len(hist) != 2 || !strings.HasPrefix(hist[0].Message, "rival") {
		t.Errorf("history %+v, want the demo commit and the rival's", hist)
	}
}
