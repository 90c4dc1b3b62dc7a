package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/primary"
	"github.com/quercus-dev/quercus/internal/peer"
	"github.com/quercus-dev/quercus/sandbox"
	"github.com/quercus-dev/quercus/service"
)

// The sandbox cannot be undone, so these tests run dns-primary in a child:
// this test binary again, serving with QUERCUS_PRIMARY_CASE naming what
// it tries, from a goroutine of its own, once the sandbox is on.
const caseEnv = "QUERCUS_PRIMARY_CASE"

func TestMain(m *testing.M) {
	if c := os.Getenv(caseEnv); c != "" {
		os.Exit(child(c))
	}
	os.Exit(m.Run())
}

func child(name string) int {
	f := service.Flags{Remote: os.Getenv("QUERCUS_REMOTE"), Listen: os.Getenv("QUERCUS_LISTEN"), LogLevel: "warn"}
	go func() {
		for {
			if _, ok := sandbox.Current(); ok {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		fmt.Println(try(name))
	}()
	if err := run(f, false, 0, nil); err != nil {
		fmt.Println("run:", err)
		return 1
	}
	return 0
}

func try(name string) string {
	switch name {
	case "open":
		_, err := os.Open("/etc/hostname")
		return "open: " + errno(err)
	case "exec":
		return "execve: " + errno(syscall.Exec("/bin/true", []string{"true"}, nil))
	case "os/exec":
		return "os/exec: " + errno(exec.Command("/bin/true").Run())
	case "unix":
		_, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_DGRAM, 0)
		return "unix socket: " + errno(err)
	case "netlink":
		_, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW, 0)
		return "netlink socket: " + errno(err)
	case "tcp":
		_, err := net.Dial("tcp", os.Getenv("QUERCUS_OTHER"))
		return "dial another TCP port: " + errno(err)
	case "ready":
		return "ready" // getuid is not in the allowlist: the parent looks
	}
	return "unknown case " + name
}

func errno(err error) string {
	var e syscall.Errno
	if errors.As(err, &e) {
		return e.Error()
	}
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// TestSandboxedPrimary: once dns-primary has started, a file outside its
// remote cannot be opened, no program can be run, no socket of a family
// it does not use can be made, and no TCP port outside its policy can be
// dialled. Calls outside the allowlist kill it; the others fail, and it
// goes on serving.
func TestSandboxedPrimary(t *testing.T) {
	if !sandbox.SeccompSupported() {
		t.Skip("this kernel has no seccomp filters")
	}
	peer.Require(t, "git")
	remote, _, err := primary.Demo(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	other, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	dialFails := "dial another TCP port: permission denied"
	if sandbox.LandlockABI() < 4 {
		dialFails = "dial another TCP port: ok"
	}
	for _, tc := range []struct {
		name, want string // want "" : killed
	}{
		{"open", "open: permission denied"}, // Landlock: only the remote's folder
		{"os/exec", "os/exec: permission denied"},
		{"exec", ""},
		{"unix", ""},
		{"netlink", ""},
		{"tcp", dialFails},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := fmt.Sprintf("127.0.0.1:%d", peer.FreePort(t))
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), caseEnv+"="+tc.name, "QUERCUS_REMOTE="+remote, "QUERCUS_LISTEN="+addr, "QUERCUS_OTHER="+other.Addr().String())
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			line, _ := bufio.NewReader(out).ReadString('\n')
			line = strings.TrimSpace(line)
			if tc.want == "" {
				go io.Copy(io.Discard, out)
				err := cmd.Wait()
				if cmd.ProcessState.ExitCode() != 2 || !strings.Contains(stderr.String(), "SIGSYS: bad system call") {
					t.Fatalf("%s: printed %q, ended with %v, want killed by SIGSYS; stderr:\n%s", tc.name, line, err, stderr.String())
				}
				return
			}
			if line != tc.want {
				t.Errorf("got %q, want %q; stderr:\n%s", line, tc.want, stderr.String())
			}
			// It failed, and the service goes on serving.
			m := new(dns.Msg)
			m.SetQuestion("example.com.", dns.TypeSOA)
			r, _, err := (&dns.Client{Timeout: 5 * time.Second}).Exchange(m, addr)
			if err != nil || len(r.Answer) != 1 {
				t.Errorf("after %s: %v %v; stderr:\n%s", tc.name, r, err, stderr.String())
			}
		})
	}
}

// TestSandboxedPrimaryDropsRoot: started as root, with a remote that
// nobody owns, dns-primary serves as nobody.
func TestSandboxedPrimaryDropsRoot(t *testing.T) {
	if os.Geteuid() != 0 || !sandbox.SeccompSupported() {
		t.Skip("needs root and seccomp")
	}
	peer.Require(t, "git")
	dir := t.TempDir()
	os.Chmod(filepath.Dir(dir), 0o755) // t.TempDir's parent is root's alone
	os.Chmod(dir, 0o755)
	remote, _, err := primary.Demo(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody")
	}
	peer.Run(t, "", "chown", "-R", nobody.Uid+":"+nobody.Gid, remote)
	addr := fmt.Sprintf("127.0.0.1:%d", peer.FreePort(t))
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), caseEnv+"=ready", "QUERCUS_REMOTE="+remote, "QUERCUS_LISTEN="+addr)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "ready\n" {
		t.Fatalf("child said %q; stderr:\n%s", line, stderr.String())
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("Uid:\t%s\t%[1]s\t%[1]s\t%[1]s\n", nobody.Uid)
	if !strings.Contains(string(status), want) {
		t.Errorf("child runs as\n%s\nwant %q", status, want)
	}
	m := new(dns.Msg)
	m.SetQuestion("example.com.", dns.TypeSOA)
	if r, _, err := (&dns.Client{Timeout: 5 * time.Second}).Exchange(m, addr); err != nil || len(r.Answer) != 1 {
		t.Errorf("serving as nobody: %v %v; stderr:\n%s", r, err, stderr.String())
	}
}

// TestSandboxedPrimaryHTTPRemote: with a remote over HTTP the service
// needs no file at all: opening one fails with EPERM (seccomp, not
// Landlock), and a dynamic update is still committed and pushed.
func TestSandboxedPrimaryHTTPRemote(t *testing.T) {
	if !sandbox.SeccompSupported() {
		t.Skip("this kernel has no seccomp filters")
	}
	gitPath := peer.Require(t, "git")[0]
	dir := t.TempDir()
	bare, key, err := primary.Demo(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	peer.Run(t, bare, "git", "config", "http.receivepack", "true")
	srv := httptest.NewServer(&cgi.Handler{
		Path: gitPath,
		Args: []string{"http-backend"},
		Env:  []string{"GIT_PROJECT_ROOT=" + dir, "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_NOSYSTEM=1", "HOME=" + t.TempDir()},
	})
	defer srv.Close()

	addr := fmt.Sprintf("127.0.0.1:%d", peer.FreePort(t))
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), caseEnv+"=open", "QUERCUS_REMOTE="+srv.URL+"/zones.git", "QUERCUS_LISTEN="+addr)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "open: operation not permitted\n" {
		t.Fatalf("child said %q; stderr:\n%s", line, stderr.String())
	}

	m := new(dns.Msg)
	m.SetUpdate("example.com.")
	rr, _ := dns.NewRR("sandboxed.example.com. 300 IN A 192.0.2.77")
	m.Insert([]dns.RR{rr})
	m.SetTsig(key.Name, key.Algorithm, 300, time.Now().Unix())
	c := &dns.Client{Net: "tcp", Timeout: 10 * time.Second, TsigSecret: map[string]string{key.Name: key.Secret}}
	r, _, err := c.Exchange(m, addr)
	if err != nil || r.Rcode != dns.RcodeSuccess {
		t.Fatalf("update: %v %v; stderr:\n%s", r, err, stderr.String())
	}
	if got := peer.Run(t, bare, "git", "show", "main:example.com"); !strings.Contains(got, "192.0.2.77") {
		t.Errorf("the update did not reach the remote:\n%s\nstderr:\n%s", got, stderr.String())
	}
}
