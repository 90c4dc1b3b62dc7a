package peer

import "testing"

// TestFreePortNeverRepeats: the ports a test is given are distinct, though
// the kernel may pick a port again once FreePort has closed it (with 200
// ports out of about 14,000 it would, about once a run).
func TestFreePortNeverRepeats(t *testing.T) {
	seen := map[int]bool{}
	for range 200 {
		p := FreePort(t)
		if seen[p] {
			t.Fatalf("port %d handed out twice", p)
		}
		seen[p] = true
	}
}
