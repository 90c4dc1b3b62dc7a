package git

import (
	"bytes"
	"compress/zlib"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"

	"github.com/quercus-dev/quercus/kv"
)

// tree encodes a git tree of the entries "name" (a file) or "name/" (a
// folder), each with the hash of its name and content tag.
func tree(entries ...string) []byte {
	type ent struct {
		name string
		dir  bool
		raw  []byte
	}
	var es []ent
	for _, e := range entries {
		name, tag, _ := bytes.Cut([]byte(e), []byte("="))
		dir := bytes.HasSuffix(name, []byte("/"))
		n := string(bytes.TrimSuffix(name, []byte("/")))
		mode := filemode.Regular
		if dir {
			mode = filemode.Dir
		}
		h := plumbing.ComputeHash(plumbing.BlobObject, []byte(n+string(tag)))
		es = append(es, ent{n, dir, encodeEntry(mode, n, h)})
	}
	slices.SortFunc(es, func(a, b ent) int { return compareNames([]byte(a.name), a.dir, []byte(b.name), b.dir) })
	var out []byte
	for _, e := range es {
		out = append(out, e.raw...)
	}
	return out
}

func TestTreeDelta(t *testing.T) {
	tests := []struct {
		name      string
		old, base []byte
		folders   int // same-named folders whose trees differ
	}{
		{"equal", tree("a", "b", "c"), tree("a", "b", "c"), 0},
		{"one changed", tree("a", "b=1", "c"), tree("a", "b=2", "c"), 0},
		{"one added since", tree("a", "c"), tree("a", "b", "c"), 0},
		{"one deleted since", tree("a", "b", "c"), tree("a", "c"), 0},
		{"folder changed", tree("a", "d/=1", "e"), tree("a", "d/=2", "e"), 1},
		{"file became folder", tree("a", "d"), tree("a", "d/"), 0},
		{"git order: a.b before a/", tree("a/=1", "a.b", "a0"), tree("a/=2", "a.b", "a0"), 1},
		{"empty old", nil, tree("a", "b"), 0},
		{"empty base", tree("a", "b"), nil, 0},
		{"nothing shared", tree("a", "b"), tree("c", "d"), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, folders, ok := treeDelta(tc.old, tc.base)
			if !ok {
				t.Fatal("treeDelta: not ok")
			}
			got, err := applyDelta(nil, tc.base, d)
			if err != nil || !bytes.Equal(got, tc.old) {
				t.Fatalf("applyDelta = %q, %v; want %q", got, err, tc.old)
			}
			if len(folders) != tc.folders {
				t.Errorf("folders = %v, want %d", folders, tc.folders)
			}
		})
	}
	// A delta that copies what is shared is small.
	var names []string
	for i := range 1000 {
		names = append(names, fmt.Sprintf("event-%d.ics", i))
	}
	base := tree(names...)
	old := tree(slices.Delete(slices.Clone(names), 500, 501)...)
	if d, _, _ := treeDelta(old, base); len(d) > 32 {
		t.Errorf("delta of a 1000-entry tree that lacks one entry: %d bytes, want a few", len(d))
	}
}

func FuzzTreeDelta(f *testing.F) {
	f.Add(tree("a", "b=1", "c"), tree("a", "b=2", "c"))
	f.Add(tree("a", "d/=1"), tree("a", "d/=2", "e"))
	f.Add([]byte("100644 x\x00"), []byte{})
	f.Fuzz(func(t *testing.T, old, base []byte) {
		parseDir(old)
		if d, _, ok := treeDelta(old, base); ok {
			got, err := applyDelta(nil, base, d)
			if err != nil || !bytes.Equal(got, old) {
				t.Fatalf("applyDelta(treeDelta(old, base)) = %q, %v; want %q", got, err, old)
			}
		}
		applyDelta(nil, base, old) // garbage in: an error, no panic
	})
}

func TestStoredZlib(t *testing.T) {
	for _, n := range []int{0, 1, 0xffff, 0x10000, 200_000} {
		data := bytes.Repeat([]byte("quercus "), n/8+1)[:n]
		var b bytes.Buffer
		if err := writeStored(&b, data); err != nil {
			t.Fatal(err)
		}
		zr, err := zlib.NewReader(&b)
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		got, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%d bytes: inflated %d bytes, %v", n, len(got), err)
		}
	}
}

// TestHistoryHeldCompactly is the regression test for issue 6's memory:
// every commit to a large folder made a new tree of the folder, and the
// store kept each whole, for ever. It counts the bytes the store holds.
func TestHistoryHeldCompactly(t *testing.T) {
	ctx := context.Background()
	remote := filepath.Join(t.TempDir(), "remote.git")
	if _, err := gogit.PlainInit(remote, true); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, Config{Remote: "file://" + remote + "#main"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := kv.Commit{Author: kv.Signature{Name: "t", Email: "t@example.org"}, Message: "m"}
	const files = 2000
	v0, err := s.Batch(ctx, c, func(tx kv.Txn) error {
		for i := range files {
			body := fmt.Sprintf("BEGIN:VCALENDAR\r\nUID:event-%d\r\nSUMMARY:Event number %d of the calendar\r\nEND:VCALENDAR\r\n", i, i)
			if err := tx.Put(fmt.Sprintf("cal/event-%d.ics", i), []byte(body)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	before := s.st.objs.held()
	const commits = 30
	versions := []string{v0}
	for i := range commits {
		v, err := s.Batch(ctx, c, func(tx kv.Txn) error {
			return tx.Put(fmt.Sprintf("cal/new-%d.ics", i), []byte(fmt.Sprintf("BEGIN:VCALENDAR\r\nUID:new-%d\r\nEND:VCALENDAR\r\n", i)))
		})
		if err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v)
	}
	// The folder's tree is about 100 KB; a commit that adds one file
	// should cost its file, its commit, the small trees above the folder
	// and a delta.
	perCommit := (s.st.objs.held() - before) / commits
	t.Logf("%d bytes held per commit to a folder of %d files", perCommit, files)
	if perCommit > 2048 {
		t.Errorf("%d bytes held per commit to a folder of %d files, want < 2048", perCommit, files)
	}

	// Old versions read as they were.
	for i, v := range versions {
		snap, err := s.At(ctx, v)
		if err != nil {
			t.Fatal(err)
		}
		l, err := snap.List(ctx, "cal")
		if err != nil || len(l) != files+i {
			t.Fatalf("version %d lists %d files, %v; want %d", i, len(l), err, files+i)
		}
	}
	ch, err := s.Changes(ctx, versions[3], versions[7])
	if err != nil || len(ch) != 4 || ch[0].Key != "cal/new-3.ics" || ch[0].Op != kv.Added {
		t.Errorf("Changes(3, 7) = %v, %v", ch, err)
	}
	h, err := s.History(ctx, "cal/new-5.ics", 0)
	if err != nil || len(h) != 1 || h[0].Version != versions[6] {
		t.Errorf("History(cal/new-5.ics) = %v, %v; want one revision, %s", h, err, versions[6])
	}

	// The local remote keeps small pushes as loose objects, as git does,
	// so that pushes do not slow down as packs accumulate.
	packs, _ := filepath.Glob(filepath.Join(remote, "objects", "pack", "*.pack"))
	if len(packs) > 1 { // the first batch's 2000 files: one pack
		t.Errorf("the remote holds %d packs after %d small pushes, want 1", len(packs), commits)
	}
	if _, err := os.Stat(filepath.Join(remote, "objects", v0[:2], v0[2:])); err == nil {
		t.Errorf("the first commit of 2000 files was stored loose")
	}
}

func TestDeltaRebuilds(t *testing.T) {
	old, base := tree("a", "b=1", "c"), tree("a", "b=2", "c")
	d, _, _ := treeDelta(old, base)
	if !deltaRebuilds(base, d, old) {
		t.Error("deltaRebuilds(treeDelta(old, base)) = false")
	}
	if deltaRebuilds(base, d, base) || deltaRebuilds(base, d[:len(d)-1], old) {
		t.Error("deltaRebuilds took a delta that does not rebuild its object")
	}
}
