package primary_test

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/quercus-dev/quercus/internal/peer"
)

// nsupdate runs BIND's nsupdate or Knot's knsupdate with a script of
// update lines, and returns its output and whether it succeeded.
func (r *running) nsupdate(t *testing.T, tool, key string, lines ...string) (string, bool) {
	t.Helper()
	return r.nsupdateArgs(t, tool, []string{"-y", key}, lines...)
}

func (r *running) nsupdateArgs(t *testing.T, tool string, args []string, lines ...string) (string, bool) {
	t.Helper()
	script := fmt.Sprintf("server 127.0.0.1 %s\nzone example.com.\n%s\nsend\n", r.port, strings.Join(lines, "\n"))
	cmd := exec.Command(tool, args...)
	cmd.Stdin = strings.NewReader(script)
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

// lastCommit is what git says the newest commit did to example.com.
func (r *running) lastCommit(t *testing.T) (author string, added, removed []string) {
	t.Helper()
	out := peer.Run(t, r.remote, "git", "log", "-1", "-p", "--format=AUTHOR %an", "main", "--", "example.com")
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, "AUTHOR "):
			author = strings.TrimPrefix(l, "AUTHOR ")
		case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"):
		case strings.HasPrefix(l, "+"):
			added = append(added, strings.TrimSpace(l[1:]))
		case strings.HasPrefix(l, "-"):
			removed = append(removed, strings.TrimSpace(l[1:]))
		}
	}
	return author, added, removed
}

func TestInteropUpdates(t *testing.T) {
	peer.Require(t, "git", "dig", "nsupdate", "knsupdate")
	r := startPrimary(t)
	other := "hmac-sha256:ops._update.example.org.:" + strings.Split(r.key, ":")[2]
	wrong := "hmac-sha256:demo._update.example.com.:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	for _, tool := range []string{"nsupdate", "knsupdate"} {
		t.Run(tool, func(t *testing.T) {
			name := tool + ".example.com."
			// Add: one commit by the key, the record line and the serial line.
			if out, ok := r.nsupdate(t, tool, r.key, "update add "+name+" 300 A 192.0.2.50"); !ok {
				t.Fatalf("add: %s", out)
			}
			author, added, removed := r.lastCommit(t)
			if author != "demo._update.example.com" || len(added) != 2 || len(removed) != 1 ||
				!strings.Contains(strings.Join(added, "\n"), "192.0.2.50") || !strings.Contains(removed[0], "serial") {
				t.Errorf("git log -p after add: author %q, +%q, -%q", author, added, removed)
			}
			if out := r.dig(t, "dig", "+short", name, "A"); strings.TrimSpace(out) != "192.0.2.50" {
				t.Errorf("served after add: %q", out)
			}

			// Replace: delete the RRset and add anew, one commit.
			if out, ok := r.nsupdate(t, tool, r.key, "update delete "+name+" A", "update add "+name+" 300 A 192.0.2.51"); !ok {
				t.Fatalf("replace: %s", out)
			}
			_, added, removed = r.lastCommit(t)
			if len(added) != 2 || len(removed) != 2 {
				t.Errorf("git log -p after replace: +%q -%q", added, removed)
			}

			// Prerequisites: name must not exist (it does): YXDOMAIN, nothing changes.
			before := peer.Run(t, r.remote, "git", "rev-parse", "main")
			if out, ok := r.nsupdate(t, tool, r.key, "prereq nxdomain "+name, "update add "+name+" 300 TXT \"no\""); ok || !strings.Contains(out, "YXDOMAIN") {
				t.Errorf("failed prerequisite: ok=%v %s", ok, out)
			}
			// A wrong secret and a key for another zone: refused.
			if out, ok := r.nsupdate(t, tool, wrong, "update add x."+name+" 300 A 192.0.2.1"); ok {
				t.Errorf("wrong secret accepted: %s", out)
			}
			if out, ok := r.nsupdate(t, tool, other, "update add x."+name+" 300 A 192.0.2.1"); ok {
				t.Errorf("unknown key for another zone accepted: %s", out)
			}
			// Updates that would break the zone are refused, where RFC 2136
			// would skip them silently: a CNAME beside A, the last NS.
			if out, ok := r.nsupdate(t, tool, r.key, "update add "+name+" 300 CNAME www.example.com."); ok || !strings.Contains(out, "REFUSED") {
				t.Errorf("CNAME beside A: ok=%v %s", ok, out)
			}
			if out, ok := r.nsupdate(t, tool, r.key, "update delete example.com. NS"); ok || !strings.Contains(out, "REFUSED") {
				t.Errorf("deleting the apex NS: ok=%v %s", ok, out)
			}
			if after := peer.Run(t, r.remote, "git", "rev-parse", "main"); after != before {
				t.Errorf("refused updates committed something")
			}

			// Delete.
			if out, ok := r.nsupdate(t, tool, r.key, "update delete "+name+" A 192.0.2.51"); !ok {
				t.Fatalf("delete: %s", out)
			}
			if out := r.dig(t, "dig", name, "A"); !strings.Contains(out, "NXDOMAIN") {
				t.Errorf("served after delete:\n%s", out)
			}
		})
	}
}

// TestInteropUpdateRemoteGone: while the remote is unreachable an update
// gets SERVFAIL and the zone keeps its data; once back, updates work.
func TestInteropUpdateRemoteGone(t *testing.T) {
	peer.Require(t, "git", "dig", "nsupdate")
	r := startPrimary(t)
	if err := os.Rename(r.remote, r.remote+".gone"); err != nil {
		t.Fatal(err)
	}
	out, ok := r.nsupdate(t, "nsupdate", r.key, "update add lost.example.com. 300 A 192.0.2.66")
	if ok || !strings.Contains(out, "SERVFAIL") {
		t.Errorf("update with the remote gone: ok=%v %s", ok, out)
	}
	if out := r.dig(t, "dig", "lost.example.com", "A"); !strings.Contains(out, "NXDOMAIN") {
		t.Errorf("unacknowledged update served:\n%s", out)
	}
	os.Rename(r.remote+".gone", r.remote)
	if out, ok := r.nsupdate(t, "nsupdate", r.key, "update add back.example.com. 300 A 192.0.2.67"); !ok {
		t.Fatalf("update after the remote came back: %s", out)
	}
	log := peer.Run(t, r.remote, "git", "log", "-p", "main", "--", "example.com")
	if strings.Contains(log, "192.0.2.66") || !strings.Contains(log, "192.0.2.67") {
		t.Errorf("history holds the lost update or lacks the acknowledged one")
	}
}

// TestInteropConcurrentUpdates: fifty clients at once; every acknowledged
// update is in the history exactly once and served.
func TestInteropConcurrentUpdates(t *testing.T) {
	peer.Require(t, "git", "dig", "nsupdate")
	r := startPrimary(t)
	const n = 50
	var wg sync.WaitGroup
	acked := make([]bool, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Over TCP, as a busy client would: UDP retransmits after 3s.
			_, acked[i] = r.nsupdateArgs(t, "nsupdate", []string{"-v", "-y", r.key}, fmt.Sprintf("update add c%d.example.com. 300 A 192.0.2.%d", i, 100+i))
		}()
	}
	wg.Wait()
	log := peer.Run(t, r.remote, "git", "log", "-p", "main", "--", "example.com")
	count := 0
	for i, ok := range acked {
		if !ok {
			continue
		}
		count++
		line := fmt.Sprintf("192.0.2.%d", 100+i)
		if got := strings.Count(log, fmt.Sprintf("\n+c%d\t", i)); got != 1 {
			t.Errorf("acknowledged c%d appears %d times in the history", i, got)
		}
		if out := r.dig(t, "dig", "+short", fmt.Sprintf("c%d.example.com", i), "A"); strings.TrimSpace(out) != line {
			t.Errorf("c%d served as %q", i, out)
		}
	}
	if count != n {
		t.Errorf("%d of %d concurrent updates acknowledged", count, n)
	}
	// One commit per update, authored by its key, although they were
	// pushed in groups.
	authors := peer.Run(t, r.remote, "git", "log", "--format=%an", "main")
	if got := strings.Count(authors, "demo._update.example.com\n"); got != count {
		t.Errorf("%d commits by the update key, want %d", got, count)
	}
}
