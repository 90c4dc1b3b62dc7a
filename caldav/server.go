package caldav

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quercus-dev/quercus/caldav/davxml"
	"github.com/quercus-dev/quercus/caldav/users"
	"github.com/quercus-dev/quercus/kv"
)

// Config configures a Handler. Only Store is required.
type Config struct {
	Store kv.Store
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// MaxResourceSize bounds a PUT body (max-resource-size); default 1 MiB.
	MaxResourceSize int64
	// MaxXMLSize bounds an XML request body; default 1 MiB.
	MaxXMLSize int64
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Limiter rate-limits failed logins; default 10 per minute per client.
	Limiter *users.Limiter
	// Registry receives the metrics; nil keeps them unregistered.
	Registry prometheus.Registerer
	// MaxExpandInstances bounds the recurrence instances that
	// calendar-data's expand makes in one calendar-query or multiget, all
	// objects together, and the periods of a free-busy-query (one an
	// instance); past it the REPORT is refused with
	// CALDAV:max-instances. Default 10,000: a daily event expanded over
	// 27 years, or 100 daily ones over a quarter, far beyond a calendar
	// view, and about 3 MB of iCalendar; it is the bound calquery puts on
	// one rule and expand-property on its lookups.
	MaxExpandInstances int
}

// Handler serves WebDAV and CalDAV over HTTP.
type Handler struct {
	cfg    Config
	store  kv.Store
	log    *slog.Logger
	m      *metrics
	cache  objectCache
	shares shareIndex
	uids   uidIndexes
	stamps stampCache
	// historyVersions bounds the commits a request's history walks
	// look at (times.go).
	historyVersions int

	mu      sync.Mutex
	dir     *users.Directory
	dirTags [2]string // digests of users/ and groups/ dir was loaded from

	lastLoginRefresh time.Time
}

// New returns a handler serving cfg.Store.
func New(cfg Config) (*Handler, error) {
	if cfg.Store == nil {
		return nil, errors.New("caldav: no store")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxResourceSize <= 0 {
		cfg.MaxResourceSize = 1 << 20
	}
	if cfg.MaxXMLSize <= 0 {
		cfg.MaxXMLSize = 1 << 20
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxExpandInstances <= 0 {
		cfg.MaxExpandInstances = 10000
	}
	if cfg.Limiter == nil {
		cfg.Limiter = &users.Limiter{Now: cfg.Now}
	}
	return &Handler{cfg: cfg, store: cfg.Store, log: cfg.Logger, m: newMetrics(cfg.Registry), historyVersions: historyVersions}, nil
}

// directory returns the users and groups at snap, reloading them when
// their folders changed.
func (h *Handler) directory(ctx context.Context, snap kv.Snapshot) (*users.Directory, error) {
	var tags [2]string
	for i, d := range []string{users.UsersDir, users.GroupsDir} {
		t, err := snap.Digest(ctx, d)
		if err != nil && !errors.Is(err, kv.ErrNotFound) {
			return nil, err
		}
		tags[i] = t
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.dir != nil && h.dirTags == tags {
		return h.dir, nil
	}
	d, err := users.Load(ctx, snap)
	if err != nil {
		return nil, err
	}
	for _, p := range d.Problems {
		h.log.Error("bad user or group file", "problem", p)
	}
	h.dir, h.dirTags = d, tags
	return d, nil
}

// request is one request being served.
type request struct {
	*http.Request
	w    http.ResponseWriter
	h    *Handler
	ctx  context.Context
	snap kv.Snapshot
	dir  *users.Directory
	user string
	// hist is what the history walks for getlastmodified and
	// creationdate spent; committed is the time of the request's commit.
	hist        historySpent
	wantCreated bool
	committed   time.Time
	// expandLookups counts an expand-property report's lookups;
	// expandLeft is how many more instances calendar-data's expand may
	// make (Config.MaxExpandInstances).
	expandLookups int
	expandLeft    int
}

// httpError is an answer other than success; Batch functions return it
// to abort with that answer.
type httpError struct {
	code int
	cond string // precondition element name, {ns}local in Clark form
	body string // encoded content of the precondition element
	msg  string
}

func (e *httpError) Error() string { return fmt.Sprintf("%d %s", e.code, e.msg) }

func errorf(code int, format string, args ...any) *httpError {
	return &httpError{code: code, msg: fmt.Sprintf(format, args...)}
}

// precondition is a failed DAV/CalDAV precondition.
func precondition(code int, space, local, body, msg string) *httpError {
	return &httpError{code: code, cond: "{" + space + "}" + local, body: body, msg: msg}
}

func (h *Handler) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	start := h.cfg.Now()
	w := &statusWriter{ResponseWriter: rw}
	defer func() {
		// A bug must cost one request, answered, not the connection.
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			h.log.Error("panic serving a request", "method", r.Method, "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
			if w.code == 0 {
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}
		h.m.observe(r.Method, w.code, start)
	}()
	w.Header().Set("Server", "quercus-caldav")
	if strings.TrimSuffix(r.URL.Path, "/") == "/.well-known/caldav" {
		http.Redirect(w, r, "/", http.StatusMovedPermanently)
		return
	}
	ctx := r.Context()
	snap, err := h.store.At(ctx, h.store.Version())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	dir, err := h.directory(ctx, snap)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rq := &request{Request: r, w: w, h: h, ctx: ctx, snap: snap, dir: dir, expandLeft: h.cfg.MaxExpandInstances}
	if !rq.authenticate() {
		return
	}
	if err := rq.serve(); err != nil {
		h.fail(w, r, err)
	}
}

// authenticate checks HTTP Basic credentials and answers 401 or 429
// when they do not pass.
func (r *request) authenticate() bool {
	client, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		client = r.RemoteAddr
	}
	lim := r.h.cfg.Limiter
	if !lim.Allow(client) {
		r.w.Header().Set("Retry-After", "60")
		http.Error(r.w, "too many failed logins", http.StatusTooManyRequests)
		return false
	}
	name, pass, ok := r.BasicAuth()
	if ok && r.dir.Authenticate(name, pass) {
		r.user = name
		return true
	}
	// A user just added or given a new password with git (quercus user)
	// may not have been fetched yet: fetch, at most every few seconds.
	if ok && r.h.refreshForLogin(r.ctx) {
		if snap, err := r.h.store.At(r.ctx, r.h.store.Version()); err == nil {
			if dir, err := r.h.directory(r.ctx, snap); err == nil && dir.Authenticate(name, pass) {
				r.snap, r.dir, r.user = snap, dir, name
				return true
			}
		}
	}
	if ok {
		lim.Fail(client)
		r.h.m.loginFailures.Inc()
		r.h.log.Warn("failed login", "user", name, "client", client)
	}
	r.w.Header().Set("WWW-Authenticate", `Basic realm="quercus caldav", charset="UTF-8"`)
	http.Error(r.w, "authentication required", http.StatusUnauthorized)
	return false
}

// fail answers err: an httpError as itself, an unreachable remote as 503.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var he *httpError
	switch {
	case errors.As(err, &he):
	case errors.Is(err, kv.ErrUnavailable), errors.Is(err, kv.ErrConflict):
		h.log.Error("store unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		h.m.unavailable.Inc()
		w.Header().Set("Retry-After", "5")
		he = errorf(http.StatusServiceUnavailable, "storage unavailable, nothing was changed")
	case errors.Is(err, context.Canceled):
		return
	default:
		h.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		he = errorf(http.StatusInternalServerError, "internal error")
	}
	if he.cond == "" {
		http.Error(w, he.msg, he.code)
		return
	}
	h.m.rejected.WithLabelValues(condition(he.cond)).Inc()
	h.log.Info("precondition failed", "method", r.Method, "path", r.URL.Path, "condition", condition(he.cond), "why", he.msg)
	space, local, _ := strings.Cut(strings.TrimPrefix(he.cond, "{"), "}")
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(he.code)
	w.Write(davxml.ErrorBody(davxml.Name(space, local), he.body))
}

func (r *request) serve() error {
	switch r.Method {
	case http.MethodOptions:
		return r.options()
	case "PROPFIND":
		return r.propfind()
	case "PROPPATCH":
		return r.proppatch()
	case http.MethodGet, http.MethodHead:
		return r.get()
	case http.MethodPut:
		return r.put()
	case http.MethodDelete:
		return r.delete()
	case "MKCOL":
		return r.mkcol(false)
	case "MKCALENDAR":
		return r.mkcol(true)
	case "COPY", "MOVE":
		return r.copyMove(r.Method == "MOVE")
	case "REPORT":
		return r.report()
	case http.MethodPost:
		return errorf(http.StatusMethodNotAllowed, "POST is not supported")
	case "LOCK", "UNLOCK":
		return errorf(http.StatusNotImplemented, "locking is not supported")
	}
	return errorf(http.StatusNotImplemented, "method %s is not supported", r.Method)
}

const allowed = "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, MKCOL, MKCALENDAR, COPY, MOVE, REPORT"

func (r *request) options() error {
	r.w.Header().Set("DAV", "1, 3, calendar-access, extended-mkcol")
	r.w.Header().Set("Allow", allowed)
	r.w.Header().Set("Content-Length", "0")
	r.w.WriteHeader(http.StatusOK)
	return nil
}

// commit describes a write by the request's user.
func (r *request) commit() kv.Commit {
	email := r.user + "@caldav.invalid"
	if u := r.dir.User(r.user); u != nil && u.Email != "" {
		email = u.Email
	}
	msg := r.Method + " " + r.URL.Path
	if ua := r.UserAgent(); ua != "" {
		msg += "\n\nUser-Agent: " + strings.Map(func(c rune) rune {
			if c < ' ' {
				return ' '
			}
			return c
		}, ua)
	}
	r.committed = r.h.cfg.Now()
	return kv.Commit{Author: kv.Signature{Name: r.user, Email: email, Time: r.committed}, Message: msg}
}

// batch runs fn as one commit and returns the new version.
func (r *request) batch(fn func(kv.Txn) error) (string, error) {
	return r.h.store.Batch(r.ctx, r.commit(), fn)
}

// refreshForLogin fetches the remote after a failed login, unless it did
// so within the last 5 seconds, and reports whether the head moved.
func (h *Handler) refreshForLogin(ctx context.Context) bool {
	h.mu.Lock()
	now := h.cfg.Now()
	if now.Sub(h.lastLoginRefresh) < 5*time.Second {
		h.mu.Unlock()
		return false
	}
	h.lastLoginRefresh = now
	h.mu.Unlock()
	moved, err := h.store.Refresh(ctx)
	if err != nil {
		h.m.fetchErrors.Inc()
		h.log.Warn("fetch after a failed login", "err", err)
	}
	return moved
}
