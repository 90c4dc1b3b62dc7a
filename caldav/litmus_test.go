package caldav

import (
	"testing"

	"github.com/quercus-dev/quercus/internal/peer"
)

// TestLitmus runs litmus's basic, copymove, props and http suites against
// a home collection on a git remote; every test must pass.
func TestLitmus(t *testing.T) {
	peer.Require(t, "litmus", "git")
	store, _ := newGitStore(t)
	srv := serve(t, store)
	peer.Litmus(t, srv.URL+"/calendars/test/", "test", testUsers["test"], "basic", "copymove", "props", "http")
}
