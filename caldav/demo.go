package caldav

import (
	"context"
	"crypto/rand"
	"fmt"
	"os/exec"
	"path/filepath"

	"github.com/quercus-dev/quercus/caldav/users"
	"github.com/quercus-dev/quercus/kv"
	kvgit "github.com/quercus-dev/quercus/kv/git"
)

// DemoUser is the user the demo repository holds.
const DemoUser = "demo"

// Demo creates a bare git repository in dir with one user, DemoUser,
// with a fresh password, and one calendar, and returns the repository's
// path and the password.
func Demo(ctx context.Context, dir string) (remote, password string, err error) {
	remote = filepath.Join(dir, "calendars.git")
	if out, err := exec.CommandContext(ctx, "git", "init", "--quiet", "--bare", "--initial-branch=main", remote).CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("git init: %v: %s", err, out)
	}
	password = rand.Text()
	s, err := kvgit.Open(ctx, kvgit.Config{Remote: remote})
	if err != nil {
		return "", "", err
	}
	defer s.Close()
	_, err = s.Batch(ctx, kv.Commit{
		Author:  kv.Signature{Name: "caldav demo", Email: "demo@quercus.invalid"},
		Message: "demo: one user and a calendar",
	}, func(tx kv.Txn) error {
		if err := users.Put(tx, DemoUser, password, ""); err != nil {
			return err
		}
		return NewCalendar(tx, DemoUser, "calendar", "Calendar")
	})
	return remote, password, err
}

// NewCalendar writes an empty calendar collection for user in tx.
func NewCalendar(tx kv.Txn, user, name, displayName string) error {
	m := &meta{Calendar: true, Props: map[string]string{clark(pDisplayName): escapeText(displayName)}}
	return writeMeta(tx, calendarsSeg+"/"+user+"/"+name, m)
}
