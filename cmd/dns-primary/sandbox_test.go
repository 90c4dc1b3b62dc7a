package main

import (
	"context"
	"fmt"
	"net"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/primary"
	"github.com/quercus-dev/quercus/dns/tsig"
	"github.com/quercus-dev/quercus/internal/peer"
	"github.com/quercus-dev/quercus/internal/sandboxtest"
	"github.com/quercus-dev/quercus/sandbox"
	"github.com/quercus-dev/quercus/service"
)

// TestSandboxChild is where the sandbox tests' children start: they
// serve as dns-primary, with flags from the environment.
func TestSandboxChild(t *testing.T) {
	sandboxtest.Child(func() error {
		f := service.Flags{Remote: os.Getenv("QUERCUS_REMOTE"), Listen: os.Getenv("QUERCUS_LISTEN"), LogLevel: "warn",
			SSHKey: os.Getenv("QUERCUS_SSH_KEY"), SSHKnownHosts: os.Getenv("QUERCUS_SSH_KNOWN_HOSTS")}
		return run(f, false, 0, nil, 0)
	})
}

// TestSandboxedPrimary: once dns-primary has started, a file outside its
// remote cannot be opened, no program can be run, no socket of a family
// it does not use can be made, and no TCP port outside its policy can be
// dialled. Calls outside the allowlist kill it; the others fail, and it
// goes on serving.
func TestSandboxedPrimary(t *testing.T) {
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
	dial := "dial another TCP port: permission denied"
	if sandbox.LandlockABI() < 4 {
		dial = "dial another TCP port: ok"
	}
	addr := fmt.Sprintf("127.0.0.1:%d", peer.FreePort(t))
	env := []string{"QUERCUS_REMOTE=" + remote, "QUERCUS_LISTEN=" + addr, "QUERCUS_SANDBOX_TCP=" + other.Addr().String()}
	probes := append(sandboxtest.Standard("permission denied"), // Landlock: the remote's folder only
		sandboxtest.Probe{Name: "os/exec", Want: "os/exec: permission denied"}, // its /dev/null
		sandboxtest.Probe{Name: "tcp", Want: dial})
	sandboxtest.Run(t, "TestSandboxChild", env, func(t *testing.T) { soa(t, addr) }, probes...)
}

// soa checks that the child still answers.
func soa(t *testing.T, addr string) {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion("example.com.", dns.TypeSOA)
	r, _, err := (&dns.Client{Timeout: 5 * time.Second}).Exchange(m, addr)
	if err != nil || len(r.Answer) != 1 {
		t.Errorf("no longer serving: %v %v", r, err)
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
	p := sandboxtest.Start(t, "TestSandboxChild", []string{"QUERCUS_REMOTE=" + remote, "QUERCUS_LISTEN=" + addr}, "ready")
	if p.Line != "ready" {
		t.Fatalf("child said %q; stderr:\n%s", p.Line, p.Stderr())
	}
	// getuid is not in the allowlist: look from outside.
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("Uid:\t%s\t%[1]s\t%[1]s\t%[1]s\n", nobody.Uid)
	if !strings.Contains(string(status), want) {
		t.Errorf("child runs as\n%s\nwant %q", status, want)
	}
	soa(t, addr)
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
	p := sandboxtest.Start(t, "TestSandboxChild", []string{"QUERCUS_REMOTE=" + srv.URL + "/zones.git", "QUERCUS_LISTEN=" + addr}, "open")
	if p.Line != "open: operation not permitted" {
		t.Fatalf("child said %q; stderr:\n%s", p.Line, p.Stderr())
	}

	updateReaches(t, addr, key, bare, p)
}

// updateReaches sends a dynamic update to the child at addr and checks
// it was committed and pushed to bare.
func updateReaches(t *testing.T, addr string, key tsig.Key, bare string, p *sandboxtest.Process) {
	t.Helper()
	m := new(dns.Msg)
	m.SetUpdate("example.com.")
	rr, _ := dns.NewRR("sandboxed.example.com. 300 IN A 192.0.2.77")
	m.Insert([]dns.RR{rr})
	m.SetTsig(key.Name, key.Algorithm, 300, time.Now().Unix())
	c := &dns.Client{Net: "tcp", Timeout: 10 * time.Second, TsigSecret: map[string]string{key.Name: key.Secret}}
	r, _, err := c.Exchange(m, addr)
	if err != nil || r.Rcode != dns.RcodeSuccess {
		t.Fatalf("update: %v %v; stderr:\n%s", r, err, p.Stderr())
	}
	if got := peer.Run(t, bare, "git", "show", "main:example.com"); !strings.Contains(got, "192.0.2.77") {
		t.Errorf("the update did not reach the remote:\n%s\nstderr:\n%s", got, p.Stderr())
	}
}

// TestSandboxedPrimarySSHRemote: over ssh, the usual remote, the service
// needs no file either, and started as root it runs as nobody; updates
// are still pushed.
func TestSandboxedPrimarySSHRemote(t *testing.T) {
	d := peer.StartSSHD(t)
	bare, key, err := primary.Demo(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", peer.FreePort(t))
	p := sandboxtest.Start(t, "TestSandboxChild", []string{"QUERCUS_REMOTE=" + d.URL(bare), "QUERCUS_LISTEN=" + addr,
		"QUERCUS_SSH_KEY=" + d.Key, "QUERCUS_SSH_KNOWN_HOSTS=" + d.KnownHosts}, "open")
	if p.Line != "open: operation not permitted" {
		t.Fatalf("child said %q; stderr:\n%s", p.Line, p.Stderr())
	}
	if nobody, err := user.Lookup("nobody"); err == nil && os.Geteuid() == 0 {
		status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Cmd.Process.Pid))
		if !strings.Contains(string(status), "Uid:\t"+nobody.Uid+"\t") {
			t.Errorf("started as root, the child runs as\n%s", status)
		}
	}
	updateReaches(t, addr, key, bare, p)
}
