//go:build !linux

package sandbox

import "errors"

func pid() uint64 { return 0 }

// LandlockABI is 0 off Linux.
func LandlockABI() int { return 0 }

// SeccompSupported is false off Linux.
func SeccompSupported() bool { return false }

// ErrNoSeccomp is returned by Apply in mode On where the kernel cannot
// filter system calls: here, any system but Linux.
var ErrNoSeccomp = errors.New("sandbox: only Linux can filter system calls; start with --sandbox=off to run unprotected")

func apply(p Policy, mode Mode, a *Applied) error { return ErrNoSeccomp }

// DropPrivileges is only implemented on Linux.
func DropPrivileges(uid, gid int) error { return ErrNoSeccomp }
