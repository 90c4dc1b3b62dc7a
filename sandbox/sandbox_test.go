package sandbox_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/quercus-dev/quercus/internal/sandboxtest"
	"github.com/quercus-dev/quercus/sandbox"
)

// A sandbox cannot be undone, so each case runs in a child: this test
// binary again, with QUERCUS_SANDBOX_CASE naming what the child does
// after Apply, from a goroutine other than the one that applied it.
const caseEnv = "QUERCUS_SANDBOX_CASE"

func TestMain(m *testing.M) {
	if c := os.Getenv(caseEnv); c != "" {
		os.Exit(child(c))
	}
	os.Exit(m.Run())
}

// child applies a policy and tries one thing; it prints what happened and
// exits 0, unless the kernel kills it first.
func child(name string) int {
	dir := os.Getenv("QUERCUS_SANDBOX_DIR")
	mode := sandbox.On
	if strings.HasSuffix(name, "/log") {
		mode = sandbox.Log
		name = strings.TrimSuffix(name, "/log")
	}
	p := sandbox.DNSPrimary
	if dir != "" {
		p.ReadWrite = []string{dir}
	}
	if port := os.Getenv("QUERCUS_SANDBOX_PORT"); port != "" {
		var n uint16
		fmt.Sscan(port, &n)
		p.ConnectTCP = []uint16{n}
	}
	if _, err := sandbox.Apply(p, mode, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		fmt.Println("apply:", err)
		return 1
	}
	done := make(chan string)
	go func() { done <- try(name, dir) }()
	fmt.Println(<-done)
	return 0
}

func try(name, dir string) string {
	switch name {
	case "open":
		_, err := os.Open("/etc/hostname")
		return fmt.Sprintf("open: %v", sandboxtest.Errno(err))
	case "open-inside":
		if err := os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644); err != nil {
			return fmt.Sprintf("write inside: %v", err)
		}
		_, err := os.Open("/etc/hostname")
		return fmt.Sprintf("write inside: ok; open outside: %v", sandboxtest.Errno(err))
	case "exec":
		err := syscall.Exec("/bin/true", []string{"true"}, nil)
		return fmt.Sprintf("execve: %v", err)
	case "spawn":
		// As os/exec would, minus the /dev/null it opens first (which
		// fails with EPERM): the fork itself must not happen.
		_, err := os.StartProcess("/bin/true", []string{"true"}, &os.ProcAttr{Files: []*os.File{os.Stdin, os.Stdout, os.Stderr}})
		return fmt.Sprintf("spawn: %v", err)
	case "os/exec":
		err := exec.Command("/bin/true").Run()
		return fmt.Sprintf("os/exec: %v", sandboxtest.Errno(err))
	case "unix":
		_, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
		return fmt.Sprintf("unix socket: %v", sandboxtest.Errno(err))
	case "packet":
		_, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_RAW, 0)
		return fmt.Sprintf("packet socket: %v", sandboxtest.Errno(err))
	case "tcp":
		c, err := net.Dial("tcp", os.Getenv("QUERCUS_SANDBOX_ADDR"))
		if err != nil {
			return fmt.Sprintf("dial allowed port: %v", err)
		}
		c.Close()
		_, err = net.Dial("tcp", os.Getenv("QUERCUS_SANDBOX_OTHER"))
		return fmt.Sprintf("dial allowed port: ok; dial other port: %v", sandboxtest.Errno(err))
	}
	return "unknown case " + name
}

// run starts a child for one case and returns its stdout, stderr and
// exit status (-1 and the signal when killed by one).
func run(t *testing.T, name string, env ...string) (stdout, stderr string, exit int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append(env, caseEnv+"="+name)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return strings.TrimSpace(out.String()), errb.String(), cmd.ProcessState.ExitCode()
}

func requireSandbox(t *testing.T) {
	t.Helper()
	if !sandbox.SeccompSupported() {
		t.Skip("this kernel has no seccomp filters")
	}
}

// killed checks that the child died of a call outside the allowlist, and
// that what it printed on the way says so.
func killed(t *testing.T, stdout, stderr string, exit int) {
	t.Helper()
	if exit != 2 || !strings.Contains(stderr, "SIGSYS: bad system call") {
		t.Errorf("exit %d, stdout %q, want the process killed by SIGSYS; stderr:\n%s", exit, stdout, stderr)
	}
}

func TestForbiddenCallsKill(t *testing.T) {
	requireSandbox(t)
	for _, c := range []string{"exec", "spawn", "unix", "packet"} {
		t.Run(c, func(t *testing.T) {
			stdout, stderr, exit := run(t, c)
			killed(t, stdout, stderr, exit)
		})
	}
}

// TestOpenFailsWithEPERM: a file cannot be opened, and os/exec, which
// opens /dev/null first, fails there before it could fork.
func TestOpenFailsWithEPERM(t *testing.T) {
	requireSandbox(t)
	for c, want := range map[string]string{
		"open":    "open: operation not permitted",
		"os/exec": "os/exec: operation not permitted",
	} {
		stdout, stderr, exit := run(t, c)
		if exit != 0 || stdout != want {
			t.Errorf("%s: exit %d, %q, want %q; stderr:\n%s", c, exit, stdout, want, stderr)
		}
	}
}

func TestLandlockKeepsOnlyThePolicysPaths(t *testing.T) {
	requireSandbox(t)
	if sandbox.LandlockABI() == 0 {
		t.Skip("this kernel has no Landlock")
	}
	stdout, stderr, exit := run(t, "open-inside", "QUERCUS_SANDBOX_DIR="+t.TempDir())
	if exit != 0 || stdout != "write inside: ok; open outside: permission denied" {
		t.Errorf("exit %d, %q; stderr:\n%s", exit, stdout, stderr)
	}
}

func TestLandlockKeepsOnlyThePolicysPorts(t *testing.T) {
	requireSandbox(t)
	if sandbox.LandlockABI() < 4 {
		t.Skip("this kernel's Landlock has no TCP port rules (ABI < 4)")
	}
	allowed, other := listen(t), listen(t)
	_, port, _ := net.SplitHostPort(allowed.Addr().String())
	stdout, stderr, exit := run(t, "tcp", "QUERCUS_SANDBOX_PORT="+port,
		"QUERCUS_SANDBOX_ADDR="+allowed.Addr().String(), "QUERCUS_SANDBOX_OTHER="+other.Addr().String())
	if exit != 0 || stdout != "dial allowed port: ok; dial other port: permission denied" {
		t.Errorf("exit %d, %q; stderr:\n%s", exit, stdout, stderr)
	}
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

func TestLogModeAllowsAndRecords(t *testing.T) {
	requireSandbox(t)
	stdout, stderr, exit := run(t, "unix/log")
	if exit != 0 || stdout != "unix socket: ok" {
		t.Errorf("exit %d, %q; stderr:\n%s", exit, stdout, stderr)
	}
}

var update = flag.Bool("update", false, "rewrite the golden reports in testdata")

// TestReportGolden keeps each service's report, as a release binary
// prints it, in testdata: a call added to or removed from an allowlist
// shows in review, and so does the count.
func TestReportGolden(t *testing.T) {
	for _, p := range sandbox.Services {
		t.Run(p.Service, func(t *testing.T) {
			var b bytes.Buffer
			sandbox.WithoutCgo(func() { sandbox.Report(&b, p) })
			golden := filepath.Join("testdata", p.Service+".txt")
			if *update {
				if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if b.String() != string(want) {
				t.Errorf("report of %s differs from %s (go test ./sandbox -update to accept):\n%s", p.Service, golden, b.String())
			}
		})
	}
}

func TestReport(t *testing.T) {
	var b bytes.Buffer
	if err := sandbox.Report(&b, sandbox.DNSPrimary); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		fmt.Sprintf("allowed system calls: %d\n", sandbox.DNSPrimary.Len()),
		"clone", "flags has CLONE_THREAD", "family AF_INET6", "refused with EPERM", "openat",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "execve") {
		t.Errorf("report allows execve:\n%s", out)
	}
}

// TestPolicies checks every service's policy: each call has a reason, no
// call is listed twice without arguments telling the entries apart, and
// none of the calls a sandboxed service must never make is allowed.
func TestPolicies(t *testing.T) {
	never := []string{"execve", "execveat", "fork", "vfork", "clone3", "ptrace", "mount", "setuid", "setns", "unshare", "bpf", "bind", "listen", "openat"}
	for _, p := range sandbox.Services {
		t.Run(p.Service, func(t *testing.T) {
			seen := map[string]bool{}
			for _, c := range p.Allowed() {
				if c.Why == "" {
					t.Errorf("%s has no reason", c.Name)
				}
				if seen[c.Name] && len(c.Only) == 0 {
					t.Errorf("%s listed twice", c.Name)
				}
				seen[c.Name] = true
			}
			for _, n := range never {
				if seen[n] {
					t.Errorf("%s allows %s", p.Service, n)
				}
			}
			t.Logf("%s: %d system calls", p.Service, p.Len())
		})
	}
}
