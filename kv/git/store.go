package git

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/filesystem/dotgit"

	"github.com/quercus-dev/quercus/kv"
)

// Config says which remote to open and how. The zero value of every field
// but Remote works.
type Config struct {
	// Remote is the repository: a local path, file://, ssh://, user@host:path,
	// http:// or https://, optionally followed by #branch. Without a branch
	// the remote's default branch is used ("main" for an empty remote).
	Remote string
	// Auth authenticates to the remote; see AuthFromEnv. Nil for none.
	Auth transport.AuthMethod
	// Committer signs commits as committer; the zero value uses the author.
	Committer kv.Signature
	// Retries bounds how often a batch is re-run after the remote moved
	// under it. Default 10.
	Retries int
	// Timeout bounds each network operation. Default 60s.
	Timeout time.Duration
	// Now is the clock for commits that carry no time. Default time.Now.
	Now func() time.Time
	// Logger receives one line per fetch that moved the head and per
	// retried push. Default slog.Default().
	Logger *slog.Logger
}

// Store is a kv.Store on a git remote.
type Store struct {
	cfg    Config
	url    string
	branch plumbing.ReferenceName
	st     *lockedStorage
	obj    *objects
	remote *gogit.Remote

	// writer serializes Batch and Refresh, which move head: a one-slot
	// channel rather than a mutex, so that waiting for it heeds ctx.
	writer chan struct{}
	head   atomic.Pointer[snapshot]
	closed atomic.Bool
}

var _ kv.Store = (*Store)(nil)

// SplitRemote splits "URL#branch" into its parts.
func SplitRemote(remote string) (url, branch string) {
	url, branch, _ = strings.Cut(remote, "#")
	return url, branch
}

// Open clones cfg.Remote into memory.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	url, branch := SplitRemote(cfg.Remote)
	if url == "" {
		return nil, errNoRemote
	}
	url, err := fileURL(url)
	if err != nil {
		return nil, err
	}
	if cfg.Retries <= 0 {
		cfg.Retries = 10
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	st := newStorage()
	remote := gogit.NewRemote(st, &config.RemoteConfig{Name: "origin", URLs: []string{url}})
	s := &Store{cfg: cfg, url: url, st: st, obj: newObjects(st), remote: remote, writer: make(chan struct{}, 1)}
	if branch == "" {
		var err error
		if branch, err = s.defaultBranch(ctx); err != nil {
			return nil, err
		}
	}
	s.branch = plumbing.NewBranchReferenceName(branch)
	head, err := s.fetch(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.moveTo(head); err != nil {
		return nil, err
	}
	s.compact(plumbing.ZeroHash, head)
	s.st.objs.idle(0)
	return s, nil
}

// lock waits for the writer's slot, or for ctx to end.
func (s *Store) lock(ctx context.Context) error {
	select {
	case s.writer <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Store) unlock() { <-s.writer }

// fileURL turns a plain path into a file:// URL. go-git pushes to a plain
// path by walking everything the remote holds (its "local" shortcut),
// which grows with the history; to a file:// URL it sends what the
// remote lacks, as over the network.
func fileURL(remote string) (string, error) {
	ep, err := transport.NewEndpoint(remote)
	if err != nil || ep.Protocol != "file" || strings.HasPrefix(remote, "file://") {
		return remote, nil
	}
	abs, err := filepath.Abs(remote)
	if err != nil {
		return "", fmt.Errorf("git: remote %s: %w", remote, err)
	}
	return "file://" + abs, nil
}

// Branch returns the branch the store follows.
func (s *Store) Branch() string { return s.branch.Short() }

func (s *Store) defaultBranch(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	refs, err := s.remote.ListContext(ctx, &gogit.ListOptions{Auth: s.cfg.Auth})
	if errors.Is(err, transport.ErrEmptyRemoteRepository) {
		return "main", nil
	}
	if err != nil {
		return "", s.remoteErr("list", err)
	}
	var heads []string
	for _, r := range refs {
		if r.Name() == plumbing.HEAD && r.Type() == plumbing.SymbolicReference {
			return r.Target().Short(), nil
		}
		if r.Name().IsBranch() {
			heads = append(heads, r.Name().Short())
		}
	}
	// Servers that do not advertise HEAD's target: prefer main, then master.
	for _, b := range []string{"main", "master"} {
		if slices.Contains(heads, b) {
			return b, nil
		}
	}
	if len(heads) > 0 {
		return heads[0], nil
	}
	return "main", nil
}

// RemoteError reports a failed network operation; it wraps
// kv.ErrUnavailable and the transport's error.
type RemoteError struct {
	Op  string // list, fetch or push
	URL string
	Err error
}

func (e *RemoteError) Error() string {
	return fmt.Sprintf("git %s %s: %v", e.Op, redact(e.URL), e.Err)
}

func (e *RemoteError) Unwrap() []error { return []error{kv.ErrUnavailable, e.Err} }

func (s *Store) remoteErr(op string, err error) error {
	return &RemoteError{Op: op, URL: s.url, Err: err}
}

// fetch updates the remote-tracking view and returns the remote's head
// (zero for an empty remote). It does not move s.head.
func (s *Store) fetch(ctx context.Context) (plumbing.Hash, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	tracking := plumbing.NewRemoteReferenceName("origin", s.branch.Short())
	spec := config.RefSpec(fmt.Sprintf("+%s:%s", s.branch, tracking))
	var err error
	for range 3 {
		err = s.remote.FetchContext(ctx, &gogit.FetchOptions{
			RefSpecs: []config.RefSpec{spec},
			Auth:     s.cfg.Auth,
			Tags:     gogit.NoTags,
		})
		// go-git serving a local remote reads every file below refs/,
		// and finds a lock another writer has just created empty.
		if !errors.Is(err, dotgit.ErrEmptyRefFile) {
			break
		}
	}
	switch {
	case err == nil, errors.Is(err, gogit.NoErrAlreadyUpToDate):
	case errors.Is(err, transport.ErrEmptyRemoteRepository), isMissingRef(err):
		return plumbing.ZeroHash, nil
	default:
		return plumbing.ZeroHash, s.remoteErr("fetch", err)
	}
	ref, err := s.st.Reference(tracking)
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return plumbing.ZeroHash, nil
	}
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return ref.Hash(), nil
}

// isMissingRef recognizes a fetch of a branch the remote does not have
// yet, which an empty branch of a non-empty repository is.
func isMissingRef(err error) bool {
	var noMatch gogit.NoMatchingRefSpecError
	return errors.As(err, &noMatch)
}

// moveTo makes commit the head. The zero hash is the empty store.
func (s *Store) moveTo(commit plumbing.Hash) error {
	if commit.IsZero() {
		s.head.Store(&snapshot{obj: s.obj})
		return nil
	}
	snap, err := s.snapshotAt(commit)
	if err != nil {
		return err
	}
	old := s.head.Swap(snap)
	if old != nil {
		s.compact(old.commit, commit)
	}
	return nil
}

// maxCompactWalk bounds how many commits compact follows back.
const maxCompactWalk = 100_000

// compact keeps the trees of the commits from from (exclusive, zero for
// the start of history) to to, along to's first parents, as deltas
// against the trees that replaced them (objectStore.retire), oldest
// first so that each delta's base is still whole. If from is not on
// that path, from's tree is retired against to's.
func (s *Store) compact(from, to plumbing.Hash) {
	if from == to {
		return
	}
	var roots []plumbing.Hash // newest first
	found := false
	for h := to; !h.IsZero() && len(roots) < maxCompactWalk; {
		c, err := s.commit(h)
		if err != nil {
			break
		}
		roots = append(roots, c.TreeHash)
		if len(c.ParentHashes) == 0 {
			break
		}
		if h = c.ParentHashes[0]; h == from {
			found = true
			if c, err := s.commit(from); err == nil {
				roots = append(roots, c.TreeHash)
			}
			break
		}
	}
	if !found && !from.IsZero() {
		fc, err := s.commit(from)
		if err != nil || len(roots) == 0 {
			return
		}
		roots = []plumbing.Hash{roots[0], fc.TreeHash}
	}
	for i := len(roots) - 1; i > 0; i-- {
		if err := s.st.objs.retire(roots[i], roots[i-1]); err != nil {
			s.cfg.Logger.Warn("git: compacting history", "err", err)
			return
		}
	}
}

func (s *Store) snapshotAt(commit plumbing.Hash) (*snapshot, error) {
	c, err := s.commit(commit)
	if err != nil {
		return nil, err
	}
	return &snapshot{obj: s.obj, commit: commit, root: c.TreeHash}, nil
}

func (s *Store) commit(h plumbing.Hash) (*object.Commit, error) {
	obj, err := s.st.EncodedObject(plumbing.CommitObject, h)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", kv.ErrUnknownVersion, h)
	}
	var c object.Commit
	if err := c.Decode(obj); err != nil {
		return nil, err
	}
	return &c, nil
}

func (s *Store) Version() string { return s.head.Load().Version() }

func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	return s.head.Load().Get(ctx, key)
}

func (s *Store) List(ctx context.Context, prefix string) ([]kv.Entry, error) {
	return s.head.Load().List(ctx, prefix)
}

func (s *Store) Digest(ctx context.Context, key string) (string, error) {
	return s.head.Load().Digest(ctx, key)
}

func (s *Store) At(ctx context.Context, version string) (kv.Snapshot, error) {
	h, err := parseVersion(version)
	if err != nil {
		return nil, err
	}
	if h.IsZero() {
		return &snapshot{obj: s.obj}, nil
	}
	return s.snapshotAt(h)
}

func parseVersion(v string) (plumbing.Hash, error) {
	if v == "" {
		return plumbing.ZeroHash, nil
	}
	if !plumbing.IsHash(v) {
		return plumbing.ZeroHash, fmt.Errorf("%w: %q", kv.ErrUnknownVersion, v)
	}
	return plumbing.NewHash(v), nil
}

// Refresh fetches and moves the view to the remote's head.
func (s *Store) Refresh(ctx context.Context) (bool, error) {
	if s.closed.Load() {
		return false, kv.ErrClosed
	}
	if err := s.lock(ctx); err != nil {
		return false, err
	}
	defer s.unlock()
	defer s.st.objs.idle(minSqueeze)
	remote, err := s.fetch(ctx)
	if err != nil {
		return false, err
	}
	old := s.head.Load().commit
	if remote == old {
		return false, nil
	}
	if err := s.moveTo(remote); err != nil {
		return false, err
	}
	s.cfg.Logger.Debug("git: head moved", "remote", redact(s.url), "from", short(old), "to", short(remote))
	return true, nil
}

func (s *Store) Batch(ctx context.Context, c kv.Commit, fn func(kv.Txn) error) (string, error) {
	if s.closed.Load() {
		return "", kv.ErrClosed
	}
	if err := s.lock(ctx); err != nil {
		return "", err
	}
	defer s.unlock()
	defer s.st.objs.idle(minSqueeze)
	for attempt := 0; ; attempt++ {
		base := s.head.Load()
		t := newTxn(base)
		if err := fn(t); err != nil {
			return "", err
		}
		if err := ctx.Err(); err != nil {
			return "", err
		}
		commit, root := base.commit, base.root
		for _, p := range t.commits(c) {
			next, err := s.obj.write(root, p.edits)
			if err != nil {
				return "", err
			}
			if next == root {
				continue // no net change in this part
			}
			if commit, err = s.writeCommit(commit, next, p.commit); err != nil {
				return "", err
			}
			root = next
		}
		if commit == base.commit {
			return base.Version(), nil
		}
		pushErr := s.push(ctx, commit, base.commit)
		if pushErr == nil {
			return commit.String(), s.moveTo(commit)
		}
		// Learn why the push failed: lost answer, moved remote, or a
		// remote we cannot reach. The view moves only to what the
		// remote really holds. The caller's deadline may be what ended
		// the push, and the push may still have landed: ask anyway.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.Timeout)
		remote, err := s.fetch(fctx)
		cancel()
		if err != nil {
			s.cfg.Logger.Warn("git: push failed and the remote cannot be asked whether it landed", "remote", redact(s.url), "commit", short(commit), "err", err)
			return "", pushErr
		}
		// The push may have landed and another writer built on it before
		// we fetched: our commit is then behind the remote's head, and
		// running fn again would apply the change twice.
		landed, err := s.reaches(remote, commit, base.commit)
		if err != nil {
			return "", err
		}
		if landed {
			return commit.String(), s.moveTo(remote)
		}
		if remote == base.commit {
			return "", pushErr
		}
		if err := s.moveTo(remote); err != nil {
			return "", err
		}
		if attempt+1 >= s.cfg.Retries {
			return "", fmt.Errorf("%w: gave up after %d attempts: %v", kv.ErrConflict, attempt+1, pushErr)
		}
		s.cfg.Logger.Debug("git: remote moved during push, retrying", "remote", redact(s.url), "attempt", attempt+1)
		// A random pause lets writers on other instances that keep
		// winning the race finish, instead of colliding in lock step.
		select {
		case <-time.After(time.Duration(rand.Int64N(int64(attempt+1) * int64(10*time.Millisecond)))):
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// reaches reports whether commit is head or one of its ancestors. The
// walk does not go past stop, commit's parent: commit cannot lie behind
// its own parent.
func (s *Store) reaches(head, commit, stop plumbing.Hash) (bool, error) {
	seen := map[plumbing.Hash]bool{}
	for queue := []plumbing.Hash{head}; len(queue) > 0; {
		h := queue[0]
		queue = queue[1:]
		if h == commit {
			return true, nil
		}
		if h.IsZero() || h == stop || seen[h] {
			continue
		}
		seen[h] = true
		c, err := s.commit(h)
		if err != nil {
			return false, err
		}
		queue = append(queue, c.ParentHashes...)
	}
	return false, nil
}

func (s *Store) writeCommit(parent, root plumbing.Hash, c kv.Commit) (plumbing.Hash, error) {
	author := c.Author
	if author.Time.IsZero() {
		author.Time = s.cfg.Now()
	}
	committer := s.cfg.Committer
	if committer.Name == "" {
		committer = author
	}
	if committer.Time.IsZero() {
		committer.Time = author.Time
	}
	if root.IsZero() {
		// Deleting every file still needs a tree: the empty one.
		obj := s.st.NewEncodedObject()
		if err := (&object.Tree{}).Encode(obj); err != nil {
			return plumbing.ZeroHash, err
		}
		var err error
		if root, err = s.st.SetEncodedObject(obj); err != nil {
			return plumbing.ZeroHash, err
		}
	}
	msg := c.Message
	if !strings.HasSuffix(msg, "\n") {
		msg += "\n"
	}
	commit := &object.Commit{
		Author:    object.Signature{Name: author.Name, Email: author.Email, When: author.Time},
		Committer: object.Signature{Name: committer.Name, Email: committer.Email, When: committer.Time},
		Message:   msg,
		TreeHash:  root,
	}
	if !parent.IsZero() {
		commit.ParentHashes = []plumbing.Hash{parent}
	}
	obj := s.st.NewEncodedObject()
	if err := commit.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return s.st.SetEncodedObject(obj)
}

func (s *Store) Changes(ctx context.Context, from, to string) ([]kv.Change, error) {
	a, err := s.rootOf(from)
	if err != nil {
		return nil, err
	}
	b, err := s.rootOf(to)
	if err != nil {
		return nil, err
	}
	var out []kv.Change
	if err := s.obj.diff(a, b, "", &out); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(x, y kv.Change) int { return strings.Compare(x.Key, y.Key) })
	return out, nil
}

func (s *Store) rootOf(version string) (plumbing.Hash, error) {
	h, err := parseVersion(version)
	if err != nil || h.IsZero() {
		return plumbing.ZeroHash, err
	}
	c, err := s.commit(h)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return c.TreeHash, nil
}

// History is WalkHistory with only a Limit.
func (s *Store) History(ctx context.Context, key string, limit int) ([]kv.Revision, error) {
	p, err := s.WalkHistory(ctx, key, kv.HistoryOptions{Limit: limit})
	return p.Revisions, err
}

// WalkHistory follows first parents, like `git log --first-parent --
// key`. Each version it looks at costs one commit decoded and one look-up
// of key in a tree (its parent's: the step before found its own).
func (s *Store) WalkHistory(ctx context.Context, key string, opt kv.HistoryOptions) (kv.HistoryPage, error) {
	var page kv.HistoryPage
	if err := kv.CheckKey(key); err != nil {
		return page, err
	}
	h := s.head.Load().commit
	if opt.From != "" {
		var err error
		if h, err = parseVersion(opt.From); err != nil {
			return page, err
		}
		if h.IsZero() {
			// No commit has it: the walk would end at once and look
			// complete, where mem refuses an unknown version.
			return page, fmt.Errorf("%w: %q", kv.ErrUnknownVersion, opt.From)
		}
	}
	if h.IsZero() {
		return page, nil
	}
	c, err := s.commit(h)
	if err != nil {
		return page, err
	}
	cur, err := s.fileHash(c.TreeHash, key)
	if err != nil {
		return page, err
	}
	for {
		if opt.Limit > 0 && len(page.Revisions) == opt.Limit || opt.MaxVersions > 0 && page.Walked == opt.MaxVersions {
			page.Next = h.String()
			return page, nil
		}
		if err := ctx.Err(); err != nil {
			return kv.HistoryPage{}, err
		}
		page.Walked++
		var (
			parent, prev plumbing.Hash
			pc           *object.Commit
		)
		if len(c.ParentHashes) > 0 {
			parent = c.ParentHashes[0]
			if pc, err = s.commit(parent); err != nil {
				return kv.HistoryPage{}, err
			}
			if prev, err = s.fileHash(pc.TreeHash, key); err != nil {
				return kv.HistoryPage{}, err
			}
		}
		if cur != prev {
			op := kv.Modified
			switch {
			case prev.IsZero():
				op = kv.Added
			case cur.IsZero():
				op = kv.Deleted
			}
			page.Revisions = append(page.Revisions, kv.Revision{
				Version: h.String(),
				Author:  kv.Signature{Name: c.Author.Name, Email: c.Author.Email, Time: c.Author.When},
				Message: c.Message,
				Op:      op,
			})
		}
		if parent.IsZero() {
			return page, nil
		}
		h, c, cur = parent, pc, prev
	}
}

func (s *Store) fileHash(root plumbing.Hash, key string) (plumbing.Hash, error) {
	e, ok, err := s.obj.find(root, key)
	if err != nil || !ok || !isFile(e) {
		return plumbing.ZeroHash, err
	}
	return e.Hash, nil
}

// Close drops the in-memory repository's head; later calls fail.
func (s *Store) Close() error {
	s.closed.Store(true)
	return nil
}

func short(h plumbing.Hash) string {
	if h.IsZero() {
		return "(empty)"
	}
	return h.String()[:12]
}
