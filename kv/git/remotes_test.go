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

// sshAuth builds the store's authentication to d as a service does.
func sshAuth(t testing.TB, d peer.SSHD, remote, knownHosts string) transport.AuthMethod {
	t.Helper()
	a, err := kvgit.AuthFromEnv(remote, kvgit.SSH{KeyFile: d.Key, KnownHosts: knownHosts}, envOf(nil))
	if err != nil {
		t.Fatalf("AuthFromEnv(%s): %v", remote, err)
	}
	return a
}
