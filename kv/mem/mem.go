package mem

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/quercus-dev/quercus/kv"
)

// Store is an in-memory kv.Store. The zero value is not usable; call New.
type Store struct {
	now func() time.Time

	wmu sync.Mutex // serializes writers; held across a Batch's fn

	mu       sync.RWMutex // guards the fields below
	versions []*version   // index i holds version strconv.Itoa(i+1)
	failErr  error
	closed   bool
}

type version struct {
	id     string
	parent *version
	files  map[string][]byte
	rev    kv.Revision
}

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock used to stamp commits that carry no time.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// New returns an empty store.
func New(opts ...Option) *Store {
	s := &Store{now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// FailWrites makes every following Batch fail with an error wrapping
// kv.ErrUnavailable and err, as a git store does when its remote is gone;
// nil restores normal operation.
func (s *Store) FailWrites(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failErr = err
}

func (s *Store) head() *version {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.versions) == 0 {
		return &version{files: map[string][]byte{}}
	}
	return s.versions[len(s.versions)-1]
}

func (s *Store) Version() string { return s.head().id }

func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	return s.head().Get(ctx, key)
}

func (s *Store) List(ctx context.Context, prefix string) ([]kv.Entry, error) {
	return s.head().List(ctx, prefix)
}

func (s *Store) Digest(ctx context.Context, key string) (string, error) {
	return s.head().Digest(ctx, key)
}

func (s *Store) lookup(id string) (*version, error) {
	if id == "" {
		return &version{files: map[string][]byte{}}, nil
	}
	n, err := strconv.Atoi(id)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err != nil || n < 1 || n > len(s.versions) {
		return nil, fmt.Errorf("%w: %q", kv.ErrUnknownVersion, id)
	}
	return s.versions[n-1], nil
}

func (s *Store) At(ctx context.Context, id string) (kv.Snapshot, error) {
	return s.lookup(id)
}

func (s *Store) Batch(ctx context.Context, c kv.Commit, fn func(kv.Txn) error) (string, error) {
	// Readers never wait for fn: they read immutable versions.
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.RLock()
	closed, failErr := s.closed, s.failErr
	s.mu.RUnlock()
	if closed {
		return "", kv.ErrClosed
	}
	base := s.head()
	t := &txn{base: base.files, writes: map[string][]byte{}, cur: map[string][]byte{}}
	if err := fn(t); err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	parts := t.parts
	if len(t.cur) > 0 {
		parts = append(parts, part{t.cur, c})
	}
	var made []*version
	prev := base
	for _, p := range parts {
		files, changed := apply(prev.files, p.writes)
		if !changed {
			continue
		}
		author := p.commit.Author
		if author.Time.IsZero() {
			author.Time = s.now()
		}
		v := &version{files: files, parent: prev}
		if prev == base && base.id == "" {
			v.parent = nil // the empty store is no version
		}
		v.rev = kv.Revision{Author: author, Message: p.commit.Message}
		made = append(made, v)
		prev = v
	}
	if len(made) == 0 {
		return base.id, nil
	}
	if failErr != nil {
		return "", fmt.Errorf("%w: %w", kv.ErrUnavailable, failErr)
	}
	s.mu.Lock()
	for _, v := range made {
		v.id = strconv.Itoa(len(s.versions) + 1)
		v.rev.Version = v.id
		s.versions = append(s.versions, v)
	}
	s.mu.Unlock()
	return prev.id, nil
}

// apply returns files with writes applied (nil deletes) and whether that
// changed anything.
func apply(files, writes map[string][]byte) (map[string][]byte, bool) {
	out := maps.Clone(files)
	changed := false
	for k, v := range writes {
		old, had := out[k]
		switch {
		case v == nil && had:
			delete(out, k)
			changed = true
		case v != nil && (!had || string(old) != string(v)):
			out[k] = v
			changed = true
		}
	}
	return out, changed
}

func (s *Store) Changes(ctx context.Context, from, to string) ([]kv.Change, error) {
	a, err := s.lookup(from)
	if err != nil {
		return nil, err
	}
	b, err := s.lookup(to)
	if err != nil {
		return nil, err
	}
	return diff(a.files, b.files), nil
}

// History is WalkHistory with only a Limit.
func (s *Store) History(ctx context.Context, key string, limit int) ([]kv.Revision, error) {
	p, err := s.WalkHistory(ctx, key, kv.HistoryOptions{Limit: limit})
	return p.Revisions, err
}

func (s *Store) WalkHistory(ctx context.Context, key string, opt kv.HistoryOptions) (kv.HistoryPage, error) {
	var page kv.HistoryPage
	if err := kv.CheckKey(key); err != nil {
		return page, err
	}
	v := s.head()
	if opt.From != "" {
		var err error
		if v, err = s.lookup(opt.From); err != nil {
			return page, err
		}
	}
	for ; v != nil && v.id != ""; v = v.parent {
		if opt.Limit > 0 && len(page.Revisions) == opt.Limit || opt.MaxVersions > 0 && page.Walked == opt.MaxVersions {
			page.Next = v.id
			return page, nil
		}
		if err := ctx.Err(); err != nil {
			return kv.HistoryPage{}, err
		}
		page.Walked++
		var before map[string][]byte
		if v.parent != nil {
			before = v.parent.files
		}
		old, had := before[key]
		cur, has := v.files[key]
		if had == has && string(old) == string(cur) {
			continue
		}
		rev := v.rev
		switch {
		case !had:
			rev.Op = kv.Added
		case !has:
			rev.Op = kv.Deleted
		default:
			rev.Op = kv.Modified
		}
		page.Revisions = append(page.Revisions, rev)
	}
	return page, nil
}

// Refresh has nothing to fetch: every writer shares this store.
func (s *Store) Refresh(ctx context.Context) (bool, error) { return false, nil }

func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

func (v *version) Version() string { return v.id }

func (v *version) Get(_ context.Context, key string) ([]byte, error) {
	if err := kv.CheckKey(key); err != nil {
		return nil, err
	}
	b, ok := v.files[key]
	if !ok {
		return nil, kv.NotFound(key)
	}
	return slices.Clone(b), nil
}

func (v *version) List(_ context.Context, prefix string) ([]kv.Entry, error) {
	if err := kv.CheckPrefix(prefix); err != nil {
		return nil, err
	}
	return list(v.files, nil, prefix), nil
}

func (v *version) Digest(_ context.Context, key string) (string, error) {
	if err := kv.CheckPrefix(key); err != nil {
		return "", err
	}
	if b, ok := v.files[key]; ok {
		return hash(b), nil
	}
	entries := list(v.files, nil, key)
	if len(entries) == 0 && key != "" {
		return "", kv.NotFound(key)
	}
	h := sha256.New()
	for _, e := range entries {
		// Relative names: equal folders hash equally wherever they are.
		rel := strings.TrimPrefix(e.Key, key)
		fmt.Fprintf(h, "%s\x00%s\n", rel, e.Digest)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// txn buffers writes over an immutable base; nil in writes is a delete.
type txn struct {
	base   map[string][]byte
	writes map[string][]byte // every write, for reads
	cur    map[string][]byte // writes since the last Split
	parts  []part
}

// part is the writes of one version of a batch.
type part struct {
	writes map[string][]byte
	commit kv.Commit
}

func (t *txn) Split(c kv.Commit) {
	if len(t.cur) > 0 {
		t.parts = append(t.parts, part{t.cur, c})
		t.cur = map[string][]byte{}
	}
}

func (t *txn) stage(key string, data []byte) {
	t.writes[key] = data
	t.cur[key] = data
}

func (t *txn) Get(key string) ([]byte, error) {
	if err := kv.CheckKey(key); err != nil {
		return nil, err
	}
	if b, ok := t.writes[key]; ok {
		if b == nil {
			return nil, kv.NotFound(key)
		}
		return slices.Clone(b), nil
	}
	if b, ok := t.base[key]; ok {
		return slices.Clone(b), nil
	}
	return nil, kv.NotFound(key)
}

func (t *txn) List(prefix string) ([]kv.Entry, error) {
	if err := kv.CheckPrefix(prefix); err != nil {
		return nil, err
	}
	return list(t.base, t.writes, prefix), nil
}

func (t *txn) Put(key string, data []byte) error {
	if err := kv.CheckKey(key); err != nil {
		return err
	}
	if err := t.checkShape(key); err != nil {
		return err
	}
	if data == nil {
		data = []byte{}
	}
	t.stage(key, slices.Clone(data))
	return nil
}

// checkShape refuses a file where a folder is, or below a file, as git
// trees cannot hold both.
func (t *txn) checkShape(key string) error {
	if len(list(t.base, t.writes, key)) > 0 {
		return &kv.KeyError{Key: key, Reason: "is a folder"}
	}
	for i := range key {
		if key[i] == '/' {
			if _, err := t.Get(key[:i]); err == nil {
				return &kv.KeyError{Key: key, Reason: "parent " + key[:i] + " is a file"}
			}
		}
	}
	return nil
}

func (t *txn) Delete(key string) error {
	if err := kv.CheckKey(key); err != nil {
		return err
	}
	if _, err := t.Get(key); err != nil {
		return err
	}
	t.stage(key, nil)
	return nil
}

func list(base, writes map[string][]byte, prefix string) []kv.Entry {
	var out []kv.Entry
	add := func(k string, b []byte) {
		if kv.Under(k, prefix) {
			out = append(out, kv.Entry{Key: k, Digest: hash(b), Size: int64(len(b))})
		}
	}
	for k, b := range base {
		if w, ok := writes[k]; ok {
			b = w
		}
		if b != nil {
			add(k, b)
		}
	}
	for k, b := range writes {
		if _, ok := base[k]; !ok && b != nil {
			add(k, b)
		}
	}
	slices.SortFunc(out, func(a, b kv.Entry) int { return strings.Compare(a.Key, b.Key) })
	return out
}

func diff(a, b map[string][]byte) []kv.Change {
	var out []kv.Change
	for k, old := range a {
		cur, ok := b[k]
		switch {
		case !ok:
			out = append(out, kv.Change{Key: k, Op: kv.Deleted})
		case string(old) != string(cur):
			out = append(out, kv.Change{Key: k, Op: kv.Modified})
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, kv.Change{Key: k, Op: kv.Added})
		}
	}
	slices.SortFunc(out, func(x, y kv.Change) int { return strings.Compare(x.Key, y.Key) })
	return out
}

func hash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

var _ kv.Store = (*Store)(nil)
