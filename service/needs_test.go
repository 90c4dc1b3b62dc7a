package service

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/quercus-dev/quercus/sandbox"
)

// TestFlagNeeds: what the common flags add to a sandbox policy. Where
// a --remote lives is the service's locator's answer (gitstore.Locate,
// tested there); here a table stands in for it.
func TestFlagNeeds(t *testing.T) {
	dir := t.TempDir()
	locate := func(remote string) (Endpoint, error) {
		ep, ok := map[string]Endpoint{
			"local":           {Dir: dir},
			"by address":      {Host: "192.0.2.1", Port: 22},
			"by name":         {Host: "git.example.org", Port: 2222},
			"by IPv6 address": {Host: "2001:db8::1", Port: 443},
		}[remote]
		if !ok {
			return ep, errors.New("no such remote")
		}
		return ep, nil
	}
	tests := []struct {
		name   string
		flags  Flags
		locate func(string) (Endpoint, error)
		ports  []uint16
		rw     []string
	}{
		{"nothing", Flags{}, locate, nil, nil},
		{"local remote", Flags{Remote: "local"}, locate, nil, []string{dir}},
		{"remote by address", Flags{Remote: "by address"}, locate, []uint16{22}, nil},
		{"remote by name", Flags{Remote: "by name"}, locate, []uint16{2222, 53}, nil},
		{"remote by IPv6 address", Flags{Remote: "by IPv6 address"}, locate, []uint16{443}, nil},
		{"remote by name, tcp syslog", Flags{Remote: "by name", Syslog: "tcp://192.0.2.2:1514"}, locate, []uint16{2222, 1514, 53}, nil},
		{"remote without a locator", Flags{Remote: "by name"}, nil, nil, nil},
		{"udp syslog by name", Flags{Syslog: "udp://log.example.org"}, locate, []uint16{53}, nil},
		{"tls syslog", Flags{Syslog: "tls://192.0.2.2"}, locate, []uint16{6514}, nil},
		{"tcp syslog, own port", Flags{Syslog: "tcp://192.0.2.2:1514"}, locate, []uint16{1514}, nil},
		{"influx http", Flags{Influx: "http://192.0.2.3:8086/write?db=q"}, locate, []uint16{8086}, nil},
		{"influx udp", Flags{Influx: "udp://192.0.2.3:8089"}, locate, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := flagNeeds(tc.flags, tc.locate)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(p.ConnectTCP, tc.ports) || !slices.Equal(p.ReadWrite, tc.rw) {
				t.Errorf("connect %v, read-write %v; want %v, %v", p.ConnectTCP, p.ReadWrite, tc.ports, tc.rw)
			}
		})
	}
	if _, err := flagNeeds(Flags{Remote: "elsewhere"}, locate); err == nil || !strings.HasPrefix(err.Error(), "--remote: ") {
		t.Errorf("unlocatable remote: %v", err)
	}
}

func TestNameservers(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "resolv.conf")
	os.WriteFile(conf, []byte("# comment\nsearch example.org\nnameserver 192.0.2.53\nnameserver  2001:db8::53\nnameserver fe80::1%eth0\nnameserver not-an-address\noptions ndots:2\n"), 0o644)
	got := readResolvConf(conf).servers
	want := []string{"192.0.2.53:53", "[2001:db8::53]:53", "[fe80::1%eth0]:53"}
	if !slices.Equal(got, want) {
		t.Errorf("nameservers = %v, want %v", got, want)
	}
	if got := readResolvConf(filepath.Join(t.TempDir(), "missing")).servers; got != nil {
		t.Errorf("missing file: %v", got)
	}
}

// TestSandboxFlags: --sandbox=off says so loudly and applies nothing;
// --sandbox-report prints the policy with what the flags add, and serves
// nothing; a mode that does not exist stops start-up.
func TestSandboxFlags(t *testing.T) {
	var logs strings.Builder
	err := Run(context.Background(), Config{Name: "t", Flags: Flags{Sandbox: "off"}, Stderr: &logs, Sandbox: sandbox.DNSPrimary},
		func(ctx context.Context, c *Chassis) error { return c.Lockdown(sandbox.Policy{}) })
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(logs.String(), "SANDBOX OFF") != 2 {
		t.Errorf("--sandbox=off should warn at start and at Lockdown:\n%s", logs.String())
	}
	if _, applied := sandbox.Current(); applied {
		t.Error("--sandbox=off applied a sandbox")
	}

	var out strings.Builder
	err = Run(context.Background(), Config{Name: "t", Flags: Flags{SandboxReport: true, Remote: "r"}, Stdout: &out, Sandbox: sandbox.DNSPrimary,
		Remote: func(string) (Endpoint, error) { return Endpoint{Host: "192.0.2.1", Port: 8443}, nil }},
		func(context.Context, *Chassis) error { t.Error("served instead of reporting"); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Landlock TCP connect ports: 8443;") || !strings.Contains(out.String(), "allowed system calls: ") {
		t.Errorf("report:\n%s", out.String())
	}

	if err := Run(context.Background(), Config{Name: "t", Flags: Flags{Sandbox: "maybe"}, Stderr: io.Discard}, nil); err == nil {
		t.Error("--sandbox=maybe accepted")
	}
	err = Run(context.Background(), Config{Name: "t", Flags: Flags{Sandbox: "on"}, Stderr: io.Discard},
		func(ctx context.Context, c *Chassis) error { return c.Lockdown(sandbox.Policy{}) })
	if err == nil || !strings.Contains(err.Error(), "without a policy") {
		t.Errorf("Lockdown without a policy: %v", err)
	}
}
