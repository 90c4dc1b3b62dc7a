package benchproc

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

// FreePort returns a loopback port that was free for TCP and UDP a moment ago.
func FreePort() (int, error) {
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err == nil {
			u.Close()
			return port, nil
		}
	}
	return 0, errors.New("no free port")
}

// Memory sums VmRSS (/proc/PID/status) and Pss (/proc/PID/smaps_rollup)
// over pid and its descendants, in bytes. For one process VmRSS is the
// usual figure; for a server that forks after loading (nsd) the sum of
// VmRSS counts each shared page once per process, and the sum of Pss
// counts it once.
func Memory(pid int) (rss, pss int64, err error) {
	for _, p := range append([]int{pid}, Descendants(pid)...) {
		status, err1 := os.ReadFile(fmt.Sprintf("/proc/%d/status", p))
		rollup, err2 := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", p))
		if err := errors.Join(err1, err2); err != nil {
			if p != pid && errors.Is(err, os.ErrNotExist) {
				continue // a child that exited meanwhile
			}
			return 0, 0, err
		}
		r, err1 := kBField(string(status), "VmRSS:")
		s, err2 := kBField(string(rollup), "Pss:")
		if err := errors.Join(err1, err2); err != nil {
			return 0, 0, err
		}
		rss, pss = rss+r, pss+s
	}
	return rss, pss, nil
}

// Descendants lists the processes below pid.
func Descendants(pid int) []int {
	children := map[int][]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut at the last ')'.
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(f[1]); err == nil {
			children[ppid] = append(children[ppid], p)
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		out = append(out, children[p]...)
		queue = append(queue, children[p]...)
	}
	return out
}

// kBField reads a "Name:   1234 kB" line.
func kBField(text, name string) (int64, error) {
	for line := range strings.Lines(text) {
		if rest, ok := strings.CutPrefix(line, name); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				n, err := strconv.ParseInt(f[0], 10, 64)
				return n * 1024, err
			}
		}
	}
	return 0, fmt.Errorf("no %s line", name)
}
