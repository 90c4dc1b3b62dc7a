package main

import (
	"flag"
	"strings"
	"testing"

	"github.com/quercus-dev/quercus/service"
)

// TestHelp: --help lists every command, and each command's help every
// flag with its environment variable.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"zone"}, {"zone", "--help"}} {
		r := quercus(t, nil, args...)
		if r.code != 0 || r.stderr != "" {
			t.Errorf("%v: status %d, stderr %q", args, r.code, r.stderr)
		}
		for _, c := range commands {
			if !strings.Contains(r.stdout, "\n  "+c.name+" ") {
				t.Errorf("%v does not list %s:\n%s", args, c.name, r.stdout)
			}
		}
	}
	if r := quercus(t, nil); r.code != 2 || !strings.Contains(r.stderr, "Commands:") {
		t.Errorf("no arguments: status %d, stderr %q", r.code, r.stderr)
	}
	if r := quercus(t, nil, "zone", "frob"); r.code != 2 || !strings.Contains(r.stderr, `unknown command "zone frob"`) {
		t.Errorf("unknown command: status %d, stderr %q", r.code, r.stderr)
	}

	for _, c := range commands {
		fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
		c.setup(fs)
		for _, args := range [][]string{
			append(strings.Fields(c.name), "--help"),
			append(strings.Fields(c.name), "-h"),
			append([]string{"help"}, strings.Fields(c.name)...),
		} {
			r := quercus(t, nil, args...)
			if r.code != 0 || !strings.HasPrefix(r.stdout, "Usage: quercus "+c.name+" [flags] "+c.args+"\n") {
				t.Errorf("%v: status %d, stdout:\n%s", args, r.code, r.stdout)
			}
			fs.VisitAll(func(f *flag.Flag) {
				if !strings.Contains(r.stdout, "-"+f.Name) || !strings.Contains(r.stdout, service.EnvName(f.Name)) {
					t.Errorf("%v does not describe flag %s:\n%s", args, f.Name, r.stdout)
				}
			})
		}
	}
}

// TestFlagsAnywhere: flags may follow the arguments, and "--" ends them.
func TestFlagsAnywhere(t *testing.T) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	v := fs.Bool("v", false, "")
	s := fs.String("s", "", "")
	e := &env{stdout: &strings.Builder{}, stderr: &strings.Builder{}, getenv: func(k string) string {
		return map[string]string{"QUERCUS_S": "from env"}[k]
	}}
	pos, _, ok := e.parse(&command{name: "test"}, fs, []string{"a", "-v", "b", "--", "-s", "c"})
	if !ok || !*v || *s != "from env" || strings.Join(pos, " ") != "a b -s c" {
		t.Errorf("positional %q, v %v, s %q, ok %v", pos, *v, *s, ok)
	}
}
