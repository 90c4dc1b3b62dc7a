package git

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFileURL(t *testing.T) {
	wd, _ := os.Getwd()
	tests := []struct{ in, want string }{
		{"/srv/git/zones.git", "file:///srv/git/zones.git"},
		{"zones.git", "file://" + filepath.Join(wd, "zones.git")},
		{"file:///srv/git/zones.git", "file:///srv/git/zones.git"},
		{"ssh://git@example.org/zones.git", "ssh://git@example.org/zones.git"},
		{"git@example.org:zones.git", "git@example.org:zones.git"},
		{"https://example.org/zones.git", "https://example.org/zones.git"},
	}
	for _, tc := range tests {
		if got, err := fileURL(tc.in); err != nil || got != tc.want {
			t.Errorf("fileURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
