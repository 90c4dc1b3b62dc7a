package secondary_test

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/secondary"
	"github.com/quercus-dev/quercus/dns/tsig"
	"github.com/quercus-dev/quercus/internal/peer"
)

// knotCatalog is knotd generating a catalog of its member zones
// (catalog-role: generate), and notifying our secondary.
type knotCatalog struct {
	addr      netip.AddrPort
	dir, conf string
	knotc     string
	head      string // the configuration before the members
}

func (k *knotCatalog) setMembers(t *testing.T, members ...string) {
	t.Helper()
	var b strings.Builder
	b.WriteString(k.head)
	for _, m := range members {
		text := fmt.Sprintf("$ORIGIN %s.\n$TTL 300\n@ SOA ns1 hostmaster 1 3600 600 86400 300\n@ NS ns1\nns1 A 127.0.0.53\nwww A 192.0.2.1\n", m)
		if err := os.WriteFile(filepath.Join(k.dir, m+".zone"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "  - domain: %s\n    file: %s.zone\n    catalog-role: member\n    catalog-zone: catalog.invalid\n", m, m)
	}
	if err := os.WriteFile(k.conf, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

func startKnotCatalog(t *testing.T, key tsig.Key, secondary netip.AddrPort, members ...string) *knotCatalog {
	paths := peer.Require(t, "knotd", "knotc", "kdig")
	dir := t.TempDir()
	port := peer.FreePort(t)
	k := &knotCatalog{
		addr: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)),
		dir:  dir, conf: filepath.Join(dir, "knot.conf"), knotc: paths[1],
	}
	k.head = peer.KnotConfHead(dir, port, key.Name, key.Secret) + fmt.Sprintf(`remote:
  - id: secondary
    address: %[1]s@%[2]d
    key: %[3]s
acl:
  - id: transfer
    key: %[3]s
    action: transfer
template:
  - id: default
    storage: "%[4]s"
    acl: transfer
    notify: secondary
zone:
  - domain: catalog.invalid
    catalog-role: generate
`, secondary.Addr(), secondary.Port(), key.Name, dir)
	k.setMembers(t, members...)
	peer.Start(t, paths[0], "-c", k.conf)
	peer.WaitTCP(t, k.addr.String(), 10*time.Second)
	return k
}

func (k *knotCatalog) reload(t *testing.T, members ...string) {
	t.Helper()
	k.setMembers(t, members...)
	peer.Run(t, k.dir, k.knotc, "-c", k.conf, "reload")
}

// TestInteropKnotCatalog: knotd generates a catalog of its zones; our
// secondary follows it over TSIG. A zone added to knotd's configuration
// appears on our secondary, one removed disappears, each through the
// catalog's NOTIFY and IXFR, and a member's own NOTIFY, signed with the
// catalog's key, is heard.
func TestInteropKnotCatalog(t *testing.T) {
	peer.Require(t, "knotd", "knotc", "kdig")
	// A key for every zone: knotd signs the members' NOTIFYs with it.
	key, err := tsig.Generate("catalog._transfer", dns.HmacSHA256, nil)
	if err != nil {
		t.Fatal(err)
	}
	secAddr, run := listen(t)
	k := startKnotCatalog(t, key, secAddr, "a.example")
	r := run(secondary.Config{
		Catalogs: []secondary.ZoneConfig{{Origin: "catalog.invalid", Primary: k.addr, Key: &key}},
		Retry:    100 * time.Millisecond, // knotd may not have made its catalog yet
	})

	peer.WaitSerial(t, r.addr, "a.example", 1, 30*time.Second)
	if got := kdig(t, r.addr, "version.catalog.invalid", "TXT"); !strings.Contains(got, "SERVFAIL") {
		t.Errorf("the catalog was answered:\n%s", got)
	}

	k.reload(t, "a.example", "b.example")
	took := peer.WaitSerial(t, r.addr, "b.example", 1, 30*time.Second)
	t.Logf("b.example served %v after knotc reload", took)
	if got := kdig(t, r.addr, "www.b.example", "A"); !strings.Contains(got, "192.0.2.1") {
		t.Errorf("kdig www.b.example:\n%s", got)
	}

	k.reload(t, "a.example")
	took = waitRcode(t, r.addr, "www.b.example.", dns.RcodeRefused, 30*time.Second)
	t.Logf("b.example gone %v after knotc reload", took)
	if got := rcode(t, r.addr, "www.a.example."); got != dns.RcodeSuccess {
		t.Errorf("a.example after b left: %s", dns.RcodeToString[got])
	}
	if n := r.count(t, "quercus_dns_secondary_catalog_members", nil); n != 1 {
		t.Errorf("members metric: %v, want 1", n)
	}

	// A member's change comes by its own NOTIFY (its refresh is an hour).
	text := "$ORIGIN a.example.\n$TTL 300\n@ SOA ns1 hostmaster 2 3600 600 86400 300\n@ NS ns1\nns1 A 127.0.0.53\nwww A 192.0.2.2\n"
	if err := os.WriteFile(filepath.Join(k.dir, "a.example.zone"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	peer.Run(t, k.dir, k.knotc, "-c", k.conf, "zone-reload", "a.example")
	peer.WaitSerial(t, r.addr, "a.example", 2, 30*time.Second)
}

// kdig asks addr with knot's own client.
func kdig(t *testing.T, addr netip.AddrPort, name, qtype string) string {
	t.Helper()
	return peer.Run(t, t.TempDir(), "kdig", "-p", fmt.Sprint(addr.Port()), "@"+addr.Addr().String(), name, qtype)
}
