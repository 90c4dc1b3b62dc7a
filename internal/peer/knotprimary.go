package peer

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// PrimaryConfig configures a peer that is the primary of one zone.
type PrimaryConfig struct {
	Zone     string // e.g. example.com
	ZoneText string // the zone file
	// Key lets its holder transfer the zone and signs the NOTIFYs:
	// name and hmac-sha256 secret (base64).
	KeyName, Secret string
	// Notify are the secondaries told of every new serial.
	Notify []netip.AddrPort
}

// Primary is a peer primary server running for a test.
type Primary struct {
	Addr   netip.AddrPort
	name   string // for messages
	file   string // the zone file
	start  func() *exec.Cmd
	reload func(t testing.TB)
	cmd    *exec.Cmd
}

// SetZone writes a new zone file and has the primary load it.
func (p *Primary) SetZone(t testing.TB, text string) {
	t.Helper()
	if err := os.WriteFile(p.file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	p.reload(t)
}

// Stop ends the primary, as if it went away.
func (p *Primary) Stop(t testing.TB) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	deadline := time.Now().Add(10 * time.Second)
	// peer.Start's goroutine reaps the process; until then it can
	// still be signalled.
	for time.Now().Before(deadline) && p.cmd.Process.Signal(syscall.Signal(0)) == nil {
		time.Sleep(20 * time.Millisecond)
	}
}

// Restart starts the primary again after Stop, on the same address.
func (p *Primary) Restart(t testing.TB) {
	t.Helper()
	p.cmd = p.start()
	WaitTCP(t, p.Addr.String(), 10*time.Second)
}

// StartKnotPrimary runs knotd as the primary of c.Zone until the test ends.
// Changes to the zone file (SetZone) are loaded as differences, so knotd
// answers IXFR for them, and notified to c.Notify.
func StartKnotPrimary(t testing.TB, c PrimaryConfig) *Primary {
	t.Helper()
	paths := Require(t, "knotd", "knotc")
	dir := t.TempDir()
	port := FreePort(t)
	var remotes, ids []string
	for i, n := range c.Notify {
		remotes = append(remotes, fmt.Sprintf("  - id: secondary%d\n    address: %s@%d\n    key: %s\n", i, n.Addr(), n.Port(), c.KeyName))
		ids = append(ids, fmt.Sprintf("secondary%d", i))
	}
	notify := ""
	if len(ids) > 0 {
		notify = "    notify: [" + strings.Join(ids, ", ") + "]\n"
	}
	conf := KnotConfHead(dir, port, c.KeyName, c.Secret) + fmt.Sprintf(`remote:
%[1]sacl:
  - id: transfer
    key: %[2]s
    action: transfer
zone:
  - domain: %[3]s
    storage: "%[4]s"
    file: "%[3]s.zone"
    zonefile-load: difference
    journal-content: changes
    zonefile-sync: -1
    acl: transfer
%[5]s`, strings.Join(remotes, ""), c.KeyName, c.Zone, dir, notify)
	if len(remotes) == 0 {
		conf = strings.Replace(conf, "remote:\n", "", 1)
	}
	file := filepath.Join(dir, "knot.conf")
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &Primary{
		Addr:  netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)),
		name:  "knotd",
		file:  filepath.Join(dir, c.Zone+".zone"),
		start: func() *exec.Cmd { return Start(t, paths[0], "-c", file) },
		reload: func(t testing.TB) {
			Run(t, dir, paths[1], "-c", file, "zone-reload", c.Zone)
		},
	}
	if err := os.WriteFile(p.file, []byte(c.ZoneText), 0o644); err != nil {
		t.Fatal(err)
	}
	p.Restart(t)
	return p
}
