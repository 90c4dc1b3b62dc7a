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
)

// StartNSDPrimary runs nsd as the primary of c.Zone until the test ends,
// with TSIG on transfers and notifies. It keeps IXFR differences
// (store-ixfr, create-ixfr: NSD 4.6 and later), so a zone file changed with
// SetZone is offered by IXFR, and notified to c.Notify.
func StartNSDPrimary(t testing.TB, c PrimaryConfig) *Primary {
	t.Helper()
	nsd := Require(t, "nsd")[0]
	dir := t.TempDir()
	port := FreePort(t)
	var notify []string
	for _, n := range c.Notify {
		notify = append(notify, fmt.Sprintf("    notify: %s@%d %s\n", n.Addr(), n.Port(), c.KeyName))
	}
	conf := fmt.Sprintf(`server:
    ip-address: 127.0.0.1@%[2]d
    zonesdir: "%[1]s"
    database: ""
    zonelistfile: "%[1]s/zone.list"
    xfrdfile: "%[1]s/xfrd.state"
    xfrdir: "%[1]s"
    pidfile: "%[1]s/nsd.pid"
    username: ""
    chroot: ""
    verbosity: 2
    server-count: 1
    tcp-count: 20
remote-control:
    control-enable: no
key:
    name: %[3]s
    algorithm: hmac-sha256
    secret: "%[4]s"
zone:
    name: %[5]s
    zonefile: "%[1]s/%[5]s.zone"
    provide-xfr: 127.0.0.1 %[3]s
    store-ixfr: yes
    create-ixfr: yes
%[6]s`, dir, port, c.KeyName, c.Secret, c.Zone, strings.Join(notify, ""))
	file := filepath.Join(dir, "nsd.conf")
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &Primary{
		Addr:  netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)),
		name:  "nsd",
		file:  filepath.Join(dir, c.Zone+".zone"),
		start: func() *exec.Cmd { return Start(t, nsd, "-d", "-c", file) },
	}
	// SIGHUP makes nsd read the zone files that changed.
	p.reload = func(t testing.TB) {
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatalf("nsd reload: %v", err)
		}
	}
	if err := os.WriteFile(p.file, []byte(c.ZoneText), 0o644); err != nil {
		t.Fatal(err)
	}
	p.Restart(t)
	return p
}
