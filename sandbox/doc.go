// Package sandbox lets a service shrink what it can do once it has
// started: no new privileges, Landlock denying every path but the few a
// policy names (and, on kernels with Landlock ABI 4 or later, TCP bind and
// connect to all but the policy's ports), and a seccomp-BPF allowlist of
// the system calls the service still needs, on every thread.
//
// A Policy per service is written down in policy.go, each system call with
// the reason it is needed; Report prints it. Apply cannot be undone: a
// process calls it once, after it has bound its sockets and loaded what it
// needs from files.
package sandbox
