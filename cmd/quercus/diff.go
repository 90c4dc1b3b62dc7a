package main

import (
	"bytes"
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/tsig"
	"github.com/quercus-dev/quercus/dns/zone"
)

var diffCommand = &command{
	name:    "zone diff",
	args:    "OLD NEW",
	summary: "show the record changes between two revisions or directories",
	help: `Prints what changes, record by record, when a zone repository goes from
version OLD to version NEW, like dnscontrol preview or octoDNS plan:

  example.com: - www.example.com. 300 IN A 192.0.2.1
  example.com: + www.example.com. 300 IN A 192.0.2.2
  example.net: zone added
  example.net: + example.net. 3600 IN SOA ns1.example.net. ...
  example.org: zone removed
  example.org: - example.org. 3600 IN SOA ns1.example.org. ...
  _keys: + key ops._notify.example.com. hmac-sha256

OLD and NEW are each a directory, whose top-level files are read (so a
working tree's uncommitted changes count), or else a revision of the git
repository --repo: a commit id, branch, tag, HEAD~1, ... An argument that
names an existing directory is read as a directory.

Records are compared as sets: order, comments, formatting and the case of
names do not count; a changed TTL shows as a removed and an added record.
Files come in name order; within a zone, records come by owner name (in
DNS canonical order) and type (SOA first), a removal before its
replacement. TSIG keys are shown by name and algorithm, never with their
secrets ("~" marks a key whose secret or algorithm changed).

No output and exit status 0 mean no changes. A file that does not parse is
reported on stderr and makes the status 1; the other files are still
compared. Use 'quercus zone check' to find every problem.

Examples:
  quercus zone diff origin/main HEAD     # what git push would change
  quercus zone diff HEAD .               # uncommitted changes of a working tree
  quercus zone diff --repo /srv/zones.git HEAD~1 HEAD
`,
	setup: func(fs *flag.FlagSet) runFunc {
		repo := fs.String("repo", ".", "the git repository `PATH` in which OLD and NEW are revisions")
		return func(ctx context.Context, e *env, c *command, args []string) int {
			if len(args) != 2 {
				return e.usageError(c, "want OLD and NEW")
			}
			old, err := readVersion(args[0], *repo)
			if err != nil {
				return e.fail(c, "%v", err)
			}
			cur, err := readVersion(args[1], *repo)
			if err != nil {
				return e.fail(c, "%v", err)
			}
			status := exitOK
			for _, err := range diffFiles(e.stdout, old, cur) {
				e.fail(c, "%v", err)
				status = exitFail
			}
			return status
		}
	},
}

// diffFiles writes the changes from old to cur and returns the files it
// could not compare.
func diffFiles(w io.Writer, old, cur files) []error {
	var errs []error
	names := slices.Sorted(maps.Keys(old))
	for name := range cur {
		if _, ok := old[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		o, inOld := old[name]
		n, inNew := cur[name]
		if inOld && inNew && bytes.Equal(o, n) {
			continue
		}
		if zone.IsKeyFile(name) {
			diffKeys(w, name, o, inOld, n, inNew)
			continue
		}
		var oz, nz *zone.Zone
		var err error
		if inOld {
			if oz, err = zone.Parse(dns.Fqdn(name), o); err != nil {
				errs = append(errs, fmt.Errorf("%s: old version: %s", name, parseErrorText(err)))
				continue
			}
		}
		if inNew {
			if nz, err = zone.Parse(dns.Fqdn(name), n); err != nil {
				errs = append(errs, fmt.Errorf("%s: new version: %s", name, parseErrorText(err)))
				continue
			}
		}
		diffZone(w, name, oz, nz)
	}
	return errs
}

// diffZone writes the records removed and added from oz to nz, either of
// which may be nil (no such zone).
func diffZone(w io.Writer, name string, oz, nz *zone.Zone) {
	switch {
	case oz == nil:
		fmt.Fprintf(w, "%s: zone added\n", name)
	case nz == nil:
		fmt.Fprintf(w, "%s: zone removed\n", name)
	}
	type change struct {
		sign byte
		rr   dns.RR
		text string
	}
	added, removed := zone.Diff(oz, nz)
	var changes []change
	for _, rr := range removed {
		changes = append(changes, change{'-', rr, recordLine(rr)})
	}
	for _, rr := range added {
		changes = append(changes, change{'+', rr, recordLine(rr)})
	}
	slices.SortFunc(changes, func(a, b change) int {
		return cmp.Or(
			compareNames(a.rr.Header().Name, b.rr.Header().Name),
			cmp.Compare(typeOrder(a.rr), typeOrder(b.rr)),
			-cmp.Compare(a.sign, b.sign), // '-' sorts after '+' in ASCII
			strings.Compare(a.text, b.text))
	})
	for _, c := range changes {
		fmt.Fprintf(w, "%s: %c %s\n", name, c.sign, c.text)
	}
}

// typeOrder sorts by type, SOA first, as zone files are written.
func typeOrder(rr dns.RR) int {
	if t := rr.Header().Rrtype; t != dns.TypeSOA {
		return int(t) + 1
	}
	return 0
}

// recordLine is rr in master-file format on one line, fields separated by
// single spaces.
func recordLine(rr dns.RR) string {
	h := rr.Header()
	rdata := strings.TrimPrefix(rr.String(), h.String())
	return fmt.Sprintf("%s %d %s %s %s", h.Name, h.Ttl, dns.Class(h.Class), dns.Type(h.Rrtype), rdata)
}

// compareNames orders names as RFC 4034 §6.1 does, label by label from
// the root, ignoring case, so that a zone's names come grouped.
func compareNames(a, b string) int {
	la := dns.SplitDomainName(strings.ToLower(a))
	lb := dns.SplitDomainName(strings.ToLower(b))
	for i := 1; i <= len(la) && i <= len(lb); i++ {
		if c := strings.Compare(la[len(la)-i], lb[len(lb)-i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(la), len(lb))
}

// diffKeys writes the keys added, removed and changed in a key file,
// without their secrets. Unusable keys are left out: zone check reports
// them.
func diffKeys(w io.Writer, name string, old []byte, inOld bool, cur []byte, inNew bool) {
	switch {
	case !inOld:
		fmt.Fprintf(w, "%s: key file added\n", name)
	case !inNew:
		fmt.Fprintf(w, "%s: key file removed\n", name)
	}
	oldKeys, newKeys := keysByName(name, old), keysByName(name, cur)
	names := slices.Sorted(maps.Keys(oldKeys))
	for k := range newKeys {
		if _, dup := oldKeys[k]; !dup {
			names = append(names, k)
		}
	}
	slices.SortFunc(names, compareNames)
	for _, k := range names {
		o, inOld := oldKeys[k]
		n, inNew := newKeys[k]
		switch {
		case !inOld:
			fmt.Fprintf(w, "%s: + key %s %s\n", name, k, n.AlgorithmName())
		case !inNew:
			fmt.Fprintf(w, "%s: - key %s %s\n", name, k, o.AlgorithmName())
		case o.Algorithm != n.Algorithm || o.Secret != n.Secret:
			fmt.Fprintf(w, "%s: ~ key %s %s\n", name, k, n.AlgorithmName())
		}
	}
}

func keysByName(file string, src []byte) map[string]tsig.Key {
	keys, _, _ := tsig.ParseKeyFile(file, src)
	m := map[string]tsig.Key{}
	for _, k := range keys {
		m[k.Name] = k
	}
	return m
}
