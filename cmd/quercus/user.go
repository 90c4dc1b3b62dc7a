package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/quercus-dev/quercus/caldav/users"
	"github.com/quercus-dev/quercus/kv"
	kvgit "github.com/quercus-dev/quercus/kv/git"
)

const userHelp = `The users of a CalDAV repository (as caldav serves it) live in
users/NAME.json with an argon2id password hash, and groups in
groups/NAME.json. The command edits the git remote given by --remote (a
path, file://, ssh:// or https:// URL) and pushes one commit.

The password comes from the environment variable QUERCUS_PASSWORD; without
it a random one is made and printed.
`

var userAddCommand = &command{
	name:    "user add",
	args:    "NAME",
	summary: "add a CalDAV user to a calendar repository",
	help:    userHelp,
	setup:   func(fs *flag.FlagSet) runFunc { return userSetup(fs, "add") },
}

var userPasswdCommand = &command{
	name:    "user passwd",
	args:    "NAME",
	summary: "set a CalDAV user's password",
	help:    userHelp,
	setup:   func(fs *flag.FlagSet) runFunc { return userSetup(fs, "passwd") },
}

var userRemoveCommand = &command{
	name:    "user remove",
	args:    "NAME",
	summary: "remove a CalDAV user (their calendars stay in git)",
	help:    userHelp,
	setup:   func(fs *flag.FlagSet) runFunc { return userSetup(fs, "remove") },
}

// calendarRepo is the flags naming a calendar repository, which the
// user and share commands edit.
type calendarRepo struct{ remote, sshKey, knownHosts *string }

func calendarRepoFlags(fs *flag.FlagSet) calendarRepo {
	return calendarRepo{
		remote:     fs.String("remote", "", "the calendar repository's git remote (required)"),
		sshKey:     fs.String("ssh-key", "", "private key file for ssh remotes"),
		knownHosts: fs.String("ssh-known-hosts", "", "known_hosts file for ssh remotes"),
	}
}

// open opens the repository; the caller has checked that --remote is set.
func (r calendarRepo) open(ctx context.Context, e *env) (*kvgit.Store, error) {
	auth, err := kvgit.AuthFromEnv(*r.remote, kvgit.SSH{KeyFile: *r.sshKey, KnownHosts: *r.knownHosts}, e.getenv)
	if err != nil {
		return nil, err
	}
	return kvgit.Open(ctx, kvgit.Config{Remote: *r.remote, Auth: auth})
}

func userSetup(fs *flag.FlagSet, op string) runFunc {
	repo := calendarRepoFlags(fs)
	var email, groups *string
	if op == "add" {
		email = fs.String("email", "", "the user's e-mail address (calendar-user-address-set)")
		groups = fs.String("groups", "", "comma-separated groups the user belongs to")
	}
	return func(ctx context.Context, e *env, c *command, args []string) int {
		if len(args) != 1 {
			return e.usageError(c, "want one user NAME")
		}
		if *repo.remote == "" {
			return e.usageError(c, "--remote is required")
		}
		name := args[0]
		if err := users.CheckName(name); err != nil {
			return e.usageError(c, "%v", err)
		}
		password, generated := e.getenv("QUERCUS_PASSWORD"), false
		if password == "" && op != "remove" {
			password, generated = rand.Text(), true
		}
		store, err := repo.open(ctx, e)
		if err != nil {
			return e.fail(c, "%v", err)
		}
		defer store.Close()
		msg := fmt.Sprintf("quercus user %s %s", op, name)
		_, err = store.Batch(ctx, kv.Commit{Author: kv.Signature{Name: "quercus", Email: "quercus@localhost"}, Message: msg},
			func(tx kv.Txn) error {
				_, err := tx.Get(users.UserKey(name))
				exists := err == nil
				switch {
				case op == "add" && exists:
					return fmt.Errorf("user %s exists; use 'quercus user passwd'", name)
				case op != "add" && !exists:
					return fmt.Errorf("no user %s", name)
				case op == "remove":
					if err := tx.Delete(users.UserKey(name)); err != nil {
						return err
					}
					return users.SetGroups(tx, name, nil)
				}
				mail := ""
				if email != nil {
					mail = *email
				} else if u, err := userRecord(tx, name); err == nil {
					mail = u.Email
				}
				if err := users.Put(tx, name, password, mail); err != nil {
					return err
				}
				if groups != nil && *groups != "" {
					return users.SetGroups(tx, name, strings.Split(*groups, ","))
				}
				return nil
			})
		if err != nil {
			if errors.Is(err, kv.ErrUnavailable) {
				return e.fail(c, "push failed, nothing changed: %v", err)
			}
			return e.fail(c, "%v", err)
		}
		if generated {
			fmt.Fprintf(e.stdout, "password for %s: %s\n", name, password)
		} else {
			fmt.Fprintf(e.stdout, "%s: done\n", msg)
		}
		return exitOK
	}
}

func userRecord(tx kv.Txn, name string) (*users.User, error) {
	b, err := tx.Get(users.UserKey(name))
	if err != nil {
		return nil, err
	}
	return users.Decode(name, b)
}
