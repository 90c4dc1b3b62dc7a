package peer

import (
	"os/exec"
	"strings"
	"testing"
)

// Litmus runs the litmus WebDAV test suites against url with Basic
// credentials and fails t unless every test passes (warnings allowed).
func Litmus(t testing.TB, url, user, password string, suites ...string) {
	t.Helper()
	litmus := Require(t, "litmus")[0]
	cmd := exec.Command(litmus, "--keep-going", url, user, password)
	cmd.Dir = t.TempDir() // litmus writes its logs to the working folder
	cmd.Env = append(cmd.Environ(), "TESTS="+strings.Join(suites, " "))
	out, err := cmd.CombinedOutput()
	text := string(out)
	if err != nil || strings.Contains(text, "FAIL") {
		t.Fatalf("litmus %s: %v\n%s", strings.Join(suites, " "), err, text)
	}
	t.Logf("litmus:\n%s", text)
}
