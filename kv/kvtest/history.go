package kvtest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/quercus-dev/quercus/kv"
)

// testWalkHistory: WalkHistory starts where it is told, stops at its
// bounds, says where it stopped, and a walk resumed there goes on as if
// it had never stopped.
func testWalkHistory(t *testing.T, open Opener) {
	s := open(t)
	// v[1]..v[9]: "a" is created at 1 and changed at 7, "gone" created
	// at 1 and deleted at 8; the others touch only "noise".
	v := []string{""}
	v = append(v, put(t, s, "a", "1", "gone", "g"))
	for i := range 5 {
		v = append(v, put(t, s, "noise", fmt.Sprint(i)))
	}
	v = append(v, put(t, s, "a", "2"))
	del, err := s.Batch(ctx, who("del"), func(tx kv.Txn) error { return tx.Delete("gone") })
	if err != nil {
		t.Fatal(err)
	}
	v = append(v, del, put(t, s, "noise", "last"))

	type rev struct {
		v  int // index in v
		op kv.Op
	}
	tests := []struct {
		name   string
		key    string
		opt    kv.HistoryOptions
		from   int // index in v of opt.From; 0: the head
		want   []rev
		walked int
		next   int // index in v of Next; 0: complete
	}{
		{"all", "a", kv.HistoryOptions{}, 0, []rev{{7, kv.Modified}, {1, kv.Added}}, 9, 0},
		{"deleted", "gone", kv.HistoryOptions{}, 0, []rev{{8, kv.Deleted}, {1, kv.Added}}, 9, 0},
		{"never there", "nothing", kv.HistoryOptions{}, 0, nil, 9, 0},
		{"limit", "a", kv.HistoryOptions{Limit: 1}, 0, []rev{{7, kv.Modified}}, 3, 6},
		// The limit is met at the first version: nothing is left.
		{"limit at the first version", "a", kv.HistoryOptions{Limit: 2}, 0, []rev{{7, kv.Modified}, {1, kv.Added}}, 9, 0},
		// The creating version lies beyond the bound: the walk says
		// it stopped, and its oldest revision is not the creation.
		{"bound before creation", "a", kv.HistoryOptions{MaxVersions: 3}, 0, []rev{{7, kv.Modified}}, 3, 6},
		{"bound before any change", "a", kv.HistoryOptions{MaxVersions: 2}, 0, nil, 2, 7},
		{"bound at the first version", "a", kv.HistoryOptions{MaxVersions: 9}, 0, []rev{{7, kv.Modified}, {1, kv.Added}}, 9, 0},
		{"bound and limit", "a", kv.HistoryOptions{Limit: 1, MaxVersions: 5}, 0, []rev{{7, kv.Modified}}, 3, 6},
		// Resumed at Next, walks go on where the last one stopped.
		{"resumed", "a", kv.HistoryOptions{MaxVersions: 3}, 6, nil, 3, 3},
		{"resumed to the end", "a", kv.HistoryOptions{MaxVersions: 3}, 3, []rev{{1, kv.Added}}, 3, 0},
		{"from a version", "a", kv.HistoryOptions{}, 7, []rev{{7, kv.Modified}, {1, kv.Added}}, 7, 0},
		{"from the first version", "gone", kv.HistoryOptions{}, 1, []rev{{1, kv.Added}}, 1, 0},
	}
	for _, tt := range tests {
		opt := tt.opt
		if tt.from > 0 {
			opt.From = v[tt.from]
		}
		p, err := s.WalkHistory(ctx, tt.key, opt)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		var got []rev
		for _, r := range p.Revisions {
			i := indexOf(v, r.Version)
			got = append(got, rev{i, r.Op})
			if r.Author.Name != "put" && r.Author.Name != "del" {
				t.Errorf("%s: revision %d's author = %+v", tt.name, i, r.Author)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) || p.Walked != tt.walked || p.Next != v[tt.next] || p.Complete() != (tt.next == 0) {
			t.Errorf("%s: revisions %v, walked %d, next v%d, complete %v; want %v, %d, v%d",
				tt.name, got, p.Walked, indexOf(v, p.Next), p.Complete(), tt.want, tt.walked, tt.next)
		}
	}

	// A walk resumed page by page finds what one walk finds.
	var pages []kv.Revision
	opt := kv.HistoryOptions{MaxVersions: 2}
	for n := 0; ; n++ {
		p, err := s.WalkHistory(ctx, "a", opt)
		if err != nil || n > 9 {
			t.Fatalf("page %d: %+v, %v", n, p, err)
		}
		pages = append(pages, p.Revisions...)
		if p.Complete() {
			break
		}
		opt.From = p.Next
	}
	if all, _ := s.History(ctx, "a", 0); fmt.Sprint(all) != fmt.Sprint(pages) {
		t.Errorf("paged walk = %+v, want %+v", pages, all)
	}

	// Deleted and created again with the same content: the walk sees
	// each step, and a walk that stops at the re-creation does not
	// reach back to the first creation.
	again := []string{put(t, s, "back", "same")}
	gone, err := s.Batch(ctx, who("del"), func(tx kv.Txn) error { return tx.Delete("back") })
	if err != nil {
		t.Fatal(err)
	}
	again = append(again, gone, put(t, s, "back", "same"))
	p, err := s.WalkHistory(ctx, "back", kv.HistoryOptions{})
	var ops []string
	for _, r := range p.Revisions {
		ops = append(ops, fmt.Sprintf("v%d %v", indexOf(again, r.Version), r.Op))
	}
	if want := fmt.Sprint([]string{
		fmt.Sprintf("v2 %v", kv.Added), fmt.Sprintf("v1 %v", kv.Deleted), fmt.Sprintf("v0 %v", kv.Added),
	}); err != nil || fmt.Sprint(ops) != want || !p.Complete() {
		t.Errorf("a re-created key's history: %v, complete %v, %v; want %s", ops, p.Complete(), err, want)
	}

	for _, from := range []string{"nope", "0000000000000000000000000000000000000000", "0123456789abcdef0123456789abcdef01234567"} {
		if p, err := s.WalkHistory(ctx, "a", kv.HistoryOptions{From: from}); !errors.Is(err, kv.ErrUnknownVersion) {
			t.Errorf("WalkHistory from unknown version %q: %+v, %v", from, p, err)
		}
	}
	if _, err := s.WalkHistory(ctx, "../a", kv.HistoryOptions{}); !errors.Is(err, kv.ErrInvalidKey) {
		t.Errorf("WalkHistory of a bad key: %v", err)
	}
	if p, err := open(t).WalkHistory(ctx, "a", kv.HistoryOptions{From: v[9], Limit: 1}); err != nil || len(p.Revisions) != 1 {
		t.Errorf("a second instance's walk: %+v, %v", p, err)
	}
}

// indexOf is i where v[i] == version, -1 if none.
func indexOf(v []string, version string) int {
	for i, x := range v {
		if x == version {
			return i
		}
	}
	return -1
}
