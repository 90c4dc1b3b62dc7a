package deptest

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite cmd/*/deps.txt from the current build")

const header = "# Non-standard packages this binary links (go list -deps). Change with `make deps`.\n"

func TestBinaryDependencies(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cmds, _ := filepath.Glob(filepath.Join(root, "cmd", "*"))
	if len(cmds) == 0 {
		t.Fatal("no binaries under cmd/")
	}
	for _, dir := range cmds {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			got := deps(t, root, "./cmd/"+name)
			file := filepath.Join(dir, "deps.txt")
			if *update {
				if err := os.WriteFile(file, []byte(header+strings.Join(got, "\n")+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run `make deps` to create it)", err)
			}
			var want []string
			for _, l := range strings.Split(string(b), "\n") {
				if l != "" && !strings.HasPrefix(l, "#") {
					want = append(want, l)
				}
			}
			for _, p := range got {
				if !slices.Contains(want, p) {
					t.Errorf("%s now links %s, which cmd/%s/deps.txt does not list: if intended, run `make deps`", name, p, name)
				}
			}
			for _, p := range want {
				if !slices.Contains(got, p) {
					t.Errorf("%s no longer links %s: run `make deps` to drop it from the list", name, p)
				}
			}
		})
	}
}

// deps lists the non-standard packages pkg links when built as CI builds
// it (static, linux).
func deps(t *testing.T, root, pkg string) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	var list []string
	for _, l := range strings.Split(string(out), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			list = append(list, l)
		}
	}
	slices.Sort(list)
	return list
}
