package caldav

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quercus-dev/quercus/caldav/users"
	"github.com/quercus-dev/quercus/internal/peer"
	"github.com/quercus-dev/quercus/kv"
	kvgit "github.com/quercus-dev/quercus/kv/git"
)

// BenchmarkListLastModified: a Depth 1 PROPFIND asking getlastmodified
// of a calendar of benchEvents events, each added by a commit of its
// own, on a git remote, by a server that knows no stamps yet (the worst
// case: history walks up to historyWalks and historyVersions). dated/op
// is how many members got their getlastmodified, commits/op how many
// commits the walks looked at, ns/commit what each cost.
func BenchmarkListLastModified(b *testing.B) {
	peer.Require(b, "git")
	remote := filepath.Join(b.TempDir(), "cal.git")
	if out, err := exec.Command("git", "init", "-q", "--bare", "--initial-branch=main", remote).CombinedOutput(); err != nil {
		b.Fatalf("git init: %v %s", err, out)
	}
	var in bytes.Buffer
	commit := func(i int, files map[string][]byte) {
		fmt.Fprintf(&in, "commit refs/heads/main\ncommitter B <b@example.org> %d +0000\ndata 1\nx\n", 1700000000+i)
		for k, v := range files {
			fmt.Fprintf(&in, "M 100644 inline %s\ndata %d\n%s\n", k, len(v), v)
		}
	}
	commit(0, map[string][]byte{users.UserKey("alice"): testUserFiles()["alice"], "calendars/alice/cal/" + metaFile: (&meta{Calendar: true}).Encode()})
	for i := 1; i <= benchEvents; i++ {
		commit(i, map[string][]byte{fmt.Sprintf("calendars/alice/cal/%d.ics", i): []byte(strings.Replace(event, "UID:u1", fmt.Sprintf("UID:e%d", i), 1))})
	}
	cmd := exec.Command("git", "fast-import", "--quiet")
	cmd.Dir, cmd.Stdin = remote, &in
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("git fast-import: %v\n%s", err, out)
	}
	store, err := kvgit.Open(context.Background(), kvgit.Config{Remote: remote, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	walks := &walkTimer{Store: store}
	for _, prop := range []string{"getetag", "getlastmodified"} {
		b.Run(prop, func(b *testing.B) {
			body := `<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><D:` + prop + `/></D:prop></D:propfind>`
			dated := 0
			walks.walked, walks.took = 0, 0
			for b.Loop() {
				h, err := New(Config{Store: walks, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
				if err != nil {
					b.Fatal(err)
				}
				req := httptest.NewRequest("PROPFIND", "/calendars/alice/cal/", strings.NewReader(body))
				req.SetBasicAuth("alice", testUsers["alice"])
				req.Header.Set("Depth", "1")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusMultiStatus {
					b.Fatalf("PROPFIND: %d", w.Code)
				}
				dated += strings.Count(w.Body.String(), "<D:getlastmodified>")
			}
			b.ReportMetric(float64(dated)/float64(b.N), "dated/op")
			b.ReportMetric(float64(walks.walked)/float64(b.N), "commits/op")
			if walks.walked > 0 {
				b.ReportMetric(float64(walks.took)/float64(walks.walked), "ns/commit")
			}
		})
	}
}

// walkTimer counts the commits the history walks look at and the time
// they take.
type walkTimer struct {
	kv.Store
	walked int
	took   time.Duration
}

func (w *walkTimer) WalkHistory(ctx context.Context, key string, opt kv.HistoryOptions) (kv.HistoryPage, error) {
	start := time.Now()
	p, err := w.Store.WalkHistory(ctx, key, opt)
	w.took += time.Since(start)
	w.walked += p.Walked
	return p, err
}
