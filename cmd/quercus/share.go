package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/quercus-dev/quercus/caldav/collmeta"
	"github.com/quercus-dev/quercus/caldav/users"
	"github.com/quercus-dev/quercus/kv"
)

const shareHelp = `A calendar of a CalDAV repository (as caldav serves it) is the folder
calendars/OWNER/CAL/; who else may use it is the "share" field of its
.props.json. The command edits that field in the git remote given by
--remote and pushes one commit; caldav serves the change at its next fetch
(--poll, a failed login, or POST /git-hook).

A GRANTEE is a user (NAME or user:NAME), a group (@NAME or group:NAME), or *
(every user). Users and groups must exist (quercus user add). A read share
lets its grantees see the calendar and its events; a write share (--write)
also lets them add, change and delete events, not delete, move or replace
the calendar itself. A copy of a shared calendar is shared with no one. A
sharee finds the calendar through an extra calendar-home-set entry, the
owner's home.
`

var shareAddCommand = &command{
	name:    "share add",
	args:    "OWNER/CAL GRANTEE...",
	summary: "share a CalDAV calendar, read-only or (--write) read-write",
	help:    shareHelp,
	setup:   func(fs *flag.FlagSet) runFunc { return shareSetup(fs, "add") },
}

var shareRemoveCommand = &command{
	name:    "share remove",
	args:    "OWNER/CAL GRANTEE...",
	summary: "stop sharing a CalDAV calendar with users or groups",
	help:    shareHelp,
	setup:   func(fs *flag.FlagSet) runFunc { return shareSetup(fs, "remove") },
}

var shareListCommand = &command{
	name:    "share list",
	args:    "[OWNER[/CAL]]",
	summary: "list the shared CalDAV calendars and their grantees",
	help:    shareHelp,
	setup:   func(fs *flag.FlagSet) runFunc { return shareSetup(fs, "list") },
}

func shareSetup(fs *flag.FlagSet, op string) runFunc {
	repo := calendarRepoFlags(fs)
	var write *bool
	if op == "add" {
		write = fs.Bool("write", false, "grant read-write access (default: read-only)")
	}
	return func(ctx context.Context, e *env, c *command, args []string) int {
		if *repo.remote == "" {
			return e.usageError(c, "--remote is required")
		}
		var owner, cal string
		var grantees []string
		switch {
		case op == "list" && len(args) <= 1:
			if len(args) == 1 {
				owner, cal, _ = strings.Cut(strings.Trim(args[0], "/"), "/")
			}
		case op != "list" && len(args) >= 2:
			var ok bool
			owner, cal, ok = strings.Cut(strings.Trim(args[0], "/"), "/")
			if !ok || cal == "" || strings.Contains(cal, "/") {
				return e.usageError(c, "want OWNER/CAL, the calendar's folder below calendars/, not %q", args[0])
			}
			for _, a := range args[1:] {
				g, err := collmeta.ParseGrantee(a)
				if err != nil {
					return e.usageError(c, "%v", err)
				}
				grantees = append(grantees, g)
			}
		case op == "list":
			return e.usageError(c, "want at most OWNER or OWNER/CAL")
		default:
			return e.usageError(c, "want OWNER/CAL and at least one GRANTEE")
		}
		for _, n := range []string{owner, cal} {
			if n != "" && (n == "." || n == ".." || strings.HasPrefix(n, ".") || strings.Contains(n, "/")) {
				return e.usageError(c, "bad name %q", n)
			}
		}
		store, err := repo.open(ctx, e)
		if err != nil {
			return e.fail(c, "%v", err)
		}
		defer store.Close()
		if op == "list" {
			if err := listShares(ctx, e.stdout, store, owner, cal); err != nil {
				return e.fail(c, "%v", err)
			}
			return exitOK
		}
		access := collmeta.Read
		if write != nil && *write {
			access = collmeta.Write
		}
		folder := path.Join("calendars", owner, cal)
		msg := fmt.Sprintf("quercus share %s %s/%s %s", op, owner, cal, strings.Join(grantees, " "))
		if op == "add" {
			msg += " (" + access + ")"
		}
		_, err = store.Batch(ctx, kv.Commit{Author: kv.Signature{Name: "quercus", Email: "quercus@localhost"}, Message: msg},
			func(tx kv.Txn) error { return editShare(tx, folder, owner, grantees, access, op == "add") })
		if err != nil {
			if errors.Is(err, kv.ErrUnavailable) {
				return e.fail(c, "push failed, nothing changed: %v", err)
			}
			return e.fail(c, "%v", err)
		}
		fmt.Fprintf(e.stdout, "%s: done\n", msg)
		return exitOK
	}
}

// editShare grants (or, add false, revokes) access to the collection
// at folder for grantees.
func editShare(tx kv.Txn, folder, owner string, grantees []string, access string, add bool) error {
	b, err := tx.Get(folder + "/" + collmeta.File)
	if errors.Is(err, kv.ErrNotFound) {
		return fmt.Errorf("no calendar %s (no %s/%s)", strings.TrimPrefix(folder, "calendars/"), folder, collmeta.File)
	}
	if err != nil {
		return err
	}
	m, err := collmeta.Decode(b)
	if err != nil {
		return fmt.Errorf("%s/%s: %v", folder, collmeta.File, err)
	}
	for _, g := range grantees {
		kind, name, _ := strings.Cut(g, ":")
		if !add {
			if _, ok := m.Share[g]; !ok {
				return fmt.Errorf("%s is not shared with %s", strings.TrimPrefix(folder, "calendars/"), g)
			}
			delete(m.Share, g)
			continue
		}
		if g == "user:"+owner {
			return fmt.Errorf("%s owns the calendar", owner)
		}
		if name != "*" {
			key := users.UserKey(name)
			if kind == "group" {
				key = users.GroupKey(name)
			}
			if _, err := tx.Get(key); errors.Is(err, kv.ErrNotFound) {
				return fmt.Errorf("no %s %s (%s)", kind, name, key)
			} else if err != nil {
				return err
			}
		}
		if m.Share == nil {
			m.Share = map[string]string{}
		}
		m.Share[g] = access
	}
	if len(m.Share) == 0 {
		m.Share = nil
	}
	return tx.Put(folder+"/"+collmeta.File, m.Encode())
}

// listShares prints each shared collection below calendars/OWNER/CAL
// (either may be empty) with its grantees, one line each.
func listShares(ctx context.Context, w io.Writer, snap kv.Snapshot, owner, cal string) error {
	prefix := path.Join("calendars", owner, cal)
	entries, err := snap.List(ctx, prefix)
	if err != nil {
		return err
	}
	var lines []string
	for _, e := range entries {
		parts := strings.Split(e.Key, "/")
		if len(parts) != 4 || parts[3] != collmeta.File {
			continue
		}
		b, err := snap.Get(ctx, e.Key)
		if err != nil {
			return err
		}
		m, err := collmeta.Decode(b)
		if err != nil {
			return fmt.Errorf("%s: %v", e.Key, err)
		}
		for _, g := range m.Grants() {
			lines = append(lines, fmt.Sprintf("%s/%s\t%s\t%s", parts[1], parts[2], g.Grantee, g.Access))
		}
	}
	slices.Sort(lines)
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
	return nil
}
