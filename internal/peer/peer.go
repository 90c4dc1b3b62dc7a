package peer

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// EnvInterop is the variable that turns interop tests on.
const EnvInterop = "QUERCUS_INTEROP"

// Enabled reports whether interop tests should run.
func Enabled() bool { return os.Getenv(EnvInterop) == "1" }

// Require skips t unless interop tests are enabled, and fails it if they are
// but a program is missing. It returns the programs' absolute paths.
func Require(t testing.TB, programs ...string) []string {
	t.Helper()
	if !Enabled() {
		t.Skipf("interop test against %s: set %s=1 to run it (make test does)", strings.Join(programs, ", "), EnvInterop)
	}
	paths := make([]string, len(programs))
	for i, p := range programs {
		path, err := lookPath(p)
		if err != nil {
			t.Fatalf("%s=1 but peer %s is missing (make test installs it): %v", EnvInterop, p, err)
		}
		paths[i] = path
	}
	return paths
}

// lookPath also searches the sbin folders, which are not on every PATH.
func lookPath(p string) (string, error) {
	if path, err := exec.LookPath(p); err == nil {
		return path, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		path := dir + "/" + p
		if fi, err := os.Stat(path); err == nil && fi.Mode()&0o111 != 0 {
			return path, nil
		}
	}
	return exec.LookPath(p)
}

// handedOut holds the ports FreePort returned in this process: once
// closed, a port may be picked again by the kernel, and two peers of one
// test told the same port would fight over it.
var handedOut struct {
	sync.Mutex
	ports map[int]bool
}

// ListenBoth listens for UDP and TCP on one loopback port, for a test's
// own DNS server. The port UDP got may be in use for TCP (another test's
// connection, on a busy machine): then it tries another.
func ListenBoth(t testing.TB) (net.PacketConn, net.Listener) {
	t.Helper()
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln
		}
		pc.Close()
	}
	t.Fatal("no loopback port free for both UDP and TCP")
	return nil, nil
}

// FreePort returns a loopback port that was free for both TCP and UDP a
// moment ago, for peers that must be told their port on the command line.
// It never returns the same port twice in one process.
func FreePort(t testing.TB) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err != nil {
			continue
		}
		u.Close()
		handedOut.Lock()
		fresh := !handedOut.ports[port]
		if fresh {
			if handedOut.ports == nil {
				handedOut.ports = map[int]bool{}
			}
			handedOut.ports[port] = true
		}
		handedOut.Unlock()
		if fresh {
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// Start runs a peer in the background until the test ends. Its output is
// kept and shown if the test fails.
func Start(t testing.TB, name string, args ...string) *exec.Cmd {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		if t.Failed() {
			t.Logf("%s output:\n%s", name, out.String())
		}
	})
	return cmd
}

// WaitTCP waits until addr accepts TCP connections.
func WaitTCP(t testing.TB, addr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not start listening within %v: %v", addr, timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Run runs a command to completion and fails the test if it fails.
func Run(t testing.TB, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Build compiles the named commands of this module (cmd/<name>) into a
// temporary folder and returns it: end-to-end tests run the real binaries.
func Build(t testing.TB, cmds ...string) string {
	t.Helper()
	root := strings.TrimSpace(Run(t, "", "go", "list", "-m", "-f", "{{.Dir}}"))
	dir := t.TempDir()
	for _, c := range cmds {
		Run(t, root, "go", "build", "-o", filepath.Join(dir, c), "./cmd/"+c)
	}
	return dir
}
