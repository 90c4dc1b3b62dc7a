package caldav

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/quercus-dev/quercus/kv"
)

// BenchmarkPut: PUTs of new events into a calendar of benchEvents on a git
// remote, each one commit pushed.
func BenchmarkPut(b *testing.B) {
	store, _ := newGitStore(b)
	_, err := store.Batch(context.Background(), kv.Commit{Message: "calendar"}, func(tx kv.Txn) error {
		if err := writeMeta(tx, "calendars/alice/cal", &meta{Calendar: true}); err != nil {
			return err
		}
		for i := range benchEvents {
			if err := tx.Put(fmt.Sprintf("calendars/alice/cal/%d.ics", i), []byte(strings.Replace(event, "UID:u1", fmt.Sprintf("UID:e%d", i), 1))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	srv := serve(b, store)
	b.ResetTimer()
	for i := range b.N {
		req, _ := http.NewRequest("PUT", fmt.Sprintf("%s/calendars/alice/cal/new-%d.ics", srv.URL, i),
			strings.NewReader(strings.Replace(event, "UID:u1", fmt.Sprintf("UID:new%d", i), 1)))
		req.SetBasicAuth("alice", testUsers["alice"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			b.Fatalf("PUT: %d", resp.StatusCode)
		}
	}
}

// benchEvents is the size of the calendars benchmarks start from.
const benchEvents = 2000
