package git_test

// A remote that goes away in the middle of a push. The contract: nothing
// acknowledged is lost, nothing is applied twice, and a batch that fails
// leaves the view as it was.

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/quercus-dev/quercus/internal/peer"
	"github.com/quercus-dev/quercus/kv"
	kvgit "github.com/quercus-dev/quercus/kv/git"
	"github.com/quercus-dev/quercus/kv/kvtest"
)

// inOrder gives the next pushes the faults fs, then lets pushes pass.
func inOrder(fs ...fault) func(*http.Request) fault {
	return func(*http.Request) fault {
		if len(fs) == 0 {
			return pass
		}
		f := fs[0]
		fs = fs[1:]
		return f
	}
}

// logOf reads the file key as a fresh instance sees it, straight from the
// bare repository so that no fault injection is in the way.
func logOf(t *testing.T, bare, key string) []byte {
	t.Helper()
	b, err := openWith(t, bare, nil).Get(ctx, key)
	if err != nil && !errors.Is(err, kv.ErrNotFound) {
		t.Fatal(err)
	}
	return b
}

// subjects lists the remote's commit subjects on main, newest first.
func subjects(t *testing.T, bare string) []string {
	t.Helper()
	return strings.Fields(peer.Run(t, bare, "git", "log", "--format=%s", "main"))
}

func TestMidPush(t *testing.T) {
	tests := []struct {
		name       string
		fault      fault
		goneAfter  bool // the remote is unreachable once git applied the push
		wantAcked  bool // Batch succeeds
		wantLanded bool // the change is in the remote afterwards
	}{
		// The connection dies before git sees the push: the batch fails
		// and nothing changed anywhere.
		{name: "Refused", fault: refuse},
		// git applies the push but the answer is lost: the store must find
		// its commit in the remote and report success.
		{name: "AnswerLost", fault: dropAnswer, wantAcked: true, wantLanded: true},
		// As above, but the store cannot look: it must report failure (it
		// cannot know), keep its view, and find the change on Refresh.
		// Landed but not acknowledged is allowed; the reverse never is.
		{name: "AnswerLostRemoteGone", fault: dropAnswer, goneAfter: true, wantLanded: true},
	}
	g := startGitHTTP(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bare, remote := g.newRepo(t, "midpush-"+strings.ToLower(tc.name))
			s := openWith(t, remote, g.auth(t, remote))
			v1, err := s.Batch(ctx, commit("t", "first"), kvtest.Append("log", "first\n"))
			if err != nil {
				t.Fatal(err)
			}

			var onLanded func()
			if tc.goneAfter {
				onLanded = func() { g.setDown(true) }
			}
			before := g.count(tc.fault)
			g.setFaults(inOrder(tc.fault), onLanded)
			defer g.setFaults(nil, nil)
			v2, err := s.Batch(ctx, commit("t", "second"), kvtest.Append("log", "second\n"))
			g.setDown(false)
			if got := g.count(tc.fault) - before; got != 1 {
				t.Fatalf("%d pushes met fault %v, want 1", got, tc.fault)
			}

			if tc.wantAcked {
				if err != nil {
					t.Fatalf("Batch: %v, want success", err)
				}
				if s.Version() != v2 || headOf(t, bare) != v2 {
					t.Errorf("view %s, remote %s; want both at the acknowledged %s", s.Version(), headOf(t, bare), v2)
				}
			} else {
				if !errors.Is(err, kv.ErrUnavailable) {
					t.Fatalf("Batch: %v, want ErrUnavailable", err)
				}
				if s.Version() != v1 {
					t.Errorf("view moved to %s after a failed batch, want %s", s.Version(), v1)
				}
				if b, _ := s.Get(ctx, "log"); string(b) != "first\n" {
					t.Errorf("view shows %q after a failed batch", b)
				}
			}

			wantHist, wantLog := []string{"first"}, "first\n"
			if tc.wantLanded {
				wantHist, wantLog = []string{"second", "first"}, "first\nsecond\n"
			}
			if got := subjects(t, bare); !slices.Equal(got, wantHist) {
				t.Errorf("remote history %v, want %v", got, wantHist)
			}
			// Once the remote is back, the store catches up with it.
			if _, err := s.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			if s.Version() != headOf(t, bare) {
				t.Errorf("after Refresh view %s, remote %s", s.Version(), headOf(t, bare))
			}
			if b, _ := s.Get(ctx, "log"); string(b) != wantLog {
				t.Errorf("after Refresh log = %q, want %q", b, wantLog)
			}
		})
	}
}

// TestMidPushAnswerLostThenOvertaken: our push lands, its answer is lost,
// and before we look another writer builds on our commit. Our change is in
// the remote (an ancestor of its head, no longer the head itself), so the
// batch must report success and must not run again on top of it.
func TestMidPushAnswerLostThenOvertaken(t *testing.T) {
	g := startGitHTTP(t)
	bare, remote := g.newRepo(t, "overtaken")
	auth := g.auth(t, remote)
	a, b := openWith(t, remote, auth), openWith(t, remote, auth)
	if _, err := a.Batch(ctx, commit("a", "base"), kvtest.Append("log", "base\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}

	g.setFaults(inOrder(dropAnswer), func() {
		// Runs in the server after git applied a's push, before a hears
		// anything: b (stale) is rejected, fetches a's commit, re-runs.
		if _, err := b.Batch(ctx, commit("b", "by-b"), kvtest.Append("log", "b\n")); err != nil {
			t.Errorf("b's batch: %v", err)
		}
	})
	v, err := a.Batch(ctx, commit("a", "by-a"), kvtest.Append("log", "a\n"))
	g.setFaults(nil, nil)
	if err != nil {
		t.Errorf("a's batch failed although its commit is in the remote: %v", err)
	}
	if got, want := lines(logOf(t, bare, "log")), []string{"base", "a", "b"}; !slices.Equal(got, want) {
		t.Errorf("remote log %q, want %q (a's change exactly once); history %v", got, want, subjects(t, bare))
	}
	if err == nil {
		peer.Run(t, bare, "git", "merge-base", "--is-ancestor", v, "main")
		if a.Version() != headOf(t, bare) {
			t.Errorf("a's view at %s, remote at %s", a.Version(), headOf(t, bare))
		}
	}
}

// lines splits a log file into its lines.
func lines(b []byte) []string {
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// TestMidPushStress: writers on two instances append unique lines to one
// file while the server breaks about 30% of pushes, half before git sees
// them, half after git applied them; after a third of the latter it also
// hangs up on the next request, which is often the writer's own fetch to
// learn whether its push landed. Every acknowledged line must be in the
// remote exactly once; no line may be there twice; a line may be there
// unacknowledged only if its batch failed.
func TestMidPushStress(t *testing.T) {
	g := startGitHTTP(t)
	bare, remote := g.newRepo(t, "stress")
	auth := g.auth(t, remote)
	stores := []*kvgit.Store{openWith(t, remote, auth), openWith(t, remote, auth)}

	rng := rand.New(rand.NewPCG(20240601, 7)) // decide runs under g.mu
	rng2 := lockedRand{r: rand.New(rand.NewPCG(20240601, 8))}
	g.setFaults(func(*http.Request) fault {
		switch n := rng.IntN(100); {
		case n < 15:
			return refuse
		case n < 30:
			return dropAnswer
		}
		return pass
	}, func() {
		if rng2.IntN(3) == 0 {
			g.hangUpNext(1)
		}
	})

	const writers, each = 4, 6
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		acked   = map[string]bool{}
		failed  = map[string]error{}
		byError = map[string]int{}
	)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := stores[w%len(stores)]
			for i := range each {
				line := fmt.Sprintf("w%d-%d\n", w, i)
				_, err := s.Batch(ctx, commit(fmt.Sprint("w", w), strings.TrimSpace(line)), kvtest.Append("log", line))
				mu.Lock()
				switch {
				case err == nil:
					acked[line] = true
				case errors.Is(err, kv.ErrUnavailable):
					failed[line], byError["unavailable"] = err, byError["unavailable"]+1
				case errors.Is(err, kv.ErrConflict):
					failed[line], byError["conflict"] = err, byError["conflict"]+1
				default:
					t.Errorf("Batch %q: %v, want success, ErrUnavailable or ErrConflict", line, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	g.setFaults(nil, nil)
	if g.count(refuse) == 0 || g.count(dropAnswer) == 0 {
		t.Errorf("faults injected: refused %d, answers dropped %d; want both", g.count(refuse), g.count(dropAnswer))
	}

	counts := map[string]int{}
	for _, l := range lines(logOf(t, bare, "log")) {
		if l != "" {
			counts[l+"\n"]++
		}
	}
	for line := range acked {
		if counts[line] != 1 {
			t.Errorf("acknowledged %q is in the remote %d times", strings.TrimSpace(line), counts[line])
		}
	}
	landedUnacked := 0
	for line, n := range counts {
		switch {
		case n > 1:
			t.Errorf("%q is in the remote %d times", strings.TrimSpace(line), n)
		case acked[line]:
		case failed[line] != nil:
			landedUnacked++
			t.Logf("%q landed although its batch failed: %v", strings.TrimSpace(line), failed[line])
		default:
			t.Errorf("%q is in the remote but was never written", strings.TrimSpace(line))
		}
	}
	if len(acked) == 0 {
		t.Error("no batch succeeded")
	}
	// Both instances converge on what the remote holds.
	for i, s := range stores {
		if _, err := s.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if s.Version() != headOf(t, bare) {
			t.Errorf("store %d at %s, remote at %s", i, s.Version(), headOf(t, bare))
		}
	}
	peer.Run(t, bare, "git", "fsck", "--strict")
	t.Logf("%d batches: %d acknowledged, %d failed %v, %d of those landed; pushes: %d passed, %d refused, %d answers dropped",
		writers*each, len(acked), len(failed), byError, landedUnacked, g.count(pass), g.count(refuse), g.count(dropAnswer))
}

// lockedRand is a seeded source for the server's handlers, which run
// concurrently.
type lockedRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

func (l *lockedRand) IntN(n int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.IntN(n)
}
