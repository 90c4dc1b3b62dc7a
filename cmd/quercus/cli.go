package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/quercus-dev/quercus/service"
)

// Exit statuses.
const (
	exitOK    = 0
	exitFail  = 1 // problems found, or an operation failed
	exitUsage = 2
)

// env is what a command may touch of the process, so that tests can run
// commands in-process.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	rand           io.Reader // nil: crypto/rand
}

// command is one subcommand.
type command struct {
	name    string // as typed: "zone check"
	args    string // the arguments, for the usage line
	summary string // one line, for the command list
	help    string // what --help says before the flags
	// setup defines the command's flags on fs and returns what runs it
	// once they are parsed.
	setup func(fs *flag.FlagSet) runFunc
}

// runFunc runs a command with its positional arguments and returns the
// exit status.
type runFunc func(ctx context.Context, e *env, c *command, args []string) int

// commands in the order the help lists them.
var commands = []*command{checkCommand, diffCommand, notifyCommand, keygenCommand, userAddCommand, userPasswdCommand, userRemoveCommand, shareAddCommand, shareRemoveCommand, shareListCommand, certifyCommand}

const mainHelp = `quercus is the operator's tool for Quercus DNS zone repositories.

A zone repository is a git repository (or a directory) whose top-level files
are zones, each named by its zone (file example.com holds zone example.com.)
in RFC 1035 master-file format, and TSIG keys, as DNSKEY records in a file
named _keys (keys for any zone) or <zone>._keys, as dns-primary serves them.
Other files (dotfiles, README*, LICENSE*, folders) are ignored.

Usage:
  quercus COMMAND [flags] [arguments]

Commands:
%s
Run 'quercus COMMAND --help' for a command's arguments and flags. Flags may
come before or after the arguments. Each flag can also be set by the
environment variable QUERCUS_<FLAG> (--key-file is QUERCUS_KEY_FILE); the
command line wins.

Exit status: 0 success, 1 problems found or an operation failed, 2 bad usage.

examples/hooks in the source holds git hooks that run 'zone check' and
'zone diff' before a push is accepted and 'notify' after it.
`

func printMainHelp(w io.Writer) {
	var list strings.Builder
	for _, c := range commands {
		fmt.Fprintf(&list, "  %-12s  %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, mainHelp, list.String())
}

// run runs the command that args name and returns its exit status.
func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		printMainHelp(e.stderr)
		return exitUsage
	}
	if isHelp(args[0]) {
		if len(args) > 1 { // quercus help zone check
			if c, _ := lookup(args[1:]); c != nil {
				fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
				c.setup(fs)
				printHelp(e.stdout, c, fs)
				return exitOK
			}
		}
		printMainHelp(e.stdout)
		return exitOK
	}
	c, rest := lookup(args)
	if c == nil {
		if args[0] == "zone" && (len(args) == 1 || isHelp(args[1])) {
			printMainHelp(e.stdout)
			return exitOK
		}
		fmt.Fprintf(e.stderr, "quercus: unknown command %q\nRun 'quercus --help' for the list.\n", strings.Join(args, " "))
		return exitUsage
	}
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	runCommand := c.setup(fs)
	pos, code, ok := e.parse(c, fs, rest)
	if !ok {
		return code
	}
	return runCommand(ctx, e, c, pos)
}

func isHelp(arg string) bool {
	return arg == "help" || arg == "-h" || arg == "-help" || arg == "--help"
}

// lookup finds the command args start with, and returns its arguments.
func lookup(args []string) (*command, []string) {
	for _, c := range commands {
		words := strings.Fields(c.name)
		if len(args) >= len(words) && slices.Equal(args[:len(words)], words) {
			return c, args[len(words):]
		}
	}
	return nil, nil
}

// parse parses args into fs, taking defaults from QUERCUS_<FLAG>
// variables, and returns the positional arguments. Unlike package flag it
// accepts flags after positional arguments too (quercus zone diff A B
// --repo R); "--" ends the flags. On --help it prints c's help to stdout;
// on a bad flag it says so on stderr. ok is false in both cases, and code
// is the exit status.
func (e *env) parse(c *command, fs *flag.FlagSet, args []string) (pos []string, code int, ok bool) {
	fs.SetOutput(io.Discard) // we print help and errors ourselves
	err := service.Parse(fs, args, e.getenv)
	for err == nil {
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
		err = fs.Parse(args)
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		printHelp(e.stdout, c, fs)
		return nil, exitOK, false
	case err != nil:
		fmt.Fprintf(e.stderr, "quercus %s: %v\nRun 'quercus %s --help' for usage.\n", c.name, err, c.name)
		return nil, exitUsage, false
	}
	return pos, exitOK, true
}

// usageError reports wrong arguments.
func (e *env) usageError(c *command, format string, args ...any) int {
	fmt.Fprintf(e.stderr, "quercus %s: %s\nUsage: quercus %s [flags] %s\nRun 'quercus %s --help' for more.\n",
		c.name, fmt.Sprintf(format, args...), c.name, c.args, c.name)
	return exitUsage
}

// fail reports a failure that is not about usage.
func (e *env) fail(c *command, format string, args ...any) int {
	fmt.Fprintf(e.stderr, "quercus %s: %s\n", c.name, fmt.Sprintf(format, args...))
	return exitFail
}

// printHelp prints c's usage, help and flags, with the environment
// variable of each flag.
func printHelp(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: quercus %s [flags] %s\n\n%s", c.name, c.args, c.help)
	first := true
	fs.VisitAll(func(f *flag.Flag) {
		if first {
			fmt.Fprintf(w, "\nFlags:\n")
			first = false
		}
		name, usage := flag.UnquoteUsage(f)
		dash := "--"
		if len(f.Name) == 1 {
			dash = "-"
		}
		fmt.Fprintf(w, "  %s%s", dash, f.Name)
		if name != "" {
			fmt.Fprintf(w, " %s", name)
		}
		if f.DefValue != "" && f.DefValue != "false" {
			usage += " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(w, "  (env %s)\n%s", service.EnvName(f.Name), wrap(usage, "      ", 78))
	})
}

// wrap breaks text into lines of at most width columns, each starting
// with indent.
func wrap(text, indent string, width int) string {
	var b strings.Builder
	line := indent
	for _, word := range strings.Fields(text) {
		if len(line) > len(indent) && len(line)+1+len(word) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += word
	}
	b.WriteString(line + "\n")
	return b.String()
}
