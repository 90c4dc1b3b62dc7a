package sandbox

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	seccomp "github.com/elastic/go-seccomp-bpf"
	"github.com/landlock-lsm/go-landlock/landlock"
	"golang.org/x/sys/unix"
)

func pid() uint64 { return uint64(os.Getpid()) }

// LandlockABI returns the Landlock ABI version the kernel offers; 0 when
// it has none (or Landlock is not enabled at boot).
func LandlockABI() int {
	v, _, errno := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, unix.LANDLOCK_CREATE_RULESET_VERSION)
	if errno != 0 {
		return 0
	}
	return int(v)
}

// SeccompSupported reports whether the kernel filters system calls.
func SeccompSupported() bool { return seccomp.Supported() }

func apply(p Policy, mode Mode, a *Applied) error {
	a.LandlockABI = LandlockABI()
	if !SeccompSupported() {
		return ErrNoSeccomp
	}
	// Landlock first: it needs no_new_privs on every thread, which it sets
	// itself, and the calls that apply it are not in the allowlist.
	if mode == On {
		if err := restrictLandlock(p, a); err != nil {
			return err
		}
	} else {
		a.Missing = append(a.Missing, "Landlock (log mode observes only)")
	}
	filter, err := filterFor(p, mode)
	if err != nil {
		return err
	}
	if err := seccomp.LoadFilter(filter); err != nil {
		return fmt.Errorf("sandbox: seccomp: %w", err)
	}
	a.Seccomp = true
	return nil
}

// restrictLandlock denies every path but the policy's and, from ABI 4, TCP
// ports but the policy's; from ABI 6 it also scopes signals and abstract
// unix sockets to this process. What the kernel cannot do is listed in
// a.Missing, not an error.
func restrictLandlock(p Policy, a *Applied) error {
	if a.LandlockABI == 0 {
		a.Missing = append(a.Missing, "Landlock (not offered by this kernel): no file-system or TCP port restriction beyond seccomp")
		return nil
	}
	var rules []landlock.Rule
	if len(p.ReadOnly) > 0 {
		rules = append(rules, landlock.RODirs(p.ReadOnly...))
	}
	if len(p.ReadWrite) > 0 {
		rules = append(rules, landlock.RWDirs(p.ReadWrite...).WithRefer())
	}
	for _, port := range p.ConnectTCP {
		rules = append(rules, landlock.ConnectTCP(port))
	}
	for _, port := range p.BindTCP {
		rules = append(rules, landlock.BindTCP(port))
	}
	if a.LandlockABI < 4 {
		a.Missing = append(a.Missing, fmt.Sprintf("Landlock TCP port rules (ABI %d < 4): TCP connect and bind to any port", a.LandlockABI))
	}
	if a.LandlockABI < 6 {
		a.Missing = append(a.Missing, fmt.Sprintf("Landlock scopes (ABI %d < 6): signals and abstract unix sockets not scoped", a.LandlockABI))
	}
	// V7 is the newest ABI whose rights we mean; BestEffort keeps what an
	// older kernel offers, and the lines above say what that leaves out.
	if err := landlock.V7.BestEffort().Restrict(rules...); err != nil {
		return fmt.Errorf("sandbox: landlock: %w", err)
	}
	a.Landlock = true
	return nil
}

// filterFor assembles the seccomp filter: the allowlist allowed, the
// lazy file look-ups refused with EPERM, and everything else trapped
// (On: SIGSYS, which the Go runtime reports and dies of) or logged (Log).
func filterFor(p Policy, mode Mode) (seccomp.Filter, error) {
	deny := seccomp.ActionTrap
	refuse := seccomp.ActionErrno // EPERM
	if mode == Log {
		deny, refuse = seccomp.ActionLog, seccomp.ActionLog
	}
	allow := seccomp.SyscallGroup{Action: seccomp.ActionAllow}
	allowed := map[string]bool{}
	anyArgs := map[string]bool{}
	for _, c := range p.Allowed() {
		allowed[c.Name] = true
		if len(c.Only) == 0 && !anyArgs[c.Name] {
			anyArgs[c.Name] = true
			allow.Names = append(allow.Names, c.Name)
		}
	}
	for _, c := range p.Allowed() {
		if anyArgs[c.Name] {
			continue // allowed whatever its arguments
		}
		var conds seccomp.ArgumentConditions
		for _, a := range c.Only {
			conds = append(conds, seccomp.Condition{Argument: uint32(a.Index), Operation: a.Op.seccomp(), Value: a.Value})
		}
		// Two entries of one name are alternatives: socket for AF_INET or AF_INET6.
		allow.NamesWithCondtions = append(allow.NamesWithCondtions, seccomp.NameWithConditions{Name: c.Name, Conditions: conds})
	}
	// clone3 passes its flags in memory, out of seccomp's sight: ENOSYS
	// makes glibc fall back to clone, whose flags are checked.
	enosys := seccomp.SyscallGroup{Names: []string{"clone3"}, Action: seccomp.ActionErrno | seccomp.Action(unix.ENOSYS)}
	refused := seccomp.SyscallGroup{Action: refuse}
	for _, name := range Refused {
		if !allowed[name] {
			refused.Names = append(refused.Names, name)
		}
	}
	f := seccomp.Filter{
		NoNewPrivs: true,
		Flag:       seccomp.FilterFlagTSync,
		Policy: seccomp.Policy{
			DefaultAction: deny,
			Syscalls:      []seccomp.SyscallGroup{allow, enosys, refused},
		},
	}
	if _, err := f.Policy.Assemble(); err != nil {
		return f, fmt.Errorf("sandbox: policy %s: %w", p.Service, err)
	}
	return f, nil
}

func (o ArgOp) seccomp() seccomp.Operation {
	switch o {
	case BitsSet:
		return seccomp.BitsSet
	case BitsNotSet:
		return seccomp.BitsNotSet
	}
	return seccomp.Equal
}

// ErrNoSeccomp is returned by Apply in mode On on a kernel without
// seccomp filters: the sandbox is a promise, and a service that cannot
// keep it does not start.
var ErrNoSeccomp = errors.New("sandbox: the kernel has no seccomp filters (CONFIG_SECCOMP_FILTER); start with --sandbox=off to run unprotected")

// DropPrivileges makes every thread of the process run as uid and gid,
// with no supplementary groups. Call it after binding privileged ports
// and before Apply, whose allowlist has no set*id calls.
func DropPrivileges(uid, gid int) error {
	if err := syscall.Setgroups(nil); err != nil {
		return fmt.Errorf("sandbox: setgroups: %w", err)
	}
	if err := syscall.Setgid(gid); err != nil {
		return fmt.Errorf("sandbox: setgid %d: %w", gid, err)
	}
	if err := syscall.Setuid(uid); err != nil {
		return fmt.Errorf("sandbox: setuid %d: %w", uid, err)
	}
	return nil
}
