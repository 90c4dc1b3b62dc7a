package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/sandbox"
)

// The sandbox cannot be undone: TestLockdown runs this test binary again
// as a service that locks itself down and then, from another goroutine,
// resolves a name, scrapes its own metrics and opens a file.
const childEnv = "QUERCUS_LOCKDOWN_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(lockdownChild())
	}
	os.Exit(m.Run())
}

func lockdownChild() int {
	port, _ := strconv.Atoi(os.Getenv("QUERCUS_DNS_PORT"))
	nameserverPort = uint16(port)
	pinResolver(os.Getenv("QUERCUS_RESOLV_CONF"), os.Getenv("QUERCUS_HOSTS"))
	err := Run(context.Background(), Config{
		Name:    "lockdown-test",
		Flags:   Flags{HTTP: "127.0.0.1:0", Sandbox: "on", LogLevel: "warn"},
		Sandbox: sandbox.DNSPrimary,
	}, func(ctx context.Context, c *Chassis) error {
		_, side, _ := net.SplitHostPort(c.HTTPAddr.String())
		p, _ := strconv.Atoi(side)
		if err := c.Lockdown(sandbox.Policy{ConnectTCP: []uint16{uint16(p)}}); err != nil {
			return err
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			addrs, err := net.DefaultResolver.LookupHost(context.Background(), "syslog.quercus.test.")
			fmt.Printf("resolve: %v %v\n", addrs, err)
			addrs, err = net.DefaultResolver.LookupHost(context.Background(), "Git.Quercus.Test")
			fmt.Printf("hosts file: %v %v\n", addrs, err)
			names, err := net.DefaultResolver.LookupAddr(context.Background(), "127.0.0.9")
			fmt.Printf("reverse: %v %v\n", names, err)
			resp, err := http.Get("http://" + c.HTTPAddr.String() + "/metrics")
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				fmt.Printf("rss metric: %v\n", strings.Contains(string(b), "\nprocess_resident_memory_bytes "))
			} else {
				fmt.Printf("metrics: %v\n", err)
			}
			_, err = os.Open("/etc/hostname")
			fmt.Printf("open: %v\n", errors.Is(err, syscall.EPERM))
		}()
		<-done
		return nil
	})
	if err != nil {
		fmt.Println("run:", err)
		return 1
	}
	return 0
}

// TestLockdown: after Lockdown a service still resolves names (from the
// name servers read at start, though /etc/resolv.conf is out of reach,
// and from the hosts file read at start, though it is out of reach too,
// both ways),
// still reports its memory on /metrics, and can open no file.
func TestLockdown(t *testing.T) {
	if !sandbox.SeccompSupported() {
		t.Skip("this kernel has no seccomp filters")
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		if q.Question[0].Qtype == dns.TypeA {
			m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(192, 0, 2, 7)})
		}
		w.WriteMsg(m)
	})}
	go srv.ActivateAndServe()
	defer srv.Shutdown()
	conf := filepath.Join(t.TempDir(), "resolv.conf")
	os.WriteFile(conf, []byte("nameserver 127.0.0.1\n"), 0o644)
	hosts := filepath.Join(t.TempDir(), "hosts")
	os.WriteFile(hosts, []byte("127.0.0.9 git.quercus.test # the git server\n::9 git.quercus.test\n"), 0o644)
	_, port, _ := net.SplitHostPort(pc.LocalAddr().String())

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", "QUERCUS_DNS_PORT="+port, "QUERCUS_RESOLV_CONF="+conf, "QUERCUS_HOSTS="+hosts)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	want := "resolve: [192.0.2.7] <nil>\nhosts file: [127.0.0.9 ::9] <nil>\nreverse: [git.quercus.test.] <nil>\nrss metric: true\nopen: true\n"
	if string(out) != want {
		t.Errorf("child said\n%s\nwant\n%s", out, want)
	}
}
