package sandboxtest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/quercus-dev/quercus/sandbox"
)

// probeEnv names, in a child, the probe to try.
const probeEnv = "QUERCUS_SANDBOX_PROBE"

// Probe is one thing to try once the service is sandboxed.
type Probe struct {
	Name string // open, exec, spawn, os/exec, unix, netlink, packet, tcp, ready
	// Want is the line the child prints; empty when the probe must kill
	// the process (SIGSYS).
	Want string
}

// Standard are the probes every service must pass. open is the error a
// file outside the policy gets: "operation not permitted" (seccomp) for
// a service without files, "permission denied" (Landlock) for one that
// may use a folder.
func Standard(open string) []Probe {
	return []Probe{
		{"open", "open: " + open},
		{"exec", ""},
		{"spawn", ""},
		{"unix", ""},
		{"netlink", ""},
		{"packet", ""},
	}
}

// Child makes the calling test the child's entry point. In the parent it
// returns at once. In a child it runs serve (the service's own run
// function) and, once the sandbox is applied, tries the probe from
// another goroutine and prints the outcome; the child ends when serve
// does, or when the probe kills it.
func Child(serve func() error) {
	name := os.Getenv(probeEnv)
	if name == "" {
		return
	}
	go func() {
		for {
			if _, ok := sandbox.Current(); ok {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		fmt.Println(try(name))
	}()
	err := serve()
	fmt.Println("serve:", err)
	os.Exit(1)
}

func try(name string) string {
	switch name {
	case "ready":
		return "ready"
	case "open":
		_, err := os.Open("/etc/hostname")
		return "open: " + Errno(err)
	case "exec":
		return "execve: " + Errno(syscall.Exec("/bin/true", []string{"true"}, nil))
	case "spawn":
		// As os/exec would, but without the /dev/null it opens first.
		_, err := os.StartProcess("/bin/true", []string{"true"}, &os.ProcAttr{Files: []*os.File{os.Stdin, os.Stdout, os.Stderr}})
		return "spawn: " + Errno(err)
	case "os/exec":
		return "os/exec: " + Errno(exec.Command("/bin/true").Run())
	case "unix":
		_, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_DGRAM, 0)
		return "unix socket: " + Errno(err)
	case "netlink":
		_, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW, 0)
		return "netlink socket: " + Errno(err)
	case "packet":
		_, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_RAW, 0)
		return "packet socket: " + Errno(err)
	case "tcp":
		_, err := net.Dial("tcp", os.Getenv("QUERCUS_SANDBOX_TCP"))
		return "dial another TCP port: " + Errno(err)
	}
	return "unknown probe " + name
}

// Errno names the system error under err ("ok" for none), so that a
// probe's output is the same from one machine to the next.
func Errno(err error) string {
	var e syscall.Errno
	if errors.As(err, &e) {
		return e.Error()
	}
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// Process is a started child.
type Process struct {
	Cmd    *exec.Cmd
	Line   string // the first line it printed: the probe's outcome
	stderr *strings.Builder
}

// Stderr is what the child logged so far.
func (p *Process) Stderr() string { return p.stderr.String() }

// Start runs the test named test (which calls Child) in a child with env,
// trying probe, and returns once the child has printed the outcome. The
// child is killed when t ends.
func Start(t *testing.T, test string, env []string, probe string) *Process {
	t.Helper()
	if !sandbox.SeccompSupported() {
		t.Skip("this kernel has no seccomp filters")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$")
	cmd.Env = append(append(os.Environ(), env...), probeEnv+"="+probe)
	p := &Process{Cmd: cmd, stderr: new(strings.Builder)}
	cmd.Stderr = p.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	r := bufio.NewReader(out)
	p.Line, _ = r.ReadString('\n')
	p.Line = strings.TrimSpace(p.Line)
	go io.Copy(io.Discard, r)
	return p
}

// Run tries each probe in a child of its own. A probe with Want must
// print it, and then alive, if given, checks the service still works; a
// probe without must kill the child with SIGSYS.
func Run(t *testing.T, test string, env []string, alive func(t *testing.T), probes ...Probe) {
	for _, pr := range probes {
		t.Run(pr.Name, func(t *testing.T) {
			p := Start(t, test, env, pr.Name)
			if pr.Want == "" {
				err := p.Cmd.Wait()
				if p.Cmd.ProcessState.ExitCode() != 2 || !strings.Contains(p.Stderr(), "SIGSYS: bad system call") {
					t.Fatalf("printed %q, ended with %v; want it killed by SIGSYS; stderr:\n%s", p.Line, err, p.Stderr())
				}
				return
			}
			if p.Line != pr.Want {
				t.Fatalf("printed %q, want %q; stderr:\n%s", p.Line, pr.Want, p.Stderr())
			}
			if alive != nil {
				alive(t)
			}
		})
	}
}
