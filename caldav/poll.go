package caldav

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strings"
	"time"
)

// Poll fetches the remote every interval until ctx ends, so that changes
// pushed to git by others are served.
func (h *Handler) Poll(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if moved, err := h.store.Refresh(ctx); err != nil {
				h.m.fetchErrors.Inc()
				h.log.Warn("fetch failed", "err", err)
			} else if moved {
				h.log.Info("fetched new commits", "version", h.store.Version())
			}
		}
	}
}

// HookHandler serves a forge's push webhook: a request carrying secret
// (as Authorization: Bearer, X-Gitlab-Token or ?secret=) makes the
// handler fetch the remote at once. An empty secret turns it off.
func (h *Handler) HookHandler(secret string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if secret == "" {
			http.NotFound(w, r)
			return
		}
		got := r.URL.Query().Get("secret")
		if t := r.Header.Get("X-Gitlab-Token"); t != "" {
			got = t
		}
		if b, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			got = b
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(secret)) != 1 {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if _, err := h.store.Refresh(ctx); err != nil {
				h.m.fetchErrors.Inc()
				h.log.Warn("fetch on webhook", "err", err)
			}
		}()
		w.WriteHeader(http.StatusAccepted)
	})
}
