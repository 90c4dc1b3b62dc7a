package sandbox

import "slices"

// Linux's values, written out so that Report works on any system.
const (
	afInet      = 2
	afInet6     = 10
	protExec    = 0x4
	cloneThread = 0x10000
)

// This file is the one place where what each service may still do after
// start-up is written down. Every system call says why it is needed;
// adding one is a reviewed change, and Report prints the list and its
// length for the figures.

// Call is one system call a policy allows.
type Call struct {
	// Name is the call's name in syscalls(2), as on linux/amd64.
	Name string
	// Why says what needs it.
	Why string
	// Only, when set, allows the call only when all of these hold; with
	// other arguments it is treated as not listed.
	Only []Arg
}

// Arg constrains one argument of a call.
type Arg struct {
	Index int    // 0 to 5
	Op    ArgOp  // how Value is compared
	Value uint64 //
	Show  string // how Report writes it: "flags has CLONE_THREAD"
}

// ArgOp compares an argument with a value.
type ArgOp int

const (
	Equal      ArgOp = iota // argument == Value
	BitsSet                 // argument has every bit of Value
	BitsNotSet              // argument has none of the bits of Value
)

// Family is a socket address family a service may create sockets of.
type Family struct {
	Value uint64
	Name  string
}

var (
	Inet  = Family{afInet, "AF_INET"}
	Inet6 = Family{afInet6, "AF_INET6"}
)

// Policy is what one service may do once Apply has run.
type Policy struct {
	// Service names the service in logs and in Report.
	Service string
	// Calls is the seccomp allowlist.
	Calls []Call
	// Families are the socket families the service opens sockets of after
	// start-up; socket(2) with any other family kills the process.
	Families []Family
	// ConnectTCP and BindTCP are the TCP ports Landlock lets the service
	// connect to and bind (ABI 4 and later); every other port is refused
	// with EACCES. Sockets bound before Apply keep working.
	ConnectTCP []uint16
	BindTCP    []uint16
	// ReadOnly and ReadWrite are the paths Landlock leaves reachable.
	// Without any, the service needs no files: the file-system calls are
	// not in its allowlist and fail with EPERM. With some, FileCalls join
	// the allowlist and Landlock confines them to these paths.
	ReadOnly  []string
	ReadWrite []string
}

// NeedsFiles reports whether the policy opens files after start-up.
func (p Policy) NeedsFiles() bool { return len(p.ReadOnly)+len(p.ReadWrite) > 0 }

// Allowed is the complete allowlist: Calls, the socket call for the
// policy's families, and FileCalls when the policy needs files.
func (p Policy) Allowed() []Call {
	calls := slices.Clone(p.Calls)
	calls = append(calls, socketCalls(p.Families)...)
	if cgo {
		calls = append(calls, CgoThreads...)
	}
	if p.NeedsFiles() {
		calls = append(calls, FileCalls...)
	}
	return calls
}

// Len is the figure we track: how many distinct system calls the policy
// allows.
func (p Policy) Len() int {
	seen := map[string]bool{}
	for _, c := range p.Allowed() {
		seen[c.Name] = true
	}
	return len(seen)
}

// With returns a copy of p that also allows the given calls, families,
// ports and paths: the parts of a policy that come from flags.
func (p Policy) With(extra Policy) Policy {
	p.Calls = append(slices.Clone(p.Calls), extra.Calls...)
	p.Families = appendNew(slices.Clone(p.Families), extra.Families...)
	p.ConnectTCP = appendNew(slices.Clone(p.ConnectTCP), extra.ConnectTCP...)
	p.BindTCP = appendNew(slices.Clone(p.BindTCP), extra.BindTCP...)
	p.ReadOnly = appendNew(slices.Clone(p.ReadOnly), extra.ReadOnly...)
	p.ReadWrite = appendNew(slices.Clone(p.ReadWrite), extra.ReadWrite...)
	return p
}

func appendNew[T comparable](s []T, v ...T) []T {
	for _, x := range v {
		if !slices.Contains(s, x) {
			s = append(s, x)
		}
	}
	return s
}

// socketCalls allow socket(2) for each family, with protocol 0: Go asks
// for IPPROTO_MPTCP explicitly, and Landlock's TCP rules do not cover
// Multipath TCP sockets. Calls of the same name are alternatives.
func socketCalls(fams []Family) []Call {
	var calls []Call
	for _, f := range fams {
		calls = append(calls, Call{
			Name: "socket",
			Why:  "dial the git remote, syslog, Influx, DNS peers (no Multipath TCP: Landlock's TCP rules miss it)",
			Only: []Arg{
				{Index: 0, Op: Equal, Value: f.Value, Show: "family " + f.Name},
				{Index: 2, Op: Equal, Value: 0, Show: "protocol 0"},
			},
		})
	}
	return calls
}

// GoRuntime is what the Go runtime itself needs once a program runs:
// threads, memory, timers, signals, the network poller. A binary built
// with CGO_ENABLED=0 makes no other call on its own.
var GoRuntime = []Call{
	{Name: "read", Why: "read from sockets, the poller's eventfd and already open files"},
	{Name: "write", Why: "write to sockets and to stderr (logs)"},
	{Name: "close", Why: "close sockets"},
	{Name: "futex", Why: "the runtime parks and wakes threads"},
	{Name: "mmap", Why: "the runtime's heap and stacks; never executable",
		Only: []Arg{{Index: 2, Op: BitsNotSet, Value: protExec, Show: "prot without PROT_EXEC"}}},
	{Name: "munmap", Why: "the runtime returns memory"},
	{Name: "madvise", Why: "the runtime releases unused heap pages"},
	{Name: "clone", Why: "the runtime starts OS threads; never a new process",
		Only: []Arg{{Index: 0, Op: BitsSet, Value: cloneThread, Show: "flags has CLONE_THREAD"}}},
	{Name: "exit", Why: "a thread ends"},
	{Name: "exit_group", Why: "the process ends"},
	{Name: "rt_sigaction", Why: "the runtime installs signal handlers (os/signal)"},
	{Name: "rt_sigprocmask", Why: "the runtime masks signals on new threads"},
	{Name: "rt_sigreturn", Why: "return from a signal handler (goroutine preemption uses SIGURG)"},
	{Name: "sigaltstack", Why: "every thread gets a signal stack"},
	{Name: "gettid", Why: "the runtime names threads for signals"},
	{Name: "getpid", Why: "the runtime signals its own threads"},
	{Name: "tgkill", Why: "goroutine preemption signals a thread of this process only",
		Only: []Arg{{Index: 0, Op: Equal, Value: pid(), Show: "tgid is this process"}}},
	{Name: "sched_yield", Why: "the runtime's spinning locks"},
	{Name: "nanosleep", Why: "the runtime's short sleeps (usleep)"},
	{Name: "restart_syscall", Why: "a sleep interrupted by a signal resumes"},
	{Name: "clock_gettime", Why: "time, when the vDSO falls back to the kernel"},
	{Name: "epoll_create1", Why: "the network poller starts on first use"},
	{Name: "eventfd2", Why: "the network poller's wake-up event starts with it"},
	{Name: "epoll_pwait", Why: "the network poller waits"},
	{Name: "epoll_ctl", Why: "the network poller watches sockets"},
	{Name: "fcntl", Why: "sockets are set non-blocking and close-on-exec"},
	{Name: "getrandom", Why: "crypto/rand: TSIG, TLS, ssh, DNS message ids"},
	{Name: "sched_getaffinity", Why: "the runtime re-reads the CPUs it may use to adjust GOMAXPROCS"},
	{Name: "pread64", Why: "the runtime re-reads cgroup CPU limits, the process collector /proc/self/stat, from files opened at start"},
	{Name: "uname", Why: "os.Hostname for the resolver's default search domain"},
}

// CgoThreads join every allowlist in a binary linked with cgo (go build's
// default where a C compiler is found, and -race), whose threads glibc
// starts. Release binaries are built with CGO_ENABLED=0 and go without.
// clone3, whose flags seccomp cannot inspect, fails with ENOSYS instead,
// and glibc falls back to clone.
var CgoThreads = []Call{
	{Name: "mprotect", Why: "cgo: glibc makes a new thread's stack guard page; never executable",
		Only: []Arg{{Index: 2, Op: BitsNotSet, Value: protExec, Show: "prot without PROT_EXEC"}}},
	{Name: "set_robust_list", Why: "cgo: glibc registers a new thread's robust futexes"},
	{Name: "rseq", Why: "cgo: glibc registers a new thread's restartable sequences"},
}

// Network is what a service that serves and dials sockets needs.
// Listening sockets are bound before Apply, so neither bind nor listen
// is here.
var Network = []Call{
	{Name: "connect", Why: "dial the git remote, syslog, Influx, DNS peers; Landlock limits TCP ports"},
	{Name: "accept4", Why: "accept TCP connections on the sockets bound at start"},
	{Name: "getsockopt", Why: "a non-blocking connect's outcome (SO_ERROR)"},
	{Name: "setsockopt", Why: "Go sets TCP_NODELAY, keep-alives, IPV6_V6ONLY, SO_BROADCAST on new sockets"},
	{Name: "getsockname", Why: "the local address of a new connection"},
	{Name: "getpeername", Why: "the remote address of an accepted connection"},
	{Name: "recvfrom", Why: "read UDP datagrams and TCP streams"},
	{Name: "sendto", Why: "send UDP datagrams and TCP streams"},
	{Name: "recvmsg", Why: "read UDP datagrams with their destination address"},
	{Name: "sendmsg", Why: "answer UDP from the address the query came to"},
	{Name: "recvmmsg", Why: "the DNS server's batched UDP path reads several datagrams at once"},
	{Name: "sendmmsg", Why: "the DNS server's batched UDP path answers several datagrams at once"},
	{Name: "shutdown", Why: "half-close a TCP connection"},
}

// FileCalls join the allowlist of a policy with paths; Landlock confines
// them to those paths. A file:// git remote needs them, since the
// repository is read and written in place.
var FileCalls = []Call{
	{Name: "openat", Why: "open a file under a path the policy names"},
	{Name: "newfstatat", Why: "stat a file under a path the policy names"},
	{Name: "fstat", Why: "stat an open file"},
	{Name: "lseek", Why: "seek in a pack file"},
	{Name: "getdents64", Why: "list a folder of the repository"},
	{Name: "mkdirat", Why: "create a folder for new objects"},
	{Name: "renameat", Why: "move a new pack or ref into place"},
	{Name: "unlinkat", Why: "remove a temporary file"},
	{Name: "ftruncate", Why: "rewrite a ref file"},
	{Name: "flock", Why: "lock a ref file while it changes"},
	{Name: "fsync", Why: "make a written object durable"},
	{Name: "fchmod", Why: "make an object file read-only, as git does"},
	{Name: "fchmodat", Why: "make an object file read-only, as git does"},
}

// Refused are the file-system look-ups Go's standard library makes
// lazily and copes without (the resolver re-checks /etc/resolv.conf and
// /etc/hosts every few seconds, for example): outside the allowlist they
// fail with EPERM instead of killing the process. They are not allowed
// and do not count.
var Refused = []string{"open", "openat", "openat2", "stat", "lstat", "newfstatat", "statx", "access", "faccessat", "faccessat2", "readlink", "readlinkat"}

var inet = []Family{Inet, Inet6}

// The services. Each is the Go runtime, the network, and what it alone
// needs; the chassis adds ports and paths from flags (see With).
var (
	DNSPrimary   = Policy{Service: "dns-primary", Calls: concat(GoRuntime, Network), Families: inet}
	DNSSecondary = Policy{Service: "dns-secondary", Calls: concat(GoRuntime, Network), Families: inet, ConnectTCP: []uint16{53}}
	DNSACME      = Policy{Service: "dns-acme", Calls: concat(GoRuntime, Network), Families: inet, ConnectTCP: []uint16{53, 443}}
	CalDAV       = Policy{Service: "caldav", Calls: concat(GoRuntime, Network), Families: inet}
)

// Services lists every service's policy, for Report and tests.
var Services = []Policy{DNSPrimary, DNSSecondary, DNSACME, CalDAV}

func concat(lists ...[]Call) []Call {
	var out []Call
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}
