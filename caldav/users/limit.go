package users

import (
	"sync"
	"time"
)

// Limiter counts failed logins per client and refuses a client that
// failed too often within a window, before its password is checked.
type Limiter struct {
	// Max failures allowed per Window; default 10 per minute.
	Max    int
	Window time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time

	mu    sync.Mutex
	fails map[string]*failures
}

type failures struct {
	n     int
	start time.Time
}

func (l *Limiter) params() (int, time.Duration, time.Time) {
	max, win, now := l.Max, l.Window, time.Now
	if max <= 0 {
		max = 10
	}
	if win <= 0 {
		win = time.Minute
	}
	if l.Now != nil {
		now = l.Now
	}
	return max, win, now()
}

// Allow reports whether client may try to log in now.
func (l *Limiter) Allow(client string) bool {
	max, win, now := l.params()
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.fails[client]
	if f == nil || now.Sub(f.start) >= win {
		return true
	}
	return f.n < max
}

// Fail records a failed login by client.
func (l *Limiter) Fail(client string) {
	_, win, now := l.params()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fails == nil {
		l.fails = map[string]*failures{}
	}
	if len(l.fails) > 100000 { // bound memory under a spray of addresses
		for k, f := range l.fails {
			if now.Sub(f.start) >= win {
				delete(l.fails, k)
			}
		}
	}
	f := l.fails[client]
	if f == nil || now.Sub(f.start) >= win {
		f = &failures{start: now}
		l.fails[client] = f
	}
	f.n++
}
