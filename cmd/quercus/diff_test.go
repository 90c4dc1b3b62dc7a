package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// readTestDir returns the files of dir.
func readTestDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = string(b)
	}
	return files
}

// TestDiffGolden compares the diff of each testdata/diff/CASE/{old,new}
// with testdata/diff/CASE.golden, for the folders and for the same files
// committed to git.
func TestDiffGolden(t *testing.T) {
	cases, err := filepath.Glob("testdata/diff/*/old")
	if err != nil || len(cases) == 0 {
		t.Fatalf("no test cases: %v", err)
	}
	for _, old := range cases {
		dir := filepath.Dir(old)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			cur := filepath.Join(dir, "new")
			r := quercus(t, nil, "zone", "diff", old, cur)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("status %d, stderr:\n%s", r.code, r.stderr)
			}
			golden := dir + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(r.stdout), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test -update writes it)", err)
			}
			if r.stdout != string(want) {
				t.Errorf("diff %s %s:\n%s\nwant (%s):\n%s", old, cur, r.stdout, golden, want)
			}

			// The same versions as commits; flags may follow the arguments.
			repo := t.TempDir()
			ids := commitVersions(t, repo, readTestDir(t, old), readTestDir(t, cur))
			r = quercus(t, nil, "zone", "diff", ids[0], "HEAD", "--repo", repo)
			if r.code != 0 || r.stdout != string(want) {
				t.Errorf("diff of revisions: status %d, stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
		})
	}
}

// TestDiffWorkingTree diffs in the current folder: revisions of the
// repository there (the default --repo) and its uncommitted files.
func TestDiffWorkingTree(t *testing.T) {
	repo := t.TempDir()
	commitVersions(t, repo,
		map[string]string{"example.com": goodZone},
		map[string]string{"example.com": change(t, goodZone, "192.0.2.1", "192.0.2.2")})
	if err := os.WriteFile(filepath.Join(repo, "example.com"), []byte(goodZone), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(repo)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"HEAD~1", "HEAD"}, "example.com: - www.example.com. 3600 IN A 192.0.2.1\nexample.com: + www.example.com. 3600 IN A 192.0.2.2\n"},
		{[]string{"HEAD", "."}, "example.com: - www.example.com. 3600 IN A 192.0.2.2\nexample.com: + www.example.com. 3600 IN A 192.0.2.1\n"},
		{[]string{"HEAD~1", "."}, ""},
	}
	for _, tt := range tests {
		r := quercus(t, nil, append([]string{"zone", "diff"}, tt.args...)...)
		if r.code != 0 || r.stdout != tt.want {
			t.Errorf("zone diff %s: status %d, stdout:\n%s\nwant:\n%s\nstderr:\n%s", strings.Join(tt.args, " "), r.code, r.stdout, tt.want, r.stderr)
		}
	}
}

// TestDiffErrors: a file that does not parse is reported, the others are
// still compared.
func TestDiffErrors(t *testing.T) {
	old, cur := filepath.Join(t.TempDir(), "old"), filepath.Join(t.TempDir(), "new")
	writeDir(t, old, map[string]string{"example.com": goodZone, "example.org": goodOrg})
	writeDir(t, cur, map[string]string{"example.com": goodZone + "mail IN A not-an-address\n", "example.org": change(t, goodOrg, "MX  10", "MX  20")})
	r := quercus(t, nil, "zone", "diff", old, cur)
	wantOut := "example.org: - example.org. 300 IN MX 10 mail.example.net.\nexample.org: + example.org. 300 IN MX 20 mail.example.net.\n"
	if r.code != 1 || r.stdout != wantOut || !strings.Contains(r.stderr, "quercus zone diff: example.com: new version: line 8:") {
		t.Errorf("status %d, stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}

	for _, args := range [][]string{{old}, {old, cur, cur}} {
		if r := quercus(t, nil, append([]string{"zone", "diff"}, args...)...); r.code != 2 || !strings.Contains(r.stderr, "want OLD and NEW") {
			t.Errorf("zone diff %v: status %d, stderr %q", args, r.code, r.stderr)
		}
	}
	r = quercus(t, nil, "zone", "diff", "--repo", old, "HEAD", cur)
	if r.code != 1 || !strings.Contains(r.stderr, "no git repository") {
		t.Errorf("revision without repository: status %d, stderr %q", r.code, r.stderr)
	}
}
