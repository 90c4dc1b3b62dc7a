package caldav

import (
	"context"
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
				h.log.Warn("fetch failed", "err", err)
			} else if moved {
				h.log.Info("fetched new commits", "version", h.store.Version())
			}
		}
	}
}
