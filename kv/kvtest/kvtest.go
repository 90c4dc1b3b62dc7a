package kvtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quercus-dev/quercus/kv"
)

// Append returns a batch function that appends line to the file at key,
// creating it if need be: the writes the concurrency tests race.
func Append(key, line string) func(kv.Txn) error {
	return func(tx kv.Txn) error {
		old, err := tx.Get(key)
		if err != nil && !errors.Is(err, kv.ErrNotFound) {
			return err
		}
		return tx.Put(key, append(old, line...))
	}
}

// Opener opens one more Store instance on a shared backend (the same git
// remote, say). Instances opened later see what earlier ones wrote.
type Opener func(t *testing.T) kv.Store

// Run runs the conformance suite. newBackend creates an empty backend for
// each subtest and returns its Opener.
func Run(t *testing.T, newBackend func(t *testing.T) Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Opener)
	}{
		{"Empty", testEmpty},
		{"PutGetList", testPutGetList},
		{"Keys", testKeys},
		{"Shape", testShape},
		{"TxnReadsOwnWrites", testTxn},
		{"FailedBatchChangesNothing", testFailedBatch},
		{"NoopBatch", testNoop},
		{"Digests", testDigests},
		{"Versions", testVersions},
		{"ChangesAndHistory", testChangesHistory},
		{"WalkHistory", testWalkHistory},
		{"SecondInstance", testSecondInstance},
		{"ConcurrentWriters", testConcurrent},
		{"Split", testSplit},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newBackend(t)) })
	}
}

var ctx = context.Background()

func who(name string) kv.Commit {
	return kv.Commit{
		Author:  kv.Signature{Name: name, Email: name + "@example.org", Time: time.Unix(1700000000, 0).UTC()},
		Message: "test: " + name,
	}
}

// put writes files (key, content pairs) in one batch.
func put(t *testing.T, s kv.Store, files ...string) string {
	t.Helper()
	v, err := s.Batch(ctx, who("put"), func(tx kv.Txn) error {
		for i := 0; i < len(files); i += 2 {
			if err := tx.Put(files[i], []byte(files[i+1])); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Batch put %v: %v", files, err)
	}
	return v
}

func mustGet(t *testing.T, s kv.Snapshot, key, want string) {
	t.Helper()
	got, err := s.Get(ctx, key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if string(got) != want {
		t.Fatalf("Get(%q) = %q, want %q", key, got, want)
	}
}

func keys(es []kv.Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Key)
	}
	return out
}

func testEmpty(t *testing.T, open Opener) {
	s := open(t)
	if v := s.Version(); v != "" {
		t.Errorf("Version of an empty store = %q, want \"\"", v)
	}
	if _, err := s.Get(ctx, "a"); !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("Get on empty store: %v, want ErrNotFound", err)
	}
	if es, err := s.List(ctx, ""); err != nil || len(es) != 0 {
		t.Errorf("List on empty store = %v, %v; want nothing", es, err)
	}
	if _, err := s.Digest(ctx, "a"); !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("Digest on empty store: %v, want ErrNotFound", err)
	}
}

func testPutGetList(t *testing.T, open Opener) {
	s := open(t)
	binary := string([]byte{0, 1, 2, 0xff, '\n', 0})
	put(t, s, "b", "bee\n", "a/x.ics", "ics", "a/deep/y", "why", "empty", "", "bin", binary)
	mustGet(t, s, "b", "bee\n")
	mustGet(t, s, "a/deep/y", "why")
	mustGet(t, s, "empty", "")
	mustGet(t, s, "bin", binary)
	if _, err := s.Get(ctx, "a"); !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("Get of a folder: %v, want ErrNotFound", err)
	}
	all, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := keys(all), []string{"a/deep/y", "a/x.ics", "b", "bin", "empty"}; !slices.Equal(got, want) {
		t.Errorf("List(\"\") = %v, want %v", got, want)
	}
	for _, e := range all {
		if e.Key == "b" && (e.Size != 4 || e.Digest == "") {
			t.Errorf("entry b = %+v, want size 4 and a digest", e)
		}
	}
	sub, _ := s.List(ctx, "a")
	if got, want := keys(sub), []string{"a/deep/y", "a/x.ics"}; !slices.Equal(got, want) {
		t.Errorf("List(a) = %v, want %v", got, want)
	}
	if es, err := s.List(ctx, "nope"); err != nil || len(es) != 0 {
		t.Errorf("List(missing) = %v, %v; want nothing", es, err)
	}
	// A prefix that is a file name's prefix but not a folder lists nothing.
	if es, _ := s.List(ctx, "bi"); len(es) != 0 {
		t.Errorf("List(bi) = %v, want nothing", keys(es))
	}
}

func testKeys(t *testing.T, open Opener) {
	s := open(t)
	for _, key := range []string{"", "/a", "a/", "a//b", "./a", "a/../b", "..", ".git/config", "a/.GIT/x", "a\x00b", `a\b`} {
		_, err := s.Batch(ctx, who("bad"), func(tx kv.Txn) error { return tx.Put(key, []byte("x")) })
		if !errors.Is(err, kv.ErrInvalidKey) {
			t.Errorf("Put(%q): %v, want ErrInvalidKey", key, err)
		}
		if _, err := s.Get(ctx, key); !errors.Is(err, kv.ErrInvalidKey) {
			t.Errorf("Get(%q): %v, want ErrInvalidKey", key, err)
		}
	}
	if s.Version() != "" {
		t.Errorf("rejected keys created version %q", s.Version())
	}
	// Names that are unusual but valid survive the round trip.
	for _, key := range []string{"_keys", "example.com", "a b/ü.ics", "x/.hidden", "*.wild"} {
		put(t, s, key, key)
		mustGet(t, s, key, key)
	}
}

func testShape(t *testing.T, open Opener) {
	s := open(t)
	put(t, s, "f", "file", "d/x", "x")
	for _, key := range []string{"f/sub", "d"} {
		_, err := s.Batch(ctx, who("shape"), func(tx kv.Txn) error { return tx.Put(key, []byte("x")) })
		if !errors.Is(err, kv.ErrInvalidKey) {
			t.Errorf("Put(%q) across a file/folder: %v, want ErrInvalidKey", key, err)
		}
	}
	// Replacing a file by a folder in one batch is fine.
	v := put(t, s, "g", "g")
	_, err := s.Batch(ctx, who("reshape"), func(tx kv.Txn) error {
		if err := tx.Delete("g"); err != nil {
			return err
		}
		return tx.Put("g/inner", []byte("in"))
	})
	if err != nil {
		t.Fatalf("delete file then create folder: %v", err)
	}
	mustGet(t, s, "g/inner", "in")
	old, _ := s.At(ctx, v)
	mustGet(t, old, "g", "g")
	// And back: the folder emptied and a file put in its place.
	_, err = s.Batch(ctx, who("reshape"), func(tx kv.Txn) error {
		if err := tx.Delete("g/inner"); err != nil {
			return err
		}
		return tx.Put("g", []byte("file again"))
	})
	if err != nil {
		t.Fatalf("delete folder then create file: %v", err)
	}
	mustGet(t, s, "g", "file again")
}

func testTxn(t *testing.T, open Opener) {
	s := open(t)
	put(t, s, "a", "1", "dir/b", "2")
	_, err := s.Batch(ctx, who("txn"), func(tx kv.Txn) error {
		if err := tx.Put("a", []byte("changed")); err != nil {
			return err
		}
		if b, err := tx.Get("a"); err != nil || string(b) != "changed" {
			return fmt.Errorf("get after put = %q, %v", b, err)
		}
		if err := tx.Delete("dir/b"); err != nil {
			return err
		}
		if _, err := tx.Get("dir/b"); !errors.Is(err, kv.ErrNotFound) {
			return fmt.Errorf("get after delete: %v", err)
		}
		if err := tx.Delete("missing"); !errors.Is(err, kv.ErrNotFound) {
			return fmt.Errorf("Delete(missing): %v, want ErrNotFound", err)
		}
		if err := tx.Put("dir/c", []byte("3")); err != nil {
			return err
		}
		es, err := tx.List("")
		if err != nil {
			return err
		}
		if got, want := keys(es), []string{"a", "dir/c"}; !slices.Equal(got, want) {
			return fmt.Errorf("txn List = %v, want %v", got, want)
		}
		// The store itself still shows the old head while fn runs.
		if b, _ := s.Get(ctx, "a"); string(b) != "1" {
			return fmt.Errorf("store shows uncommitted write %q", b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	mustGet(t, s, "a", "changed")
	mustGet(t, s, "dir/c", "3")
	if _, err := s.Get(ctx, "dir/b"); !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("deleted key still there: %v", err)
	}
}

func testFailedBatch(t *testing.T, open Opener) {
	s := open(t)
	v := put(t, s, "a", "1")
	boom := errors.New("boom")
	_, err := s.Batch(ctx, who("fail"), func(tx kv.Txn) error {
		tx.Put("a", []byte("2"))
		tx.Put("b", []byte("new"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Batch returned %v, want the function's error", err)
	}
	if s.Version() != v {
		t.Errorf("failed batch moved version %q -> %q", v, s.Version())
	}
	mustGet(t, s, "a", "1")
	if _, err := s.Get(ctx, "b"); !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("failed batch left b behind: %v", err)
	}
}

func testNoop(t *testing.T, open Opener) {
	s := open(t)
	v := put(t, s, "a", "same")
	v2, err := s.Batch(ctx, who("noop"), func(tx kv.Txn) error { return tx.Put("a", []byte("same")) })
	if err != nil || v2 != v {
		t.Errorf("rewriting the same content = %q, %v; want %q (no new version)", v2, err, v)
	}
	hist, _ := s.History(ctx, "a", 0)
	if len(hist) != 1 {
		t.Errorf("History after a no-op batch has %d entries, want 1", len(hist))
	}
}

func testDigests(t *testing.T, open Opener) {
	s := open(t)
	put(t, s, "x/a", "same", "y/a", "same", "z/a", "other")
	d := func(key string) string {
		t.Helper()
		v, err := s.Digest(ctx, key)
		if err != nil {
			t.Fatalf("Digest(%q): %v", key, err)
		}
		return v
	}
	if d("x/a") != d("y/a") || d("x/a") == d("z/a") {
		t.Error("file digests must be equal exactly when contents are")
	}
	if d("x") != d("y") || d("x") == d("z") {
		t.Error("folder digests must be equal exactly when contents are")
	}
	root, x, z := d(""), d("x"), d("z")
	put(t, s, "x/a", "changed")
	if d("x") == x || d("") == root {
		t.Error("folder and root digest must change when a file below changes")
	}
	if d("z") != z {
		t.Error("an untouched folder's digest must not change")
	}
	es, _ := s.List(ctx, "x")
	if len(es) != 1 || es[0].Digest != d("x/a") {
		t.Errorf("List digest %v differs from Digest %q", es, d("x/a"))
	}
}

func testVersions(t *testing.T, open Opener) {
	s := open(t)
	v1 := put(t, s, "a", "1")
	v2 := put(t, s, "a", "2", "b", "b")
	if v1 == "" || v2 == "" || v1 == v2 || s.Version() != v2 {
		t.Fatalf("versions %q, %q, head %q", v1, v2, s.Version())
	}
	old, err := s.At(ctx, v1)
	if err != nil {
		t.Fatal(err)
	}
	if old.Version() != v1 {
		t.Errorf("At(%q).Version() = %q", v1, old.Version())
	}
	mustGet(t, old, "a", "1")
	if _, err := old.Get(ctx, "b"); !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("old snapshot sees later file: %v", err)
	}
	// A snapshot stays put while the head moves.
	head, _ := s.At(ctx, s.Version())
	put(t, s, "a", "3")
	mustGet(t, head, "a", "2")
	if _, err := s.At(ctx, "0123456789abcdef0123456789abcdef01234567"); !errors.Is(err, kv.ErrUnknownVersion) {
		t.Errorf("At(unknown): %v, want ErrUnknownVersion", err)
	}
	if _, err := s.At(ctx, "not a version"); !errors.Is(err, kv.ErrUnknownVersion) {
		t.Errorf("At(garbage): %v, want ErrUnknownVersion", err)
	}
}

func testChangesHistory(t *testing.T, open Opener) {
	s := open(t)
	v1 := put(t, s, "keep", "k", "mod", "1", "del", "d")
	put(t, s, "other", "o")
	_, err := s.Batch(ctx, kv.Commit{Author: kv.Signature{Name: "Ann", Email: "ann@example.org"}, Message: "edit mod\n\nbody"}, func(tx kv.Txn) error {
		tx.Put("mod", []byte("2"))
		tx.Put("dir/new", []byte("n"))
		return tx.Delete("del")
	})
	if err != nil {
		t.Fatal(err)
	}
	v3 := s.Version()
	ch, err := s.Changes(ctx, v1, v3)
	if err != nil {
		t.Fatal(err)
	}
	want := []kv.Change{{Key: "del", Op: kv.Deleted}, {Key: "dir/new", Op: kv.Added}, {Key: "mod", Op: kv.Modified}, {Key: "other", Op: kv.Added}}
	if !slices.Equal(ch, want) {
		t.Errorf("Changes = %v, want %v", ch, want)
	}
	ch, _ = s.Changes(ctx, "", v1)
	if len(ch) != 3 || ch[0].Op != kv.Added {
		t.Errorf("Changes from empty = %v, want three additions", ch)
	}
	if _, err := s.Changes(ctx, "nope", v3); !errors.Is(err, kv.ErrUnknownVersion) {
		t.Errorf("Changes(unknown): %v", err)
	}
	hist, err := s.History(ctx, "mod", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0].Version != v3 || hist[1].Version != v1 {
		t.Fatalf("History(mod) = %+v, want [%s %s]", hist, v3, v1)
	}
	if a := hist[0].Author; a.Name != "Ann" || a.Email != "ann@example.org" || a.Time.IsZero() {
		t.Errorf("author = %+v", a)
	}
	if !strings.HasPrefix(hist[0].Message, "edit mod") {
		t.Errorf("message = %q", hist[0].Message)
	}
	if h, _ := s.History(ctx, "mod", 1); len(h) != 1 {
		t.Errorf("History limit 1 returned %d", len(h))
	}
	if h, _ := s.History(ctx, "del", 0); len(h) != 2 {
		t.Errorf("History of a deleted file = %d revisions, want 2 (added, deleted)", len(h))
	}
}

func testSecondInstance(t *testing.T, open Opener) {
	a := open(t)
	put(t, a, "a", "from a")
	b := open(t)
	mustGet(t, b, "a", "from a")
	put(t, a, "a", "again")
	if _, err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	mustGet(t, b, "a", "again")
	if moved, err := b.Refresh(ctx); err != nil || moved {
		t.Errorf("second Refresh = %v, %v; want no move", moved, err)
	}
	// b writes without refreshing after a moved on: the batch must land on
	// top of a's change, not replace it.
	put(t, a, "x", "from a")
	put(t, b, "y", "from b")
	a.Refresh(ctx)
	for _, s := range []kv.Store{a, b} {
		mustGet(t, s, "x", "from a")
		mustGet(t, s, "y", "from b")
	}
}

// testConcurrent has writers on two instances append to one shared file;
// every acknowledged append must be there exactly once.
func testConcurrent(t *testing.T, open Opener) {
	stores := []kv.Store{open(t), open(t)}
	const writers, each = 4, 5
	var wg sync.WaitGroup
	var mu sync.Mutex
	var acked []string
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := stores[w%len(stores)]
			for i := range each {
				line := fmt.Sprintf("w%d-%d\n", w, i)
				_, err := s.Batch(ctx, who(fmt.Sprint("w", w)), Append("log", line))
				if err == nil {
					mu.Lock()
					acked = append(acked, line)
					mu.Unlock()
				} else if !errors.Is(err, kv.ErrConflict) {
					t.Errorf("Batch: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	if len(acked) < writers*each/2 {
		t.Errorf("only %d of %d concurrent batches succeeded", len(acked), writers*each)
	}
	s := open(t)
	log, err := s.Get(ctx, "log")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range acked {
		if n := bytes.Count(log, []byte(line)); n != 1 {
			t.Errorf("acknowledged %q appears %d times", strings.TrimSpace(line), n)
		}
	}
	if n := bytes.Count(log, []byte("\n")); n != len(acked) {
		t.Errorf("log holds %d lines, %d were acknowledged", n, len(acked))
	}
}

// testSplit: one batch, several commits by several authors, in order.
func testSplit(t *testing.T, open Opener) {
	s := open(t)
	put(t, s, "log", "0\n")
	_, err := s.Batch(ctx, who("carol"), func(tx kv.Txn) error {
		for _, name := range []string{"ann", "bob"} {
			old, _ := tx.Get("log")
			if err := tx.Put("log", append(old, name+"\n"...)); err != nil {
				return err
			}
			tx.Split(who(name))
		}
		tx.Split(who("nobody")) // nothing written since: no commit
		old, _ := tx.Get("log")
		return tx.Put("log", append(old, "carol\n"...))
	})
	if err != nil {
		t.Fatal(err)
	}
	mustGet(t, s, "log", "0\nann\nbob\ncarol\n")
	hist, err := s.History(ctx, "log", 0)
	if err != nil {
		t.Fatal(err)
	}
	var authors []string
	for _, r := range hist {
		authors = append(authors, r.Author.Name)
	}
	if want := []string{"carol", "bob", "ann", "put"}; !slices.Equal(authors, want) {
		t.Errorf("history authors %v, want %v", authors, want)
	}
	// Each commit holds its own step.
	for i, want := range []string{"0\nann\nbob\n", "0\nann\n"} {
		snap, err := s.At(ctx, hist[i+1].Version)
		if err != nil {
			t.Fatal(err)
		}
		mustGet(t, snap, "log", want)
	}
	// Another instance sees all of them.
	other := open(t)
	mustGet(t, other, "log", "0\nann\nbob\ncarol\n")
}
