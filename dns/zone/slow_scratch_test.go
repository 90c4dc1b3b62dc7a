package zone

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestSlowScratch(t *testing.T) {
	files, _ := filepath.Glob(os.Getenv("CORPUS") + "/*")
	for _, f := range files {
		b, _ := os.ReadFile(f)
		// format: go test fuzz v1\n[]byte("...")
		lines := string(b)
		i := len("go test fuzz v1\n[]byte(")
		s, err := strconv.Unquote(lines[i : len(lines)-2])
		if err != nil {
			t.Logf("%s: %v", f, err)
			continue
		}
		start := time.Now()
		z, err := Parse("example.com", []byte(s))
		if err == nil {
			Check(z)
			checkRoundTrip(t, z)
		}
		if d := time.Since(start); d > 50*time.Millisecond {
			t.Logf("%s: %v (%d bytes) %q", filepath.Base(f), d, len(s), s[:min(len(s), 200)])
		}
	}
}
