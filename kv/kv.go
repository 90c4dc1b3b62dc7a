package kv

import (
	"context"
	"time"
)

// Snapshot is an immutable view of the store at one version. Reads from one
// snapshot are consistent with each other.
type Snapshot interface {
	// Version identifies this snapshot (a commit id in kv/git). It is "" for
	// a store that has never been written.
	Version() string
	// Get returns the content of the file at key, or an error wrapping
	// ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// List returns every file below prefix (a folder key, "" for the root),
	// recursively, sorted by key. A missing folder lists as empty.
	List(ctx context.Context, prefix string) ([]Entry, error)
	// Digest returns a content hash of a file or a folder (all files below
	// it): equal digests mean equal content. It serves as ETag and CTag.
	// A missing key wraps ErrNotFound.
	Digest(ctx context.Context, key string) (string, error)
}

// Store is a versioned key/value store. Its Snapshot methods read the
// current head; pin a version with At to read several keys consistently.
//
// Implementations are safe for concurrent use.
type Store interface {
	Snapshot

	// At returns the snapshot at version, or an error wrapping
	// ErrUnknownVersion.
	At(ctx context.Context, version string) (Snapshot, error)

	// Batch runs fn against a transaction on the current head and, if fn
	// returns nil and changed anything, records the changes as one new
	// version and makes it durable before returning it. If fn fails, or
	// the version cannot be made durable, nothing is visible and the
	// error is returned. fn may run more than once (when another writer
	// moved the head first), so it must derive its writes only from what
	// it reads through the Txn. A batch that changes nothing returns the
	// current version.
	Batch(ctx context.Context, c Commit, fn func(Txn) error) (string, error)

	// Changes lists the files that differ between two versions, sorted by
	// key. from may be "" (the empty store).
	Changes(ctx context.Context, from, to string) ([]Change, error)

	// History lists the versions that changed key, newest first, at most
	// limit of them (limit <= 0: all). It is WalkHistory with only a
	// Limit: its cost grows with the versions it passes, unbounded.
	History(ctx context.Context, key string, limit int) ([]Revision, error)

	// WalkHistory lists the versions that changed key, newest first,
	// walking back from opt.From and stopping at opt's bounds; the page
	// it returns says where the walk stopped, so a caller can tell a
	// finished walk from a bounded one and go on later.
	WalkHistory(ctx context.Context, key string, opt HistoryOptions) (HistoryPage, error)

	// Refresh brings the view up to date with the backing remote and
	// reports whether the head moved.
	Refresh(ctx context.Context) (bool, error)

	// Close releases the store's resources.
	Close() error
}

// Txn is the view a Batch function reads and writes. Reads see the
// transaction's own earlier writes.
type Txn interface {
	Get(key string) ([]byte, error)
	List(prefix string) ([]Entry, error)
	Put(key string, data []byte) error
	Delete(key string) error
	// Split records the writes made since the last Split as one version
	// of their own, described by c (which may depend on what fn found),
	// and goes on with the next: several changes by different authors
	// become several commits, made durable (pushed) together. Writes after the last Split form the batch's own
	// version. A Split with no writes before it records nothing.
	Split(c Commit)
}

// Entry is one file in a listing.
type Entry struct {
	Key    string
	Digest string
	Size   int64
}

// Commit describes the version a Batch records.
type Commit struct {
	Author  Signature
	Message string
}

// Signature names who made a change. Zero Time means "now" by the store's
// clock.
type Signature struct {
	Name  string
	Email string
	Time  time.Time
}

// Op is the kind of a Change.
type Op int

const (
	Added Op = iota + 1
	Modified
	Deleted
)

func (o Op) String() string {
	switch o {
	case Added:
		return "added"
	case Modified:
		return "modified"
	case Deleted:
		return "deleted"
	}
	return "unknown"
}

// Change is one file that differs between two versions.
type Change struct {
	Key string
	Op  Op
}

// Revision is one version in a History.
type Revision struct {
	Version string
	Author  Signature
	Message string
	// Op is what the version did to the key: Added (it was missing
	// before, so a walk that meets it has found the key's creation),
	// Modified or Deleted.
	Op Op
}

// HistoryOptions places and bounds a WalkHistory.
type HistoryOptions struct {
	// From is the version the walk starts at, itself included; "" is
	// the head. A version no walk can reach (unknown to the store) is
	// an error wrapping ErrUnknownVersion.
	From string
	// Limit stops the walk once it has found this many revisions
	// (<= 0: no limit).
	Limit int
	// MaxVersions stops the walk once it has looked at this many
	// versions, whether they changed the key or not (<= 0: no bound).
	// A walk costs in proportion to the versions it passes, not to
	// the revisions it finds, so this is the bound that makes its cost,
	// and its answer, the same on every machine.
	MaxVersions int
}

// HistoryPage is what one WalkHistory found.
type HistoryPage struct {
	// Revisions lists the versions that changed the key, newest first.
	Revisions []Revision
	// Walked is how many versions the walk looked at.
	Walked int
	// Next is the version the walk would have looked at next: given as
	// From, a later walk goes on where this one stopped. It is "" when
	// the walk reached the store's first version.
	Next string
}

// Complete reports whether the walk reached the store's first version,
// so that the key has no revisions older than those listed. A walk that
// a Limit or MaxVersions stopped is not complete: its oldest revision
// need not be the key's first.
func (p HistoryPage) Complete() bool { return p.Next == "" }
