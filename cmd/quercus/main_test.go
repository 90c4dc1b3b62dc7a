package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// beQuercus makes the test binary act as the quercus command, so that the
// git hooks in hooks_test.go can run it without a separate build.
const beQuercus = "QUERCUS_CMD_TEST_BE_QUERCUS"

func TestMain(m *testing.M) {
	if os.Getenv(beQuercus) == "1" {
		main()
	}
	os.Exit(m.Run())
}

// result is what one in-process run of quercus printed and returned.
type result struct {
	stdout, stderr string
	code           int
}

// quercus runs the command in-process with the given environment
// variables and nothing else of the process's.
func quercus(t *testing.T, vars map[string]string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	e := &env{stdout: &out, stderr: &errOut, getenv: func(k string) string { return vars[k] }}
	code := run(ctx, e, args)
	return result{out.String(), errOut.String(), code}
}

// lines splits output into lines, without the last newline.
func lines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// writeDir makes dir hold exactly files (name: content); a content
// starting with "->" makes a symbolic link to the rest.
func writeDir(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(content, "->"); ok {
			err := os.Symlink(target, path)
			if err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// commitVersions makes a git repository in dir (with go-git, so no git
// command is needed) with one commit per version, each holding exactly
// that version's files, and returns the commit ids.
func commitVersions(t *testing.T, dir string, versions ...map[string]string) []string {
	t.Helper()
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i, files := range versions {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if e.Name() != ".git" {
				os.RemoveAll(filepath.Join(dir, e.Name()))
			}
		}
		for name, content := range files {
			path := filepath.Join(dir, name)
			os.MkdirAll(filepath.Dir(path), 0o755)
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
			t.Fatal(err)
		}
		h, err := wt.Commit("version", &git.CommitOptions{
			Author:            &object.Signature{Name: "test", Email: "test@example.com", When: time.Unix(int64(1e9+i), 0)},
			AllowEmptyCommits: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, h.String())
	}
	return ids
}

// The zones the tests start from.
const (
	goodZone = `$ORIGIN example.com.
$TTL 3600
@    IN SOA ns1 hostmaster 2024010101 3600 900 1209600 300
     IN NS  ns1
     IN NS  ns.example.net.
ns1  IN A   192.0.2.53
www  IN A   192.0.2.1
`
	goodOrg = `$ORIGIN example.org.
@    300 IN SOA ns.example.net. hostmaster.example.net. 7 3600 900 1209600 300
     300 IN NS  ns.example.net.
     300 IN MX  10 mail.example.net.
`
	// A key file with one notify key for example.com; the secret is
	// "secret" in base64, fine for tests only.
	goodKeys = "ops._notify.example.com. DNSKEY 0 3 163 c2VjcmV0\n"
)

// change returns the zone with old replaced by new, failing the test if
// old is not in it.
func change(t *testing.T, zone, old, new string) string {
	t.Helper()
	if !strings.Contains(zone, old) {
		t.Fatalf("%q not in zone", old)
	}
	return strings.Replace(zone, old, new, 1)
}
