package git_test

// Real remotes for the interop tests: git http-backend behind Basic auth
// (with a fault injector for pushes) and a throwaway OpenSSH sshd.

import (
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/quercus-dev/quercus/internal/peer"
	kvgit "github.com/quercus-dev/quercus/kv/git"
)

// initBare creates an empty bare repository at dir that accepts pushes
// over smart HTTP too.
func initBare(t testing.TB, dir string) string {
	t.Helper()
	peer.Run(t, "", "git", "init", "-q", "--bare", "--initial-branch=main", dir)
	// http-backend serves receive-pack only to authenticated users (it
	// cannot see our Basic auth: the middleware checks it) unless told to.
	peer.Run(t, dir, "git", "config", "http.receivepack", "true")
	return dir
}

// openWith opens a store with auth and a timeout short enough that a hung
// remote fails the test rather than the whole run.
func openWith(t testing.TB, remote string, auth transport.AuthMethod) *kvgit.Store {
	t.Helper()
	s, err := kvgit.Open(ctx, kvgit.Config{Remote: remote, Auth: auth, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatalf("Open(%s): %v", remote, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// envOf is a getenv for AuthFromEnv that sees only m, so the tests do not
// depend on the environment they run in.
func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// headOf is the commit the bare repository's main branch points at.
func headOf(t testing.TB, bare string) string {
	t.Helper()
	return strings.TrimSpace(peer.Run(t, bare, "git", "rev-parse", "--verify", "-q", "main"))
}

// fault is what the HTTP server does to one push (POST git-receive-pack).
type fault int

const (
	pass       fault = iota
	refuse           // close the connection before git sees the push
	dropAnswer       // let git apply the push, then close without answering
)

func (f fault) String() string {
	return [...]string{"pass", "refuse", "drop-answer"}[f]
}

// gitHTTP serves the bare repositories below root with the real git
// http-backend, behind HTTP Basic auth that accepts token as password.
type gitHTTP struct {
	root  string
	token string
	url   string
	cgi   *cgi.Handler

	mu       sync.Mutex
	down     bool                        // hang up on every request
	hangUps  int                         // hang up on this many more requests
	decide   func(r *http.Request) fault // nil: pass every push
	onLanded func()                      // runs after a dropAnswer push was applied
	pushes   map[fault]int
}

func startGitHTTP(t testing.TB) *gitHTTP {
	t.Helper()
	gitPath := peer.Require(t, "git")[0]
	g := &gitHTTP{
		root:   t.TempDir(),
		token:  rand.Text(),
		pushes: map[fault]int{},
	}
	home := t.TempDir() // keep the user's git config out of the server
	g.cgi = &cgi.Handler{
		Path: gitPath,
		Args: []string{"http-backend"},
		Env: []string{
			"GIT_PROJECT_ROOT=" + g.root,
			"GIT_HTTP_EXPORT_ALL=1",
			"GIT_CONFIG_NOSYSTEM=1",
			"HOME=" + home,
		},
		Stderr: testWriter{t},
	}
	srv := httptest.NewServer(g) // listens on 127.0.0.1
	t.Cleanup(srv.Close)
	g.url = srv.URL
	return g
}

// testWriter logs git's stderr through the test.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("git http-backend: %s", strings.TrimSpace(string(p)))
	return len(p), nil
}

// newRepo creates an empty repository and returns its path and URL.
func (g *gitHTTP) newRepo(t testing.TB, name string) (bare, url string) {
	t.Helper()
	bare = initBare(t, filepath.Join(g.root, name+".git"))
	return bare, g.url + "/" + name + ".git"
}

// auth is the client side of the server's Basic auth, the way a service
// gets it: from QUERCUS_GIT_TOKEN.
func (g *gitHTTP) auth(t testing.TB, url string) transport.AuthMethod {
	t.Helper()
	a, err := kvgit.AuthFromEnv(url, kvgit.SSH{}, envOf(map[string]string{kvgit.EnvToken: g.token}))
	if err != nil || a == nil {
		t.Fatalf("AuthFromEnv(%s) = %v, %v", url, a, err)
	}
	return a
}

// setFaults installs decide (nil: none) and onLanded for later pushes.
func (g *gitHTTP) setFaults(decide func(*http.Request) fault, onLanded func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.decide, g.onLanded = decide, onLanded
}

// setDown makes the server hang up on every request (true) or serve again.
func (g *gitHTTP) setDown(down bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.down = down
}

// hangUpNext makes the server hang up on the next n requests of any kind.
func (g *gitHTTP) hangUpNext(n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.hangUps += n
}

// count reports how many pushes met fault f.
func (g *gitHTTP) count(f fault) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.pushes[f]
}

func (g *gitHTTP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, pw, ok := r.BasicAuth()
	if !ok || subtle.ConstantTimeCompare([]byte(pw), []byte(g.token)) != 1 {
		w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
		http.Error(w, "authentication required", http.StatusUnauthorized)
		return
	}
	g.mu.Lock()
	down := g.down || g.hangUps > 0
	if g.hangUps > 0 {
		g.hangUps--
	}
	g.mu.Unlock()
	if down {
		hangUp(w)
		return
	}
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/git-receive-pack") {
		g.cgi.ServeHTTP(w, r)
		return
	}
	g.mu.Lock()
	f, landed := pass, g.onLanded
	if g.decide != nil {
		f = g.decide(r)
	}
	g.pushes[f]++
	g.mu.Unlock()
	switch f {
	case refuse:
		hangUp(w)
	case dropAnswer:
		rec := httptest.NewRecorder()
		g.cgi.ServeHTTP(rec, r)
		if landed != nil {
			landed()
		}
		hangUp(w)
	default:
		g.cgi.ServeHTTP(w, r)
	}
}

// hangUp closes the client's connection without an HTTP answer.
func hangUp(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(fmt.Sprintf("hijack: %v", err)) // httptest's HTTP/1.1 server always can
	}
	conn.Close()
}

// sshd is a throwaway OpenSSH server that lets root in with one key.
type sshd struct {
	port       int
	dir        string
	key        string // the client's private key
	knownHosts string // pins the server's ed25519 host key
}

// startSSHD runs /usr/sbin/sshd on a free loopback port. Extra host key
// types (e.g. "ecdsa") are added to the ed25519 one.
func startSSHD(t testing.TB, extraHostKeys ...string) *sshd {
	t.Helper()
	paths := peer.Require(t, "git", "sshd", "ssh-keygen")
	sshdPath, keygen := paths[1], paths[2]
	// sshd refuses to start without its privilege separation folder.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatal(err)
	}
	d := &sshd{port: peer.FreePort(t), dir: t.TempDir()}
	genKey := func(name, typ string) string {
		f := filepath.Join(d.dir, name)
		peer.Run(t, "", keygen, "-q", "-t", typ, "-N", "", "-C", name, "-f", f)
		return f
	}
	hostKeys := []string{genKey("host_ed25519", "ed25519")}
	for _, typ := range extraHostKeys {
		hostKeys = append(hostKeys, genKey("host_"+typ, typ))
	}
	d.key = genKey("client", "ed25519")
	authorized := filepath.Join(d.dir, "authorized_keys")
	copyFile(t, d.key+".pub", authorized)
	d.knownHosts = d.knownHostsFor(t, "known_hosts", hostKeys[0]+".pub")

	var conf strings.Builder
	fmt.Fprintf(&conf, "ListenAddress 127.0.0.1\nPort %d\n", d.port)
	for _, k := range hostKeys {
		fmt.Fprintf(&conf, "HostKey %s\n", k)
	}
	fmt.Fprintf(&conf, `AuthorizedKeysFile %s
PidFile %s
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
MaxStartups 100
LogLevel VERBOSE
SetEnv SHLVL=1
`, authorized, filepath.Join(d.dir, "sshd.pid"))
	// SetEnv SHLVL=1: bash sources ~/.bashrc for commands run by sshd only
	// at shell level 1, and a developer's .bashrc (pyenv init, say) can add
	// half a second to every git operation.
	config := filepath.Join(d.dir, "sshd_config")
	if err := os.WriteFile(config, []byte(conf.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	peer.Run(t, "", sshdPath, "-t", "-f", config) // a clear error for a bad config
	// sshd re-executes itself, so it needs its absolute path.
	peer.Start(t, sshdPath, "-D", "-e", "-f", config)
	peer.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", d.port), 10*time.Second)
	return d
}

// knownHostsFor writes a known_hosts file that pins pubFile for the
// server's address.
func (d *sshd) knownHostsFor(t testing.TB, name, pubFile string) string {
	t.Helper()
	pub, err := os.ReadFile(pubFile)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(d.dir, name)
	line := fmt.Sprintf("[127.0.0.1]:%d %s", d.port, pub)
	if err := os.WriteFile(f, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// url is the ssh:// remote for the repository at the absolute path bare.
func (d *sshd) url(bare string) string {
	return fmt.Sprintf("ssh://root@127.0.0.1:%d%s", d.port, bare)
}

// auth builds the store's authentication as a service does.
func (d *sshd) auth(t testing.TB, remote, knownHosts string) transport.AuthMethod {
	t.Helper()
	a, err := kvgit.AuthFromEnv(remote, kvgit.SSH{KeyFile: d.key, KnownHosts: knownHosts}, envOf(nil))
	if err != nil {
		t.Fatalf("AuthFromEnv(%s): %v", remote, err)
	}
	return a
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
