package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/tsig"
	"github.com/quercus-dev/quercus/dns/zone"
)

var checkCommand = &command{
	name:    "zone check",
	args:    "REPO_OR_DIR [REV]",
	summary: "check the zone and key files of a revision or a directory",
	help: `Checks every zone file and key file of a zone repository as dns-primary
does before serving it, and prints one line per problem:

  <file>: <problem>

REPO_OR_DIR is a git repository (bare, or the top folder of a working tree),
read at revision REV (default HEAD; a commit id, branch, tag, HEAD~1, ...):
committed files only, not uncommitted changes. Anything else is a directory
whose top-level files are read; a symbolic link counts as a file holding the
link's target, as git stores it. No git command is needed.

A zone file must parse (RFC 1035 master-file format; no $INCLUDE or
$GENERATE; at most 16 MiB) and pass the checks of dns/zone: one SOA, at the
origin; NS records at the origin, with an address for every name server in
the zone; no CNAME at the origin, beside other data or twice at a name; no
names outside the zone or ending in the origin twice (a forgotten trailing
dot); one TTL per RRset; no record twice; class IN; records that fit a
message. A key file must hold only usable TSIG keys (DNSKEY 0 3 161..165,
base64 secret) whose names give rights on the file's zone or below, and no
key may be defined in two files.

With --old, a zone whose records changed while its SOA serial did not
increase (RFC 1982 serial arithmetic) is a problem too: secondaries would
miss the change. Zones new in this version are not compared, nor are zones
whose old version did not parse.

Exit status: 0 and no output (a summary with -v) if there are no problems,
1 if there are or a version cannot be read, 2 on bad usage.

Examples:
  quercus zone check .                          # HEAD of the repository here
  quercus zone check --old origin/main . HEAD   # before git push
  quercus zone check --old old/ new/            # two directories, as the pre-receive hook does
`,
	setup: func(fs *flag.FlagSet) runFunc {
		old := fs.String("old", "", "also compare SOA serials with the older version `REV`: a revision of REPO_OR_DIR, or a directory")
		verbose := fs.Bool("v", false, "print a one-line summary, also when there are no problems")
		return func(ctx context.Context, e *env, c *command, args []string) int {
			if len(args) < 1 || len(args) > 2 {
				return e.usageError(c, "want REPO_OR_DIR and at most one REV")
			}
			return runCheck(e, c, args, *old, *verbose)
		}
	},
}

func runCheck(e *env, c *command, args []string, oldArg string, verbose bool) int {
	path := args[0]
	repo, err := openRepo(path)
	if err != nil {
		return e.fail(c, "%v", err)
	}
	var cur files
	switch {
	case repo != nil:
		rev := "HEAD"
		if len(args) == 2 {
			rev = args[1]
		}
		cur, err = readRevision(repo, rev)
	case len(args) == 2:
		return e.usageError(c, "REV %s given, but %s is no git repository", args[1], path)
	default:
		cur, err = readDir(path)
	}
	if err != nil {
		return e.fail(c, "%v", err)
	}

	problems, zones := checkFiles(cur)
	if oldArg != "" {
		var old files
		switch {
		case isDir(oldArg):
			old, err = readDir(oldArg)
		case repo != nil:
			old, err = readRevision(repo, oldArg)
		default:
			return e.usageError(c, "--old %s is no directory, and %s no git repository to find it in", oldArg, path)
		}
		if err != nil {
			return e.fail(c, "--old: %v", err)
		}
		problems = append(problems, checkSerials(old, zones)...)
		slices.SortStableFunc(problems, func(a, b problem) int { return strings.Compare(a.file, b.file) })
	}

	for _, p := range problems {
		fmt.Fprintln(e.stdout, p)
	}
	if verbose {
		keyFiles := 0
		for name := range cur {
			if zone.IsKeyFile(name) {
				keyFiles++
			}
		}
		fmt.Fprintf(e.stdout, "%s: %d zone files, %d key files, %d problems\n",
			path, len(cur)-keyFiles, keyFiles, len(problems))
	}
	if len(problems) > 0 {
		return exitFail
	}
	return exitOK
}

// problem is one line of zone check's output.
type problem struct {
	file string
	msg  string
}

func (p problem) String() string { return p.file + ": " + p.msg }

// checkFiles checks every file and returns the problems, by file name, and
// the zones that parsed.
func checkFiles(f files) ([]problem, map[string]*zone.Zone) {
	var problems []problem
	zones := map[string]*zone.Zone{}
	keyFile := map[string]string{} // key name: the file defining it
	for _, name := range slices.Sorted(maps.Keys(f)) {
		add := func(format string, args ...any) {
			problems = append(problems, problem{name, fmt.Sprintf(format, args...)})
		}
		if zone.IsKeyFile(name) {
			keys, ps, err := tsig.ParseKeyFile(name, f[name])
			if err != nil {
				add("%v", err)
				continue
			}
			for _, p := range ps {
				if p.Name != "" {
					add("%s: %s", p.Name, p.Msg)
				} else {
					add("%s", p.Msg)
				}
			}
			for _, k := range keys {
				if other, dup := keyFile[k.Name]; dup {
					add("%s: key also defined in %s: which one is used depends on file order", k.Name, other)
					continue
				}
				keyFile[k.Name] = name
			}
			continue
		}
		z, err := zone.Parse(dns.Fqdn(name), f[name])
		if err != nil {
			add("%s", parseErrorText(err))
			continue
		}
		zones[name] = z
		for _, p := range zone.Check(z) {
			what := p.Name
			if p.Type != "" {
				what += " " + p.Type
			}
			add("%s: %s", what, p.Msg)
		}
	}
	return problems, zones
}

// parseErrorText is a parse error without the zone's name, which the
// output line starts with already.
func parseErrorText(err error) string {
	var pe *zone.ParseError
	switch {
	case !errors.As(err, &pe):
		return err.Error()
	case pe.Line > 0 && pe.Column > 0:
		return fmt.Sprintf("line %d:%d: %s", pe.Line, pe.Column, pe.Msg)
	case pe.Line > 0:
		return fmt.Sprintf("line %d: %s", pe.Line, pe.Msg)
	}
	return pe.Msg
}

// checkSerials flags zones whose records differ from the old version's
// while the SOA serial did not increase: a secondary compares serials
// only, so it would keep the old records.
func checkSerials(old files, zones map[string]*zone.Zone) []problem {
	var problems []problem
	for _, name := range slices.Sorted(maps.Keys(zones)) {
		src, ok := old[name]
		if !ok {
			continue // a new zone: secondaries transfer it whole
		}
		oz, err := zone.Parse(dns.Fqdn(name), src)
		if err != nil {
			continue // the old version was not served
		}
		nz := zones[name]
		if oz.SOA() == nil || nz.SOA() == nil {
			continue // no serial to compare; Check reports a missing SOA
		}
		added, removed := zone.Diff(oz, nz)
		if len(added)+len(removed) == 0 {
			continue
		}
		was, is := oz.Serial(), nz.Serial()
		switch {
		case was == is:
			problems = append(problems, problem{name, fmt.Sprintf(
				"records changed but the SOA serial stayed %d: increase it, or secondaries keep the old records", is)})
		case !zone.SerialLess(was, is):
			problems = append(problems, problem{name, fmt.Sprintf(
				"SOA serial went from %d to %d, which is no increase in RFC 1982 serial arithmetic: secondaries keep the old records", was, is)})
		}
	}
	return problems
}
