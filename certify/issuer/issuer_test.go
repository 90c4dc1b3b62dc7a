package issuer

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/quercus-dev/quercus/certify"
	"github.com/quercus-dev/quercus/dns/authority"
	"github.com/quercus-dev/quercus/dns/tsig"
	"github.com/quercus-dev/quercus/internal/dnstest"
)

func csr(t *testing.T, names ...string) []byte {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: names[0]}, DNSNames: names}, k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// closedURL is an ACME directory nobody answers at.
func closedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "https://" + addr + "/dir"
}

// TestSkipsAndBacksOff: requests that cannot be served are skipped and
// logged once; a failing host is retried only after its backoff, however
// often the zone changes, and a new request for it starts afresh.
func TestSkipsAndBacksOff(t *testing.T) {
	soa, _ := dns.NewRR("example.com. 300 SOA ns1.example.com. h.example.com. 1 3600 900 1209600 300")
	ns, _ := dns.NewRR("example.com. 300 NS ns1.example.com.")
	records := func(extra ...dns.RR) *authority.Zone {
		z, err := authority.New("example.com.", append([]dns.RR{soa, ns}, extra...))
		if err != nil {
			t.Fatal(err)
		}
		return z
	}
	garbage := certify.RequestRecord("bad.example.com", 300, []byte("not a CSR"))
	// Names outside the record's host, even outside the zone, are the
	// host's problem: whoever may write there may not claim them.
	outside := certify.RequestRecord("www.example.com", 300, csr(t, "www.example.com", "www.example.org"))
	wrongHost := certify.RequestRecord("mail.example.com", 300, csr(t, "www.example.com"))
	two := []dns.RR{
		certify.RequestRecord("two.example.com", 300, csr(t, "two.example.com")),
		certify.RequestRecord("two.example.com", 300, csr(t, "two.example.com")),
	}
	ok := certify.RequestRecord("ok.example.com", 300, csr(t, "ok.example.com"))
	zone := records(append(two, garbage, outside, wrongHost, ok)...)

	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	reg := prometheus.NewRegistry()
	var logs strings.Builder
	key, _ := tsig.Generate("acme._update.example.com.", dns.HmacSHA256, nil)
	i, err := New(Config{
		Source:    SourceFunc(func() *authority.Zone { return zone }),
		Server:    &certify.Server{Addr: "127.0.0.1:1", Key: key},
		Directory: closedURL(t),
		Now:       func() time.Time { return now },
		Registry:  reg,
		Logger:    slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	metric := func(name, label, value string) float64 { return dnstest.Metric(t, reg, name, label, value) }

	for range 3 { // the zone changing thrice within the backoff
		i.scan(ctx)
	}
	for reason, want := range map[string]float64{"malformed": 1, "wrong_host": 2, "several_requests": 1} {
		if got := metric("quercus_acme_requests_skipped_total", "reason", reason); got != want {
			t.Errorf("skipped %s: %v, want %v", reason, got, want)
		}
	}
	if got := metric("quercus_acme_failures_total", "host", "ok.example.com."); got != 1 {
		t.Errorf("failures within the backoff: %v, want 1", got)
	}
	// One line per skipped host, naming it and why; one for the failure.
	for _, want := range []string{
		`host=bad.example.com. reason=malformed`,
		`host=www.example.com. reason=wrong_host err="_letsencrypt._tcp.www.example.com.: the CSR is for www.example.com, www.example.org, not for the host its record is at and names below it"`,
		`host=mail.example.com. reason=wrong_host`,
		`host=two.example.com. reason=several_requests`,
		`msg="could not obtain a certificate" zone=example.com. host=ok.example.com. names=[ok.example.com]`,
	} {
		if n := strings.Count(logs.String(), want); n != 1 {
			t.Errorf("%d log lines with %s, want 1:\n%s", n, want, logs.String())
		}
	}

	// Backoff doubles: 5m, then 10m.
	now = now.Add(5 * time.Minute)
	i.scan(ctx)
	now = now.Add(5 * time.Minute)
	i.scan(ctx)
	if got := metric("quercus_acme_consecutive_failures", "host", "ok.example.com."); got != 2 {
		t.Errorf("consecutive failures after 10 minutes: %v, want 2", got)
	}
	now = now.Add(5 * time.Minute)
	i.scan(ctx)
	if got := metric("quercus_acme_consecutive_failures", "host", "ok.example.com."); got != 3 {
		t.Errorf("consecutive failures after 15 minutes: %v, want 3", got)
	}

	// A new request is tried at once.
	zone = records(certify.RequestRecord("ok.example.com", 300, csr(t, "ok.example.com")))
	i.scan(ctx)
	if got := metric("quercus_acme_failures_total", "host", "ok.example.com."); got != 4 {
		t.Errorf("failures after a new request: %v, want 4", got)
	}
	if got := metric("quercus_acme_consecutive_failures", "host", "ok.example.com."); got != 1 {
		t.Errorf("consecutive failures after a new request: %v, want 1", got)
	}
}

func TestBackoff(t *testing.T) {
	for _, c := range []struct {
		first time.Duration
		n     int
		want  time.Duration
	}{
		{5 * time.Minute, 1, 5 * time.Minute},
		{5 * time.Minute, 2, 10 * time.Minute},
		{5 * time.Minute, 4, 40 * time.Minute},
		{5 * time.Minute, 9, 21*time.Hour + 20*time.Minute},
		{5 * time.Minute, 10, 24 * time.Hour},
		{5 * time.Minute, 1000, 24 * time.Hour},
		{48 * time.Hour, 1, 24 * time.Hour},
	} {
		if got := backoff(c.first, c.n); got != c.want {
			t.Errorf("backoff(%v, %d) = %v, want %v", c.first, c.n, got, c.want)
		}
	}
}

func TestSeedAccountKey(t *testing.T) {
	a, err := SeedAccountKey("a seed of sixteen or more")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := SeedAccountKey("a seed of sixteen or more")
	c, _ := SeedAccountKey("another seed of sixteen")
	if !a.(*ecdsa.PrivateKey).Equal(b) || a.(*ecdsa.PrivateKey).Equal(c) {
		t.Error("the same seed must give the same key, another seed another key")
	}
	if _, err := SeedAccountKey("short"); err == nil {
		t.Error("a short seed was taken")
	}
}
