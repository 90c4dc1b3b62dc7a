package caldav

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/quercus-dev/quercus/kv"
)

// countingStore counts the calendar objects read through its snapshots.
type countingStore struct {
	kv.Store
	reads *atomic.Int64
}

func (s countingStore) At(ctx context.Context, v string) (kv.Snapshot, error) {
	snap, err := s.Store.At(ctx, v)
	return countingSnap{snap, s.reads}, err
}

type countingSnap struct {
	kv.Snapshot
	reads *atomic.Int64
}

func (s countingSnap) Get(ctx context.Context, key string) ([]byte, error) {
	if strings.HasSuffix(key, ".ics") {
		s.reads.Add(1)
	}
	return s.Snapshot.Get(ctx, key)
}

// firstWrite records how many objects had been read when the body
// began.
type firstWrite struct {
	*httptest.ResponseRecorder
	reads   *atomic.Int64
	atFirst int64
}

func (w *firstWrite) Write(b []byte) (int, error) {
	if w.atFirst < 0 {
		w.atFirst = w.reads.Load()
	}
	return w.ResponseRecorder.Write(b)
}

// TestExportStreams: a calendar's GET sends each object as it reads it,
// so that exporting a large calendar holds one object at a time, not
// the whole calendar parsed and encoded again.
func TestExportStreams(t *testing.T) {
	inner := newStore(t)
	const n = 40
	_, err := inner.Batch(context.Background(), kv.Commit{Message: "calendar"}, func(tx kv.Txn) error {
		if err := writeMeta(tx, "calendars/alice/cal", &meta{Calendar: true}); err != nil {
			return err
		}
		for i := range n {
			if err := tx.Put(fmt.Sprintf("calendars/alice/cal/%02d.ics", i), []byte(strings.Replace(event, "UID:u1", fmt.Sprintf("UID:u%d", i), 1))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	reads := &atomic.Int64{}
	h, err := New(Config{Store: countingStore{inner, reads}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/calendars/alice/cal/", nil)
	req.SetBasicAuth("alice", testUsers["alice"])
	w := &firstWrite{ResponseRecorder: httptest.NewRecorder(), reads: reads, atFirst: -1}
	h.ServeHTTP(w, req)
	body := w.Body.String()
	if w.Code != 200 || strings.Count(body, "BEGIN:VEVENT") != n || !strings.HasSuffix(body, "END:VCALENDAR\r\n") {
		t.Fatalf("GET: %d\n%s", w.Code, body)
	}
	if w.atFirst >= n {
		t.Errorf("the body began after all %d objects were read: the whole calendar was held in memory", w.atFirst)
	}
}
