package primary_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/quercus-dev/quercus/dns/primary"
	"github.com/quercus-dev/quercus/dns/primary/primarytest"
	"github.com/quercus-dev/quercus/kv/mem"
)

func TestGitHook(t *testing.T) {
	store := mem.New()
	write(t, store, "example.com", goodZone)
	p, err := primary.New(ctx, primary.Config{Store: store, HookSecret: "s3cret", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	h := p.HookHandler()
	tests := []struct {
		name   string
		url    string
		header [2]string
		want   int
	}{
		{"no secret", "/git-hook", [2]string{}, http.StatusForbidden},
		{"wrong secret", "/git-hook?secret=nope", [2]string{}, http.StatusForbidden},
		{"query secret", "/git-hook?secret=s3cret", [2]string{}, http.StatusAccepted},
		{"bearer", "/git-hook", [2]string{"Authorization", "Bearer s3cret"}, http.StatusAccepted},
		{"gitlab header", "/git-hook", [2]string{"X-Gitlab-Token", "s3cret"}, http.StatusAccepted},
	}
	for _, tc := range tests {
		req := httptest.NewRequest("POST", tc.url, strings.NewReader("{}"))
		if tc.header[0] != "" {
			req.Header.Set(tc.header[0], tc.header[1])
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, rec.Code, tc.want)
		}
	}

	// Without a configured secret the hook does not exist.
	p2, _ := primary.New(ctx, primary.Config{Store: store, Logger: slog.New(slog.DiscardHandler)})
	rec := httptest.NewRecorder()
	p2.HookHandler().ServeHTTP(rec, httptest.NewRequest("POST", "/git-hook?secret=", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("hook without secret: %d, want 404", rec.Code)
	}

	// An accepted hook makes the serving loop load the new head.
	primarytest.Serve(t, p)
	write(t, store, "example.com", strings.Replace(strings.Replace(goodZone, "192.0.2.1", "192.0.2.42", 1), "hostmaster 1", "hostmaster 2", 1))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/git-hook?secret=s3cret", nil))
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if got := lookup(p, "www.example.com.", 1); len(got) == 1 && strings.Contains(got[0], "192.0.2.42") {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the hook did not bring the new zone in")
}
