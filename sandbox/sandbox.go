package sandbox

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"text/tabwriter"
)

// Applied says what Apply put in place.
type Applied struct {
	Mode        Mode
	Seccomp     bool     // the allowlist is installed on every thread
	Landlock    bool     // Landlock restricts paths (and ports, from ABI 4)
	LandlockABI int      // the kernel's Landlock ABI version, 0 for none
	Missing     []string // what could not be applied, and what that leaves open
}

// Apply restricts the whole process to p, in mode. It must be called once,
// after start-up: sockets bound, data loaded, privileges dropped (see
// DropPrivileges). In mode Off it does nothing. In mode On a kernel
// without seccomp is an error (ErrNoSeccomp); a kernel without Landlock,
// or an older Landlock ABI, is not: what is missing is in Applied.Missing
// and logged as a warning.
func Apply(p Policy, mode Mode, log *slog.Logger) (Applied, error) {
	if log == nil {
		log = slog.Default()
	}
	a := Applied{Mode: mode}
	if mode == Off {
		log.Warn("SANDBOX OFF: this process may make any system call and open any file (--sandbox=off is for debugging only)", "service", p.Service)
		return a, nil
	}
	if err := apply(p, mode, &a); err != nil {
		return a, err
	}
	current.Store(&a)
	for _, m := range a.Missing {
		log.Warn("sandbox: not applied", "what", m)
	}
	attrs := []any{"service", p.Service, "mode", mode.String(),
		"syscalls", p.Len(), "landlock_abi", a.LandlockABI, "landlock", a.Landlock,
		"files", p.NeedsFiles(), "connect_tcp", fmt.Sprint(p.ConnectTCP)}
	if mode == On {
		attrs = append(attrs, "forbidden_call", "kills the process: the Go runtime prints 'SIGSYS: bad system call' and the call's number (rax) on stderr")
	}
	log.Info("sandbox applied", attrs...)
	if mode == Log {
		log.Warn("sandbox in log mode: calls outside the allowlist are allowed and recorded in the kernel's audit log (dmesg); use --sandbox=on in production")
	}
	return a, nil
}

var current atomic.Pointer[Applied]

// Current returns what Apply put in place in this process, and false
// before it has run (or when it applied nothing).
func Current() (Applied, bool) {
	if a := current.Load(); a != nil {
		return *a, true
	}
	return Applied{}, false
}

// Report writes the policy: each allowed system call with the reason it
// is needed, the calls refused with EPERM, the socket families, ports
// and paths, and the length of the allowlist.
func Report(w io.Writer, p Policy) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "sandbox policy of %s: %d system calls allowed\n\n", p.Service, p.Len())
	fmt.Fprintf(tw, "CALL\tONLY WHEN\tWHY\n")
	for _, c := range p.Allowed() {
		var only []string
		for _, a := range c.Only {
			only = append(only, a.Show)
		}
		when := strings.Join(only, ", ")
		if when == "" {
			when = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name, when, c.Why)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nrefused with EPERM (lazy file look-ups of Go's standard library): %s\n", strings.Join(refusedFor(p), " "))
	fmt.Fprintf(w, "any other call: the process is killed (SIGSYS; the Go runtime prints the call's stack)\n")
	var fams []string
	for _, f := range p.Families {
		fams = append(fams, f.Name)
	}
	fmt.Fprintf(w, "socket families: %s\n", orNone(fams))
	fmt.Fprintf(w, "Landlock TCP connect ports: %s; bind ports: %s\n", ports(p.ConnectTCP), ports(p.BindTCP))
	fmt.Fprintf(w, "Landlock paths: read-only %s; read-write %s\n", orNone(p.ReadOnly), orNone(p.ReadWrite))
	_, err := fmt.Fprintf(w, "allowed system calls: %d\n", p.Len())
	return err
}

func refusedFor(p Policy) []string {
	allowed := map[string]bool{}
	for _, c := range p.Allowed() {
		allowed[c.Name] = true
	}
	var out []string
	for _, n := range Refused {
		if !allowed[n] {
			out = append(out, n)
		}
	}
	return out
}

func ports(ps []uint16) string {
	var s []string
	for _, p := range ps {
		s = append(s, fmt.Sprint(p))
	}
	return orNone(s)
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, " ")
}
