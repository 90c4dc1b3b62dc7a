package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"

	"github.com/quercus-dev/quercus/caldav"
	"github.com/quercus-dev/quercus/internal/peer"
	"github.com/quercus-dev/quercus/internal/sandboxtest"
	"github.com/quercus-dev/quercus/service"
)

// TestSandboxChild is where the sandbox tests' children start: they
// serve as caldav, on the remote the environment names.
func TestSandboxChild(t *testing.T) {
	sandboxtest.Child(func() error {
		f := service.Flags{Remote: os.Getenv("QUERCUS_REMOTE"), Listen: os.Getenv("QUERCUS_LISTEN"), LogLevel: "error"}
		return run(f, "", "", 1<<20, 16, 0)
	})
}

// TestSandboxedCalDAV: once caldav has started it opens no file outside
// its (local) remote, runs no program, makes no socket but inet ones, and
// goes on serving.
func TestSandboxedCalDAV(t *testing.T) {
	peer.Require(t, "git")
	remote, password, err := caldav.Demo(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	listen := fmt.Sprintf("127.0.0.1:%d", peer.FreePort(t))
	serving := func(t *testing.T) {
		req, _ := http.NewRequest("PROPFIND", "http://"+listen+"/calendars/demo/", nil)
		req.SetBasicAuth("demo", password)
		req.Header.Set("Depth", "0")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("no longer serving: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMultiStatus {
			t.Errorf("PROPFIND: %s", resp.Status)
		}
	}
	env := []string{"QUERCUS_REMOTE=" + remote, "QUERCUS_LISTEN=" + listen}
	sandboxtest.Run(t, "TestSandboxChild", env, serving, sandboxtest.Standard("permission denied")...)
}
