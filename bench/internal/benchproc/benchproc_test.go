package benchproc

import (
	"os"
	"testing"
)

func TestKBField(t *testing.T) {
	text := "Name:\tx\nVmRSS:\t    1234 kB\nPss: 7 kB\nBad: 12\n"
	for _, tt := range []struct {
		name string
		want int64
		ok   bool
	}{
		{"VmRSS:", 1234 << 10, true},
		{"Pss:", 7 << 10, true},
		{"Bad:", 0, false},
		{"Missing:", 0, false},
	} {
		got, err := kBField(text, tt.name)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("kBField(%q) = %d, %v; want %d, ok %v", tt.name, got, err, tt.want, tt.ok)
		}
	}
}

// TestMemory reads this process's own figures.
func TestMemory(t *testing.T) {
	rss, pss, err := Memory(os.Getpid())
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	if rss <= 0 || pss <= 0 {
		t.Errorf("Memory = %d, %d; want both positive", rss, pss)
	}
}
