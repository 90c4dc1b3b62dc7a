package git

import (
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing/format/packfile"

	"github.com/quercus-dev/quercus/internal/peer"
	"github.com/quercus-dev/quercus/kv"
)

// gcRemote is a bare remote whose main branch holds a folder cal/ of
// files files, imported by one push (a pack), then commits commits that
// each add a file (loose objects). It returns the remote's folder, the
// store that wrote it and the versions, oldest first.
func gcRemote(t *testing.T, files, commits int) (string, *Store, []string) {
	t.Helper()
	peer.Require(t, "git")
	dir := filepath.Join(t.TempDir(), "remote.git")
	peer.Run(t, "", "git", "init", "-q", "--bare", "--initial-branch=main", dir)
	s := openGC(t, dir)
	v0, err := s.Batch(context.Background(), gcCommit, func(tx kv.Txn) error {
		for i := range files {
			if err := tx.Put(fmt.Sprintf("cal/event-%d.ics", i), []byte(fmt.Sprintf("UID:event-%d\r\n", i))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	versions := []string{v0}
	for i := range commits {
		versions = append(versions, addEvent(t, s, i))
	}
	return dir, s, versions
}

var gcCommit = kv.Commit{Author: kv.Signature{Name: "t", Email: "t@example.org"}, Message: "m"}

func openGC(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(context.Background(), Config{Remote: "file://" + dir + "#main", Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func addEvent(t *testing.T, s *Store, i int) string {
	key := fmt.Sprintf("cal/new-%d.ics", i)
	v, err := s.Batch(context.Background(), gcCommit, func(tx kv.Txn) error { return tx.Put(key, []byte(key)) })
	if err != nil {
		t.Error(err)
	}
	return v
}

// setGC sets the collection's thresholds for one test, counting loose
// objects exactly, and waits for collections to end before restoring.
func setGC(t *testing.T, objects int, bytes int64) {
	autoGC.wait() // a look another test's push began
	old := gcConfig
	gcConfig.Objects, gcConfig.Bytes, gcConfig.Sample = objects, bytes, 256
	t.Cleanup(func() {
		autoGC.wait()
		gcConfig = old
	})
}

func looseCount(t *testing.T, dir string) int {
	t.Helper()
	hs, err := looseObjects(filepath.Join(dir, "objects"))
	if err != nil {
		t.Fatal(err)
	}
	return len(hs)
}

func packs(dir string) []string {
	p, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "pack-*.pack"))
	return p
}

// checkWithGit has the real git check the remote and read every commit.
func checkWithGit(t *testing.T, dir string, versions []string) {
	t.Helper()
	peer.Run(t, dir, "git", "fsck", "--strict", "--no-dangling")
	log := strings.Fields(peer.Run(t, dir, "git", "log", "--format=%H", "main"))
	slices.Reverse(log)
	if !slices.Equal(log, versions) {
		t.Errorf("git log lists %d commits, want the %d pushed", len(log), len(versions))
	}
	// Every commit's diff: every tree and blob read.
	peer.Run(t, dir, "git", "log", "-p", "--format=%H", "main")
	peer.Run(t, dir, "git", "show", versions[len(versions)-1])
}

// checkReopened opens the remote anew and reads every version.
func checkReopened(t *testing.T, dir string, files int, versions []string) {
	t.Helper()
	s := openGC(t, dir)
	for i, v := range versions {
		snap, err := s.At(context.Background(), v)
		if err != nil {
			t.Fatal(err)
		}
		l, err := snap.List(context.Background(), "cal")
		if err != nil || len(l) != files+i {
			t.Fatalf("version %d lists %d files, %v; want %d", i, len(l), err, files+i)
		}
	}
}

func TestCollectPacksLooseObjects(t *testing.T) {
	setGC(t, 1<<30, 1<<40) // no automatic collection
	const files, commits = 500, 20
	dir, _, versions := gcRemote(t, files, commits)
	loose := looseCount(t, dir)
	if loose < 4*commits {
		t.Fatalf("%d loose objects after %d small pushes, want %d or more", loose, commits, 4*commits)
	}
	_, looseBytes := looseEstimate(filepath.Join(dir, "objects"), 256)
	before := packs(dir)
	// And one git wrote, compressed.
	blob := filepath.Join(t.TempDir(), "blob")
	if err := os.WriteFile(blob, bytes.Repeat([]byte("compressible "), 100), 0o644); err != nil {
		t.Fatal(err)
	}
	gitBlob := strings.TrimSpace(peer.Run(t, dir, "git", "hash-object", "-w", blob))
	loose++

	n, err := collect(dir)
	if err != nil || n != loose {
		t.Fatalf("collect = %d, %v; want %d objects packed", n, err, loose)
	}
	if got := looseCount(t, dir); got != 0 {
		t.Errorf("%d loose objects left", got)
	}
	added := slices.DeleteFunc(packs(dir), func(p string) bool { return slices.Contains(before, p) })
	if len(added) != 1 {
		t.Fatalf("collect added %d packs, want 1", len(added))
	}
	// With deltas, each version of the folder's tree costs a few bytes
	// in the pack, not the whole tree (about 20 KB here).
	fi, err := os.Stat(added[0])
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d loose objects, %d bytes: packed in %d bytes", loose, looseBytes, fi.Size())
	if fi.Size() > looseBytes/5 {
		t.Errorf("pack of %d bytes for %d bytes of loose objects: deltas missing?", fi.Size(), looseBytes)
	}
	if _, err := os.Stat(filepath.Join(dir, "gc.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("gc.pid left behind: %v", err)
	}
	checkWithGit(t, dir, versions)
	checkReopened(t, dir, files, versions)
	peer.Run(t, dir, "git", "cat-file", "-e", gitBlob)

	// Nothing loose: nothing to do, no empty pack.
	if n, err := collect(dir); n != 0 || err != nil || len(packs(dir)) != len(before)+1 {
		t.Errorf("collect of a packed remote = %d, %v, %d packs", n, err, len(packs(dir)))
	}
}

// TestAutoCollect pushes past the threshold: the pushes start collections
// that keep the loose objects at or below it.
func TestAutoCollect(t *testing.T) {
	const threshold = 30
	setGC(t, threshold, 1<<40)
	const files, commits = 300, 25
	dir, _, versions := gcRemote(t, files, commits)
	autoGC.wait()
	if got := looseCount(t, dir); got > threshold {
		t.Errorf("%d loose objects after the collections, want %d at most", got, threshold)
	}
	if len(packs(dir)) < 2 {
		t.Errorf("%d packs: no collection ran", len(packs(dir)))
	}
	checkWithGit(t, dir, versions)
	checkReopened(t, dir, files, versions)
}

func TestAutoCollectBytes(t *testing.T) {
	setGC(t, 1<<30, 64<<10) // a 300-file tree is about 12 KB
	dir, _, _ := gcRemote(t, 300, 10)
	autoGC.wait()
	if _, size := looseEstimate(filepath.Join(dir, "objects"), 256); size > 64<<10 {
		t.Errorf("%d bytes of loose objects after the collections, want 64 KB at most", size)
	}
}

// TestCollectWhileFetching collects again and again, from two collectors,
// while a store pushes, another store and the real git fetch, and a third
// store clones: none may miss an object, nor a collector one it packs.
func TestCollectWhileFetching(t *testing.T) {
	setGC(t, 1<<30, 1<<40)
	const files = 200
	dir, w, _ := gcRemote(t, files, 0)
	r := openGC(t, dir)
	clone := filepath.Join(t.TempDir(), "clone.git")
	peer.Run(t, "", "git", "clone", "-q", "--bare", dir, clone)

	var wg sync.WaitGroup
	done := make(chan struct{})
	loop := func(name string, f func() error) {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-done:
					if n == 0 {
						t.Errorf("%s never ran", name)
					}
					return
				default:
				}
				if err := f(); err != nil {
					t.Errorf("%s %d: %v", name, n, err)
					return
				}
			}
		})
	}
	// Two collectors, as two processes: the lock lets one at a time.
	var collections atomic.Int32
	for _, name := range []string{"collect", "another collect"} {
		loop(name, func() error {
			n, err := collect(dir)
			if n > 0 {
				collections.Add(1)
			}
			if errors.Is(err, errGCBusy) {
				err = nil
			}
			return err
		})
	}
	loop("Refresh", func() error {
		_, err := r.Refresh(context.Background())
		return err
	})
	loop("git fetch", func() error {
		out, err := exec.Command("git", "-C", clone, "fetch", "-q", dir, "+main:main").CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	})
	loop("Open", func() error {
		s, err := Open(context.Background(), Config{Remote: "file://" + dir + "#main", Timeout: 20 * time.Second})
		if err == nil {
			s.Close()
		}
		return err
	})
	var last string
	for i := range 40 {
		last = addEvent(t, w, i)
	}
	close(done)
	wg.Wait()
	t.Logf("%d collections during 40 pushes", collections.Load())
	if _, err := r.Refresh(context.Background()); err != nil || r.Version() != last {
		t.Errorf("reader at %s, %v; want %s", r.Version(), err, last)
	}
	peer.Run(t, dir, "git", "fsck", "--strict", "--no-dangling")
}

func TestGCLock(t *testing.T) {
	setGC(t, 1<<30, 1<<40)
	dir, _, _ := gcRemote(t, 150, 3)
	pid := filepath.Join(dir, "gc.pid")
	loose := looseCount(t, dir)

	// Another process (git gc, say) collects: we leave the remote alone.
	if err := os.WriteFile(pid, []byte("4242 elsewhere"), 0o644); err != nil {
		t.Fatal(err)
	}
	if n, err := collect(dir); !errors.Is(err, errGCBusy) || n != 0 || looseCount(t, dir) != loose {
		t.Errorf("collect under another's gc.pid = %d, %v", n, err)
	}
	// So does a collection that holds gc.pid.lock for its moment.
	lock := pid + ".lock"
	if err := os.WriteFile(lock, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := collect(dir); !errors.Is(err, errGCBusy) {
		t.Errorf("collect under another's gc.pid.lock: %v", err)
	}

	// Both left by a process that died long ago: taken over, and its
	// temporary files removed; a live writer's stay.
	tmps := []string{
		filepath.Join(dir, "objects", "tmp_obj_1"),
		filepath.Join(dir, "objects", "pack", "tmp_pack_1"),
		filepath.Join(dir, "objects", "pack", "tmp_idx_1"),
	}
	live := filepath.Join(dir, "objects", "tmp_obj_2")
	for _, p := range append(tmps, live) {
		if err := os.WriteFile(p, []byte("partial"), 0o444); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * gcLockStale)
	for _, p := range append(tmps, pid, lock) {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := collect(dir); err != nil || n != loose {
		t.Errorf("collect over a stale gc.pid = %d, %v; want %d", n, err, loose)
	}
	for _, p := range append(tmps, pid, lock) {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left behind: %v", filepath.Base(p), err)
		}
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("a live writer's temporary file removed: %v", err)
	}
}

func TestLooseEstimate(t *testing.T) {
	objects := t.TempDir()
	write := func(name string, size int) {
		p := filepath.Join(objects, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, make([]byte, size), 0o444); err != nil {
			t.Fatal(err)
		}
	}
	hash := strings.Repeat("0", 38)
	write("17/"+hash, 100)
	write("17/"+hash[:37]+"1", 50)
	write("17/tmp_obj_123", 1000) // not an object
	write("ab/"+hash, 10)
	write("pack/pack-"+hash+"00.pack", 1000)
	tests := []struct {
		sample, n int
		size      int64
	}{
		{1, 2 * 256, 150 * 256},
		{256, 3, 160},
	}
	for _, tc := range tests {
		if n, size := looseEstimate(objects, tc.sample); n != tc.n || size != tc.size {
			t.Errorf("looseEstimate(sample %d) = %d, %d; want %d, %d", tc.sample, n, size, tc.n, tc.size)
		}
	}
}

// gitDelta's deltas rebuild their object with go-git's reader of git's
// deltas: long copies (cut at 64 KB), long inserts (cut at 127 bytes),
// offsets of one to three bytes.
func TestGitDelta(t *testing.T) {
	var names []string
	for i := range 3000 {
		names = append(names, fmt.Sprintf("event-%05d.ics", i))
	}
	big := tree(names...) // 100 KB
	tests := []struct {
		name      string
		old, base []byte
	}{
		{"one changed", tree("a", "b=1", "c"), tree("a", "b=2", "c")},
		{"nothing shared", tree("a", "b"), tree("c", "d")},
		{"empty old", nil, tree("a")},
		{"long copy", tree(append(slices.Clone(names), "new")...), big},
		{"long insert", big, tree("a")},
		{"copy from far", tree(names[2990:]...), big},
		{"equal", big, big},
		{"prefix of base", big[:1000], big},
		{"base a prefix", big, big[:1000]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Cut trees are no trees: for spliceDelta only.
			if d, _, ok := treeDelta(tc.old, tc.base); ok {
				got, err := packfile.PatchDelta(tc.base, gitDelta(len(tc.base), d))
				if err != nil || !bytes.Equal(got, tc.old) {
					t.Errorf("PatchDelta(gitDelta(treeDelta)) = %d bytes, %v; want %d", len(got), err, len(tc.old))
				}
			}
			if len(tc.base) == 0 {
				return
			}
			got, err := packfile.PatchDelta(tc.base, gitDelta(len(tc.base), spliceDelta(tc.old, tc.base)))
			if err != nil || !bytes.Equal(got, tc.old) {
				t.Errorf("PatchDelta(gitDelta(spliceDelta)) = %d bytes, %v; want %d", len(got), err, len(tc.old))
			}
		})
	}
}

func FuzzGitDelta(f *testing.F) {
	f.Add(tree("a", "b=1", "c"), tree("a", "b=2", "c"))
	f.Add(tree("a", "d/=1"), tree("a", "d/=2", "e"))
	f.Fuzz(func(t *testing.T, old, base []byte) {
		if len(base) > 0 {
			got, err := packfile.PatchDelta(base, gitDelta(len(base), spliceDelta(old, base)))
			if err != nil || !bytes.Equal(got, old) {
				t.Fatalf("PatchDelta(gitDelta(spliceDelta(old, base))) = %q, %v; want %q", got, err, old)
			}
		}
		d, _, ok := treeDelta(old, base)
		if !ok || len(base) == 0 { // no delta is made against nothing
			return
		}
		got, err := packfile.PatchDelta(base, gitDelta(len(base), d))
		if err != nil || !bytes.Equal(got, old) {
			t.Fatalf("PatchDelta(gitDelta(treeDelta(old, base))) = %q, %v; want %q", got, err, old)
		}
	})
}

func TestStoredData(t *testing.T) {
	for _, n := range []int{0, 1, 0xffff, 0x10000, 200_000} {
		data := bytes.Repeat([]byte("quercus "), n/8+1)[:n]
		var b bytes.Buffer
		if err := writeStored(&b, data); err != nil {
			t.Fatal(err)
		}
		got, ok := storedData(nil, b.Bytes())
		if !ok || !bytes.Equal(got, data) {
			t.Errorf("%d bytes: storedData = %d bytes, %v", n, len(got), ok)
		}
	}
	var b bytes.Buffer
	zw := zlib.NewWriter(&b)
	zw.Write(bytes.Repeat([]byte("quercus "), 100))
	zw.Close()
	if _, ok := storedData(nil, b.Bytes()); ok {
		t.Error("storedData took a compressed stream for a stored one")
	}
}
