package main_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quercus-dev/quercus/internal/peer"
)

var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

// build compiles caldav and quercus once for all tests of the package.
func build(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "caldav-e2e-"); binErr != nil {
			return
		}
		for _, c := range []string{"caldav", "quercus"} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, c), "./cmd/"+c)
			cmd.Dir = "../.."
			if out, err := cmd.CombinedOutput(); err != nil {
				binErr = fmt.Errorf("go build %s: %v\n%s", c, err, out)
				return
			}
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// their files and a pool trusting the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "caldav test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func send(t *testing.T, c *http.Client, method, url, user, pass, body string, hdr ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.SetBasicAuth(user, pass)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestUserAddThenServeTLS: quercus user add writes a user into a fresh
// repository; caldav serves it over TLS; a PUT becomes a commit by that
// user.
func TestUserAddThenServeTLS(t *testing.T) {
	peer.Require(t, "git")
	bin := build(t)
	remote := filepath.Join(t.TempDir(), "cal.git")
	peer.Run(t, "", "git", "init", "-q", "--bare", "--initial-branch=main", remote)
	add := exec.Command(filepath.Join(bin, "quercus"), "user", "add", "--remote", remote, "--email", "alice@example.org", "alice")
	add.Env = append(os.Environ(), "QUERCUS_PASSWORD=wonderland")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("quercus user add: %v\n%s", err, out)
	}
	certFile, keyFile, pool := selfSigned(t)
	addr := fmt.Sprintf("127.0.0.1:%d", peer.FreePort(t))
	peer.Start(t, filepath.Join(bin, "caldav"), "--remote", remote, "--listen", addr, "--http", "",
		"--tls-cert", certFile, "--tls-key", keyFile)
	peer.WaitTCP(t, addr, 30*time.Second)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	base := "https://" + addr
	if code, _ := send(t, c, "PROPFIND", base+"/", "alice", "wrong", "", "Depth", "0"); code != 401 {
		t.Errorf("wrong password: %d", code)
	}
	if code, body := send(t, c, "MKCALENDAR", base+"/calendars/alice/work/", "alice", "wonderland", ""); code != 201 {
		t.Fatalf("MKCALENDAR: %d %s", code, body)
	}
	ev := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nBEGIN:VEVENT\r\nUID:e1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260101T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	if code, body := send(t, c, "PUT", base+"/calendars/alice/work/e1.ics", "alice", "wonderland", ev, "User-Agent", "e2e-test/1"); code != 201 {
		t.Fatalf("PUT: %d %s", code, body)
	}
	log := peer.Run(t, remote, "git", "log", "-1", "--format=%an <%ae>%n%B")
	if !strings.Contains(log, "alice <alice@example.org>") || !strings.Contains(log, "PUT /calendars/alice/work/e1.ics") || !strings.Contains(log, "User-Agent: e2e-test/1") {
		t.Errorf("commit:\n%s", log)
	}
	if got := peer.Run(t, remote, "git", "show", "main:calendars/alice/work/e1.ics"); got != ev {
		t.Errorf("stored %q, want the bytes sent", got)
	}
}

// TestDemo: without --remote caldav serves a demo repository and prints
// a password that works.
func TestDemo(t *testing.T) {
	peer.Require(t, "git")
	bin := build(t)
	addr := fmt.Sprintf("127.0.0.1:%d", peer.FreePort(t))
	cmd := exec.Command(filepath.Join(bin, "caldav"), "--listen", addr, "--http", "")
	cmd.Env = append(os.Environ(), "TMPDIR="+t.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	re := regexp.MustCompile(`password (\S+)`)
	sc := bufio.NewScanner(out)
	password := ""
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			password = m[1]
			break
		}
	}
	go io.Copy(io.Discard, out)
	if password == "" {
		t.Fatal("no password printed")
	}
	code, body := send(t, http.DefaultClient, "PROPFIND", "http://"+addr+"/calendars/demo/", "demo", password, "", "Depth", "1")
	if code != 207 || !strings.Contains(body, "/calendars/demo/calendar/") {
		t.Errorf("demo home: %d\n%s", code, body)
	}
}
