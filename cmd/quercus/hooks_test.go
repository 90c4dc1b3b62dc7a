package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/quercus-dev/quercus/dns/tsig"
	"github.com/quercus-dev/quercus/internal/peer"
)

// gitEnv runs git with a configuration of its own, not the user's.
type gitEnv struct {
	t    *testing.T
	path string // the git program
	env  []string
}

func newGitEnv(t *testing.T) *gitEnv {
	path := peer.Require(t, "git")[0]
	home := t.TempDir()
	var env []string
	for _, v := range os.Environ() {
		// the hooks' quercus must not see the tester's settings
		if !strings.HasPrefix(v, "QUERCUS_") && !strings.HasPrefix(v, "GIT_") {
			env = append(env, v)
		}
	}
	env = append(env, "HOME="+home, "XDG_CONFIG_HOME="+home, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.com",
		"GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.com")
	return &gitEnv{t, path, env}
}

// run runs git in dir and returns its output; failing is an error only if
// ok is true.
func (g *gitEnv) run(dir string, ok bool, args ...string) (string, error) {
	g.t.Helper()
	cmd := exec.Command(g.path, args...)
	cmd.Dir, cmd.Env = dir, g.env
	out, err := cmd.CombinedOutput()
	if err != nil && ok {
		g.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), err
}

// TestHooks installs examples/hooks into a bare repository and pushes to
// it: the pre-receive hook refuses broken zones and unchanged serials and
// shows the changes of a good push; the post-receive hook notifies a DNS
// server, which checks the TSIG.
func TestHooks(t *testing.T) {
	g := newGitEnv(t)
	dir := t.TempDir()

	// quercus for the hooks: this test binary, acting as the command.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "quercus")
	script := "#!/bin/sh\n" + beQuercus + "=1 exec '" + self + "' \"$@\"\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}

	key := mustKey(t, "hook._notify.example.com", "c2VjcmV0")
	keyFile := filepath.Join(dir, "notify.key")
	if err := os.WriteFile(keyFile, []byte(key.Flag()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	server := startNotifyServer(t, []tsig.Key{key}, serverOptions{})

	remote := filepath.Join(dir, "zones.git")
	g.run(dir, true, "init", "--quiet", "--bare", "--initial-branch=main", remote)
	for _, hook := range []string{"pre-receive", "post-receive"} {
		src, err := os.ReadFile(filepath.Join("..", "..", "examples", "hooks", hook))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(remote, "hooks", hook), src, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	g.run(remote, true, "config", "quercus.bin", bin)
	g.run(remote, true, "config", "quercus.server", server.addr)
	g.run(remote, true, "config", "quercus.keyfile", keyFile)

	work := filepath.Join(dir, "work")
	g.run(dir, true, "init", "--quiet", "--initial-branch=main", work)
	g.run(work, true, "remote", "add", "origin", remote)
	// push commits files and pushes; it returns git's output and whether
	// the push went through.
	push := func(files map[string]string) (string, bool) {
		t.Helper()
		for name, content := range files {
			if err := os.WriteFile(filepath.Join(work, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		g.run(work, true, "add", "--all")
		g.run(work, true, "commit", "--quiet", "--message", "change")
		out, err := g.run(work, false, "push", "origin", "HEAD:main")
		return out, err == nil
	}
	head := func() string {
		out, _ := g.run(remote, false, "rev-parse", "--verify", "--quiet", "main")
		return strings.TrimSpace(out)
	}

	// A first push of good zones: accepted, and the server notified of
	// the zones its key may notify.
	out, ok := push(map[string]string{"example.com": goodZone, "example.com._keys": goodKeys, "README": "zones"})
	if !ok {
		t.Fatalf("good push refused:\n%s", out)
	}
	if !strings.Contains(out, "remote: example.com.: "+server.addr+" acknowledged the NOTIFY") {
		t.Errorf("push output shows no notify:\n%s", out)
	}
	want := []string{"example.com. udp hook._notify.example.com."}
	if got := server.accepted(); !slices.Equal(got, want) {
		t.Errorf("server accepted %q, want %q; push output:\n%s", got, want, out)
	}
	good := head()

	// A broken zone: refused, with the problem.
	out, ok = push(map[string]string{"example.com": change(t, goodZone, "2024010101", "2024010102") + "www IN CNAME ns1\n"})
	if ok || !strings.Contains(out, "remote: example.com: www.example.com. CNAME: CNAME beside other data (A)") ||
		!strings.Contains(out, "pre-receive hook declined") {
		t.Errorf("broken zone: pushed %v, output:\n%s", ok, out)
	}
	if head() != good {
		t.Errorf("the remote moved after a refused push")
	}

	// Records changed but not the serial: refused.
	g.run(work, true, "reset", "--quiet", "--hard", "HEAD~1")
	out, ok = push(map[string]string{"example.com": change(t, goodZone, "192.0.2.1", "192.0.2.2")})
	if ok || !strings.Contains(out, "remote: example.com: records changed but the SOA serial stayed 2024010101") {
		t.Errorf("unchanged serial: pushed %v, output:\n%s", ok, out)
	}

	// A bad key: refused.
	g.run(work, true, "reset", "--quiet", "--hard", "HEAD~1")
	out, ok = push(map[string]string{"example.com._keys": goodKeys + "x._update.example.org. DNSKEY 0 3 163 c2VjcmV0\n"})
	if ok || !strings.Contains(out, "remote: example.com._keys: x._update.example.org.: key for zone example.org. does not belong") {
		t.Errorf("bad key: pushed %v, output:\n%s", ok, out)
	}

	// A good change: accepted, the diff shown, the server notified.
	g.run(work, true, "reset", "--quiet", "--hard", "HEAD~1")
	out, ok = push(map[string]string{"example.com": change(t, change(t, goodZone, "192.0.2.1", "192.0.2.2"), "2024010101", "2024010102")})
	if !ok {
		t.Fatalf("good change refused:\n%s", out)
	}
	for _, line := range []string{
		"remote: example.com: - www.example.com. 3600 IN A 192.0.2.1",
		"remote: example.com: + www.example.com. 3600 IN A 192.0.2.2",
		"remote: example.com.: " + server.addr + " acknowledged the NOTIFY",
	} {
		if !strings.Contains(out, line) {
			t.Errorf("push output lacks %q:\n%s", line, out)
		}
	}
	if got := server.accepted(); len(got) != 2 {
		t.Errorf("server accepted %q, want two NOTIFYs", got)
	}

	// A push that changes no zone notifies nobody; other branches are
	// checked but not notified.
	out, ok = push(map[string]string{"README": "zones, edited"})
	if !ok || strings.Contains(out, "acknowledged") {
		t.Errorf("README change: pushed %v, output:\n%s", ok, out)
	}
	if out, err := g.run(work, false, "push", "origin", "HEAD:refs/heads/draft"); err != nil || strings.Contains(out, "acknowledged") {
		t.Errorf("push to another branch: %v\n%s", err, out)
	}
	if got := server.accepted(); len(got) != 2 {
		t.Errorf("server accepted %q, want still two NOTIFYs", got)
	}
}
