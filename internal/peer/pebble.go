package peer

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// PebbleConfig configures a Pebble ACME test CA.
type PebbleConfig struct {
	// DNSServer is where Pebble looks up DNS-01 challenges (host:port).
	DNSServer string
	// Validity of the certificates it issues; default 90 days.
	Validity time.Duration
}

// Pebble is a running Pebble.
type Pebble struct {
	Directory string // the ACME directory URL
	// CAFile holds the root of Pebble's own TLS certificate, which the
	// ACME client must trust (dns-acme --acme-ca).
	CAFile string
	// HTTPClient trusts CAFile.
	HTTPClient *http.Client
	mgmt       string
}

// StartPebble runs Pebble (letsencrypt/pebble, Let's Encrypt's test CA)
// until the test ends, with a TLS certificate made for the test, no
// random validation delays and no rejected nonces.
func StartPebble(t testing.TB, c PebbleConfig) *Pebble {
	t.Helper()
	pebble := Require(t, "pebble")[0]
	dir := t.TempDir()
	caPEM, certPEM, keyPEM := tlsFor127(t)
	files := map[string][]byte{"ca.pem": caPEM, "cert.pem": certPEM, "key.pem": keyPEM}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if c.Validity <= 0 {
		c.Validity = 90 * 24 * time.Hour
	}
	listen := fmt.Sprintf("127.0.0.1:%d", FreePort(t))
	mgmt := fmt.Sprintf("127.0.0.1:%d", FreePort(t))
	conf := map[string]any{"pebble": map[string]any{
		"listenAddress":           listen,
		"managementListenAddress": mgmt,
		"certificate":             filepath.Join(dir, "cert.pem"),
		"privateKey":              filepath.Join(dir, "key.pem"),
		// DNS-01 only: nothing listens on these.
		"httpPort":     FreePort(t),
		"tlsPort":      FreePort(t),
		"keyAlgorithm": "ecdsa",
		"retryAfter":   map[string]int{"authz": 1, "order": 1},
		"profiles": map[string]any{"default": map[string]any{
			"description":    "test",
			"validityPeriod": int64(c.Validity / time.Second),
		}},
	}}
	b, _ := json.Marshal(conf)
	file := filepath.Join(dir, "pebble.json")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	Start(t, "env", "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0",
		pebble, "-config", file, "-dnsserver", c.DNSServer)
	WaitTCP(t, listen, 30*time.Second)
	WaitTCP(t, mgmt, 30*time.Second)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	return &Pebble{
		Directory:  "https://" + listen + "/dir",
		CAFile:     filepath.Join(dir, "ca.pem"),
		HTTPClient: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}},
		mgmt:       mgmt,
	}
}

// Roots returns the root Pebble issues under (see RootPEM).
func (p *Pebble) Roots(t testing.TB) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	if b := p.RootPEM(t); !pool.AppendCertsFromPEM(b) {
		t.Fatalf("pebble /roots/0 holds no certificate: %q", b)
	}
	return pool
}

// RootPEM returns the root Pebble issues under, from its management port
// (/roots/0); it changes every time Pebble starts.
func (p *Pebble) RootPEM(t testing.TB) []byte {
	t.Helper()
	res, err := p.HTTPClient.Get("https://" + p.mgmt + "/roots/0")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("pebble /roots/0: %v %s", err, res.Status)
	}
	return b
}

// tlsFor127 makes a CA and a certificate it signs for 127.0.0.1 and
// localhost, as PEM.
func tlsFor127(t testing.TB) (caPEM, certPEM, keyPEM []byte) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	ca := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "quercus test CA for pebble"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ = x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, leaf, ca, key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
}
