package git

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/idxfile"
)

// A local remote keeps small pushes as loose objects (see unpackLimit),
// uncompressed (see storedWriter): a commit to a folder of 10,000 files
// writes the folder's tree whole, about 400 KB. As git-receive-pack runs
// "git gc --auto", a push here, once its refs have moved, starts a
// collection in the background when the remote holds too many loose
// objects or too many bytes of them: they are packed into one new pack,
// with deltas (a tree against its neighbour version), and removed.
var gcConfig = struct {
	// Objects is git's gc.auto: collect past this many loose objects.
	Objects int
	// Bytes collects past this many bytes of loose objects, which git
	// does not count: its loose objects are compressed, and a tree that
	// differs from the last by one entry is rarely written 6,700 times.
	Bytes int64
	// Sample is how many of the 256 object folders are read to
	// estimate both (git reads one, objects/17); 256 counts exactly.
	Sample int
	// Window is how many neighbours each object is tried against as a
	// delta base (git's pack.window, 10).
	Window uint
}{Objects: 6700, Bytes: 32 << 20, Sample: 16, Window: 10}

// gcLockStale is how old a gc.pid must be for a collection to take it
// over from a process that presumably died; git waits 12 hours, but a
// collection here packs at most what one threshold lets pile up.
const gcLockStale = time.Hour

// errGCBusy says another process is collecting the remote.
var errGCBusy = errors.New("git: gc already running")

// gcRunner runs at most one collection per remote in this process, and
// coalesces the pushes that ask for one while it runs. It looks at a
// remote's folder only once this process has written an eighth of a
// threshold to it since it last looked (and at its first push): with
// several writers, the remote passes a threshold by an eighth of it per
// writer at most before one of them looks.
type gcRunner struct {
	mu      sync.Mutex
	remotes map[string]*gcState // by git directory
	wg      sync.WaitGroup
}

type gcState struct {
	objects int   // loose objects written since the last look
	bytes   int64 // and their bytes
	looked  bool
	running bool
	again   bool // asked to look again while running
}

var autoGC = gcRunner{remotes: map[string]*gcState{}}

// poke tells the runner a push stored objects loose objects of bytes
// bytes in the git directory dir. It returns at once; the look at the
// folder and the collection run in the background.
func (r *gcRunner) poke(dir string, objects int, bytes int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.remotes[dir]
	if st == nil {
		st = &gcState{}
		r.remotes[dir] = st
	}
	st.objects += objects
	st.bytes += bytes
	if st.looked && st.objects < gcConfig.Objects/8 && st.bytes < gcConfig.Bytes/8 {
		return
	}
	if st.running {
		st.again = true
		return
	}
	st.running, st.looked, st.objects, st.bytes = true, true, 0, 0
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			err := gcIfNeeded(dir)
			if _, serr := os.Stat(dir); err != nil && !errors.Is(err, errGCBusy) && serr == nil {
				// (A remote removed meanwhile, a test's, is no news.)
				slog.Warn("git: collecting loose objects", "remote", dir, "err", err)
			}
			r.mu.Lock()
			if !st.again {
				st.running = false
				r.mu.Unlock()
				return
			}
			st.again, st.objects, st.bytes = false, 0, 0
			r.mu.Unlock()
		}
	}()
}

// wait returns once no collection runs in this process.
func (r *gcRunner) wait() { r.wg.Wait() }

// gcIfNeeded collects dir if its loose objects pass a threshold.
func gcIfNeeded(dir string) error {
	n, size := looseEstimate(filepath.Join(dir, "objects"), gcConfig.Sample)
	if n <= gcConfig.Objects && size <= gcConfig.Bytes {
		return nil
	}
	_, err := collect(dir)
	return err
}

// looseEstimate estimates the number and bytes of loose objects in the
// objects folder from sample of its 256 subfolders, beginning with git's
// objects/17.
func looseEstimate(objects string, sample int) (n int, size int64) {
	sample = min(max(sample, 1), 256)
	for i := range sample {
		sub := fmt.Sprintf("%02x", (0x17+i*256/sample)%256)
		ents, _ := os.ReadDir(filepath.Join(objects, sub))
		for _, e := range ents {
			if !isLooseName(e.Name()) {
				continue
			}
			n++
			if fi, err := e.Info(); err == nil {
				size += fi.Size()
			}
		}
	}
	return n * 256 / sample, size * 256 / int64(sample)
}

func isLooseName(name string) bool {
	if len(name) != 38 {
		return false
	}
	for _, c := range []byte(name) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// looseObjects lists the loose objects of the objects folder.
func looseObjects(objects string) ([]plumbing.Hash, error) {
	var hs []plumbing.Hash
	for i := range 256 {
		sub := fmt.Sprintf("%02x", i)
		ents, err := os.ReadDir(filepath.Join(objects, sub))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			if isLooseName(e.Name()) {
				hs = append(hs, plumbing.NewHash(sub+e.Name()))
			}
		}
	}
	return hs, nil
}

// collect packs every loose object of the git directory dir into one new
// pack and removes them, holding gc.pid as git gc does (so that neither
// another quercus nor git collects at the same time). It returns how many
// objects it packed.
//
// Readers never miss an object: the pack is in place, durably, before
// the first loose object goes. The .idx is renamed in before the .pack:
// git finds packs by their .idx and skips one whose .pack is missing,
// go-git finds them by their .pack and fails on one whose .idx is.
// A reader that listed the packs before the new one appeared looks again
// when an object is missing (see rescanning), as git does.
func collect(dir string) (int, error) {
	unlock, err := lockGC(dir)
	if err != nil {
		return 0, err
	}
	defer unlock()
	objects := filepath.Join(dir, "objects")
	removeStaleTemps(objects)
	hs, err := looseObjects(objects)
	if err != nil || len(hs) == 0 {
		return 0, err
	}
	packDir := filepath.Join(objects, "pack")
	if err := os.MkdirAll(packDir, 0o755); err != nil {
		return 0, err
	}
	sum, idx, tmp, err := writeGCPack(packDir, hs)
	defer tmp.remove()
	if err != nil {
		return 0, err
	}
	for _, h := range hs {
		if ok, err := idx.Contains(h); err != nil || !ok {
			return 0, fmt.Errorf("git: gc: object %s missing from the new pack: %v", h, err)
		}
	}
	base := filepath.Join(packDir, "pack-"+sum.String())
	if err := os.Rename(tmp.idx, base+".idx"); err != nil {
		return 0, err
	}
	if err := os.Rename(tmp.pack, base+".pack"); err != nil {
		return 0, err
	}
	if err := syncDir(packDir); err != nil {
		return 0, err
	}
	for _, h := range hs {
		hex := h.String()
		if err := os.Remove(filepath.Join(objects, hex[:2], hex[2:])); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return 0, err
		}
	}
	return len(hs), nil
}

// writeGCPack writes the loose objects hs of the git directory's objects
// folder as a pack and its index, to temporary files of packDir, synced.
func writeGCPack(packDir string, hs []plumbing.Hash) (plumbing.Hash, idxfile.Index, *tmpCleanup, error) {
	c := &tmpCleanup{}
	f, err := os.CreateTemp(packDir, "tmp_pack_")
	if err != nil {
		return plumbing.ZeroHash, nil, c, err
	}
	c.pack = f.Name()
	sum, idx, err := packLoose(f, filepath.Dir(packDir), hs, int(gcConfig.Window))
	if err = errors.Join(err, f.Sync(), f.Chmod(0o444), f.Close()); err != nil {
		return sum, nil, c, err
	}
	fi, err := os.CreateTemp(packDir, "tmp_idx_")
	if err != nil {
		return sum, nil, c, err
	}
	c.idx = fi.Name()
	bw := bufio.NewWriter(fi)
	_, err = idxfile.NewEncoder(bw).Encode(idx)
	err = errors.Join(err, bw.Flush(), fi.Sync(), fi.Chmod(0o444), fi.Close())
	return sum, idx, c, err
}

// tmpCleanup removes the temporary files of writeGCPack that remain.
type tmpCleanup struct{ pack, idx string }

func (c *tmpCleanup) remove() {
	for _, p := range []string{c.pack, c.idx} {
		if p != "" {
			os.Remove(p) // after the rename, a no-op
		}
	}
}

// removeStaleTemps removes the temporary files that writers (writeLoose,
// go-git's pack writer, a collection) left in the objects folder when
// they died: those older than gcLockStale, far older than any live
// writer's, as git gc removes its tmp_ files.
func removeStaleTemps(objects string) {
	for _, glob := range []string{"tmp_obj_*", "pack/tmp_*"} {
		tmps, _ := filepath.Glob(filepath.Join(objects, glob))
		for _, p := range tmps {
			if fi, err := os.Stat(p); err == nil && time.Since(fi.ModTime()) > gcLockStale {
				os.Remove(p)
			}
		}
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

// lockGC takes dir's gc.pid as git gc does: under gc.pid.lock, created
// exclusively, it reads gc.pid, and unless a collection that is not stale
// holds it, writes "pid host" to the lock and renames it to gc.pid. A
// gc.pid.lock is held for moments only, so one older than a minute is
// left by a process that died in between, and is removed.
func lockGC(dir string) (unlock func(), err error) {
	pid := filepath.Join(dir, "gc.pid")
	lockPath := pid + ".lock"
	lock, err := os.OpenFile(lockPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		if fi, serr := os.Stat(lockPath); serr == nil && time.Since(fi.ModTime()) > time.Minute {
			os.Remove(lockPath)
			lock, err = os.OpenFile(lockPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		}
	}
	if errors.Is(err, fs.ErrExist) {
		return nil, errGCBusy
	}
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(pid); err == nil && time.Since(fi.ModTime()) < gcLockStale {
		lock.Close()
		os.Remove(lockPath)
		return nil, errGCBusy
	}
	host, _ := os.Hostname()
	me := strconv.Itoa(os.Getpid()) + " " + cmp.Or(host, "localhost")
	_, err = lock.WriteString(me)
	if err = errors.Join(err, lock.Close()); err == nil {
		err = os.Rename(lockPath, pid)
	}
	if err != nil {
		os.Remove(lockPath)
		return nil, err
	}
	return func() {
		// Only ours: a collection that took so long that another took
		// it over leaves the other's in place.
		if b, err := os.ReadFile(pid); err == nil && strings.TrimSpace(string(b)) == me {
			os.Remove(pid)
		}
	}, nil
}
