package peer

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// KnotSecondary configures a knotd that is a secondary of one primary.
type KnotSecondary struct {
	Zone    string         // the zone, e.g. example.com
	Primary netip.AddrPort // where to transfer from
	// Key signs transfers and must sign the primary's NOTIFY:
	// name, hmac-sha256 secret (base64).
	KeyName, Secret string
}

// StartKnotSecondary runs knotd as a secondary until the test ends and
// returns its address. Everything it writes stays in a temporary folder.
func StartKnotSecondary(t testing.TB, c KnotSecondary) netip.AddrPort {
	t.Helper()
	knotd := Require(t, "knotd")[0]
	dir := t.TempDir()
	port := FreePort(t)
	conf := KnotConfHead(dir, port, c.KeyName, c.Secret) + fmt.Sprintf(`remote:
  - id: primary
    address: %[1]s@%[2]d
    key: %[3]s
acl:
  - id: notify
    address: %[1]s
    key: %[3]s
    action: notify
zone:
  - domain: %[4]s
    storage: "%[5]s"
    master: primary
    acl: notify
`, c.Primary.Addr(), c.Primary.Port(), c.KeyName, c.Zone, dir)
	file := filepath.Join(dir, "knot.conf")
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	Start(t, knotd, "-c", file)
	return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))
}

// WaitSerial waits until the server at addr serves zone at serial, and
// returns how long that took.
func WaitSerial(t testing.TB, addr netip.AddrPort, zone string, serial uint32, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	var last string
	for time.Since(start) < timeout {
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(zone), dns.TypeSOA)
		r, _, err := (&dns.Client{Timeout: time.Second}).Exchange(m, addr.String())
		if err == nil && len(r.Answer) == 1 {
			if soa, ok := r.Answer[0].(*dns.SOA); ok && soa.Serial == serial {
				return time.Since(start)
			}
		}
		last = strings.TrimSpace(fmt.Sprint(r, " ", err))
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s does not serve %s at serial %s within %v: %s", addr, zone, strconv.FormatUint(uint64(serial), 10), timeout, last)
	return 0
}
