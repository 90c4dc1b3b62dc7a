package main_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/certify"
	"github.com/quercus-dev/quercus/dns/primary"
	"github.com/quercus-dev/quercus/dns/primary/primarytest"
	"github.com/quercus-dev/quercus/dns/tsig"
	"github.com/quercus-dev/quercus/internal/peer"
	"github.com/quercus-dev/quercus/kv"
	"github.com/quercus-dev/quercus/kv/mem"
)

const zoneFile = `$ORIGIN example.com.
$TTL 300
@    SOA ns1 hostmaster 1 3600 900 1209600 300
     NS  ns1
ns1  A   127.0.0.1
`

// TestCertifyThroughPebble: quercus certify publishes a CSR for a name,
// its wildcard and www through dns-primary; dns-acme hears the NOTIFY,
// solves Pebble's DNS-01 challenges through UPDATEs and publishes the
// certificate; quercus certify writes cert.pem, which verifies against
// Pebble's root for every name, and key.pem. Asked again with that key it
// returns the published certificate without a new request. The running
// dns-acme renews the certificate before it ends.
func TestCertifyThroughPebble(t *testing.T) {
	peer.Require(t, "pebble")
	ctx := context.Background()
	bin := peer.Build(t, "dns-acme", "quercus")

	// The primary, in-process: example.com with an update key for
	// dns-acme and quercus certify, and the _transfer key naming dns-acme
	// (127.0.0.1) as a secondary, which signs the NOTIFYs it gets.
	acmePort, httpPort := peer.FreePort(t), peer.FreePort(t)
	acmeAddr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(acmePort))
	update, _ := tsig.Generate("acme._update.example.com.", dns.HmacSHA256, nil)
	notify, _ := tsig.Generate("127.0.0.1.127.0.0.1._transfer.example.com.", dns.HmacSHA256, nil)
	store := mem.New()
	_, err := store.Batch(ctx, kv.Commit{Message: "zone"}, func(tx kv.Txn) error {
		tx.Put("example.com", []byte(zoneFile))
		return tx.Put("example.com._keys", []byte(update.Record()+"\n"+notify.Record()+"\n"))
	})
	if err != nil {
		t.Fatal(err)
	}
	_, primaryAddr := primarytest.Start(t, primary.Config{Store: store, NotifyPort: acmePort})

	// Certificates of 15 seconds, due after 10: dns-acme must renew one
	// while the test watches, on its own timer.
	pebble := peer.StartPebble(t, peer.PebbleConfig{DNSServer: primaryAddr, Validity: 15 * time.Second})
	dir := t.TempDir()
	rootFile := filepath.Join(dir, "pebble-root.pem")
	os.WriteFile(rootFile, pebble.RootPEM(t), 0o644)

	acme := exec.Command(filepath.Join(bin, "dns-acme"),
		"--dns-server", primaryAddr, "--listen", acmeAddr.String(),
		"--http", fmt.Sprintf("127.0.0.1:%d", httpPort),
		"--acme-directory", pebble.Directory, "--acme-ca", pebble.CAFile,
		"--email", "ops@example.com", // sandboxed: the default
		// dns-acme serves the zone too: the challenges must reach it.
		"--check", acmeAddr.String())
	acme.Env = append(os.Environ(), "QUERCUS_DNS_KEY="+update.Flag(), "QUERCUS_NOTIFY_KEY="+notify.Flag(),
		"QUERCUS_ACCOUNT_KEY_SEED=a test seed, long enough")
	startCmd(t, acme)
	peer.WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", httpPort), 30*time.Second)

	certifyCmd := func(extra ...string) string {
		t.Helper()
		args := append([]string{"certify", "--server", primaryAddr, "--hostname", "example.com",
			"--hostname", "*.example.com", "--hostname", "www.example.com",
			"--out", dir, "--ca", rootFile, "--wait", "2m"}, extra...)
		cmd := exec.Command(filepath.Join(bin, "quercus"), args...)
		cmd.Env = append(os.Environ(), "QUERCUS_DNS_KEY="+update.Flag())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("quercus certify: %v\n%s", err, out)
		}
		return string(out)
	}
	start := time.Now()
	certifyCmd()
	t.Logf("quercus certify -> dns-acme -> Pebble -> certificate published: %v", time.Since(start))

	chainPEM, _ := os.ReadFile(filepath.Join(dir, "cert.pem"))
	var chain []*x509.Certificate
	for rest := chainPEM; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		chain = append(chain, c)
	}
	if len(chain) < 2 {
		t.Fatalf("cert.pem holds %d certificates, want the leaf and its chain", len(chain))
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	for _, name := range []string{"example.com", "www.example.com", "anything.example.com"} {
		if _, err := chain[0].Verify(x509.VerifyOptions{DNSName: name, Roots: pebble.Roots(t), Intermediates: inter}); err != nil {
			t.Errorf("cert.pem for %s: %v", name, err)
		}
	}
	keyPEM, _ := os.ReadFile(filepath.Join(dir, "key.pem"))
	key, err := certify.ParseKeyPEM(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	if !certify.Fits(chain[0], key.Public(), []string{"*.example.com", "example.com", "www.example.com"}) {
		t.Error("cert.pem does not certify key.pem")
	}
	// dns-acme counts a certificate once its UPDATE is answered, which
	// may be just after quercus certify saw it.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		got := metric(t, httpPort, "quercus_acme_certificates_issued_total")
		if got == "1" {
			break
		}
		if got != "0" || time.Now().After(deadline) {
			t.Fatalf("dns-acme issued %q certificates, want 1", got)
		}
	}

	// Again with the key: the published certificate, and no new request
	// (the certificate may have been renewed meanwhile: it lives 15s).
	srv := &certify.Server{Addr: primaryAddr, Key: update}
	request := func() string {
		p, err := srv.Published(ctx, "example.com")
		if err != nil || len(p.Requests) != 1 {
			t.Fatalf("published requests: %v", err)
		}
		return p.Requests[0].Certificate
	}
	before := request()
	keyFile := filepath.Join(t.TempDir(), "key.pem")
	os.WriteFile(keyFile, keyPEM, 0o600)
	certifyCmd("--key", keyFile)
	if request() != before {
		t.Error("asked again with its key, quercus certify published a new request")
	}

	// Renewal, without a restart or a change to the zone.
	names := []string{"*.example.com", "example.com", "www.example.com"}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		p, err := srv.Published(ctx, "example.com")
		if err != nil {
			t.Fatal(err)
		}
		if c := p.Chain(key.Public(), names); c != nil && c[0].NotAfter.After(chain[0].NotAfter) {
			t.Logf("renewed %v before the end of the old certificate", chain[0].NotAfter.Sub(c[0].NotBefore))
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the certificate was not renewed")
		}
	}
}

// startCmd runs cmd until the test ends, showing its output if it fails.
func startCmd(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		if t.Failed() {
			t.Logf("dns-acme output:\n%s", out.String())
		}
	})
}

// metric reads one series from the side port's /metrics.
func metric(t *testing.T, port int, series string) string {
	t.Helper()
	res, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, series+" "); ok {
			return v
		}
	}
	return ""
}
