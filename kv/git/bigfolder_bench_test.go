package git_test

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/quercus-dev/quercus/internal/peer"
	"github.com/quercus-dev/quercus/kv"
)

// importFolder creates a bare repository whose main branch holds files
// small files in the one folder cal/, as a calendar of events does.
func importFolder(b testing.TB, files int) string {
	return fastImport(b, "cal.git", "calendar", files, func(i int) (string, string) {
		return fmt.Sprintf("cal/event-%d.ics", i), fmt.Sprintf("BEGIN:VCALENDAR\r\nUID:event-%d\r\nEND:VCALENDAR\r\n", i)
	})
}

// BenchmarkPutLargeFolder measures what caldav's PUT costs the store: a
// batch that adds one file to a folder of 10,000, committed and pushed
// to a local remote. heap-B/op is the live heap the store holds per
// commit, after a GC: the history it keeps.
func BenchmarkPutLargeFolder(b *testing.B) {
	peer.Require(b, "git")
	s := openWith(b, "file://"+importFolder(b, 10_000), nil)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	took := putEach(b, s)
	b.StopTimer()
	n := len(took)
	// A push must not slow down as pushes accumulate in the remote: the
	// median of the last tenth against the first.
	if tenth := len(took) / 10; tenth > 0 {
		median := func(ds []time.Duration) float64 {
			ds = slices.Clone(ds)
			slices.Sort(ds)
			return float64(ds[len(ds)/2]) / float64(time.Millisecond)
		}
		b.ReportMetric(median(took[:tenth]), "ms-first-tenth")
		b.ReportMetric(median(took[len(took)-tenth:]), "ms-last-tenth")
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(n), "heap-B/op")
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "batches/s")
}

// putEach commits one new event into cal/ of s for each round of b's
// loop, as caldav's PUT does, and returns how long each commit took.
func putEach(b *testing.B, s kv.Store) []time.Duration {
	msg := kv.Commit{Author: kv.Signature{Name: "bench", Email: "bench@example.org"}, Message: "bench"}
	n := 0
	var took []time.Duration
	for b.Loop() {
		n++
		key := fmt.Sprintf("cal/new-%d.ics", n)
		content := []byte(fmt.Sprintf("BEGIN:VCALENDAR\r\nUID:new-%d\r\nEND:VCALENDAR\r\n", n))
		t := time.Now()
		if _, err := s.Batch(ctx, msg, func(tx kv.Txn) error { return tx.Put(key, content) }); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(t))
	}
	return took
}
