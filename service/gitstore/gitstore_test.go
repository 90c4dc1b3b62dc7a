package gitstore

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quercus-dev/quercus/sandbox"
	"github.com/quercus-dev/quercus/service"
)

// TestLocate: where each form of --remote lives, for the sandbox.
func TestLocate(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name   string
		remote string
		want   service.Endpoint
	}{
		{"local path", dir + "#main", service.Endpoint{Dir: dir}},
		{"file URL", "file://" + dir, service.Endpoint{Dir: dir}},
		{"ssh by address", "ssh://git@192.0.2.1/zones.git", service.Endpoint{Host: "192.0.2.1", Port: 22}},
		{"ssh by name, own port", "ssh://git@git.example.org:2222/zones.git", service.Endpoint{Host: "git.example.org", Port: 2222}},
		{"scp-like", "git@git.example.org:zones.git", service.Endpoint{Host: "git.example.org", Port: 22}},
		{"http, own port", "http://192.0.2.4:8080/zones.git#ops", service.Endpoint{Host: "192.0.2.4", Port: 8080}},
		{"https", "https://[2001:db8::1]/zones.git", service.Endpoint{Host: "[2001:db8::1]", Port: 443}},
		{"git protocol", "git://git.example.org/zones.git", service.Endpoint{Host: "git.example.org", Port: 9418}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Locate(tc.remote)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Locate(%q) = %+v, want %+v", tc.remote, got, tc.want)
			}
		})
	}
}

// TestLocateRelative: a relative path is the folder it names now, so
// that a later chdir does not move the sandbox's hole.
func TestLocateRelative(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Locate("testdata/zones.git")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(wd, "testdata/zones.git"); got.Dir != want {
		t.Errorf("Dir = %q, want %q", got.Dir, want)
	}
}

// TestSandboxReport: through the chassis, --sandbox-report shows the
// remote's port, and DNS over TCP when the remote is a host name.
func TestSandboxReport(t *testing.T) {
	for remote, want := range map[string]string{
		"https://192.0.2.1:8443/zones.git":    "Landlock TCP connect ports: 8443;",
		"ssh://git@git.example.org/zones.git": "Landlock TCP connect ports: 22 53;",
	} {
		var out strings.Builder
		err := service.Run(context.Background(), service.Config{Name: "t", Flags: service.Flags{SandboxReport: true, Remote: remote}, Stdout: &out, Sandbox: sandbox.DNSPrimary, Remote: Locate},
			func(context.Context, *service.Chassis) error { t.Error("served instead of reporting"); return nil })
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), want) {
			t.Errorf("--remote %s: want %q in the report:\n%s", remote, want, out.String())
		}
	}
}

// FuzzLocate: no remote makes Locate panic, and a folder it returns is
// absolute.
func FuzzLocate(f *testing.F) {
	for _, s := range []string{"/srv/zones.git#main", "file:///srv/z", "ssh://git@h:2222/z", "git@h:z", "https://[::1]/z", "", "::", "http://h:99999/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, remote string) {
		ep, err := Locate(remote)
		if err == nil && ep.Dir != "" && !filepath.IsAbs(ep.Dir) {
			t.Errorf("Locate(%q).Dir = %q, not absolute", remote, ep.Dir)
		}
	})
}
