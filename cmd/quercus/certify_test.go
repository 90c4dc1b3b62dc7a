package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/certify"
	"github.com/quercus-dev/quercus/dns/primary"
	"github.com/quercus-dev/quercus/dns/primary/primarytest"
	"github.com/quercus-dev/quercus/dns/tsig"
	"github.com/quercus-dev/quercus/kv"
	"github.com/quercus-dev/quercus/kv/mem"
)

// TestCertifyUsage: what certify refuses before it talks to a server.
func TestCertifyUsage(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "key.pem")
	os.WriteFile(notPEM, []byte("not a key"), 0o600)
	key := "web._update.example.com:hmac-sha256:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"
	for _, c := range []struct {
		name string
		vars map[string]string
		args []string
		code int
		msg  string
	}{
		{"no hostname", nil, []string{"--server", "127.0.0.1"}, exitUsage, "--hostname"},
		{"no server", nil, []string{"--hostname", "www.example.com"}, exitUsage, "--server is required"},
		{"no key", nil, []string{"--server", "127.0.0.1", "--hostname", "www.example.com"}, exitUsage, "TSIG key"},
		{"arguments", nil, []string{"www.example.com"}, exitUsage, "--hostname"},
		{"bad TSIG key", map[string]string{"QUERCUS_DNS_KEY": "nonsense"}, []string{"--server", "127.0.0.1", "--hostname", "www.example.com"}, exitFail, ""},
		{"bad private key", map[string]string{"QUERCUS_DNS_KEY": key}, []string{"--server", "127.0.0.1", "--hostname", "www.example.com", "--key", notPEM}, exitFail, "key.pem"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := quercus(t, c.vars, append([]string{"certify"}, c.args...)...)
			if r.code != c.code || !strings.Contains(r.stderr, c.msg) {
				t.Errorf("status %d, stderr %q; want %d and %q", r.code, r.stderr, c.code, c.msg)
			}
		})
	}
}

// TestCertifyWaits: with nobody issuing, certify publishes its request,
// gives up after --wait and writes nothing.
func TestCertifyWaits(t *testing.T) {
	ctx := context.Background()
	key, _ := tsig.Generate("web._update.example.com.", dns.HmacSHA256, nil)
	store := mem.New()
	store.Batch(ctx, kv.Commit{Message: "zone"}, func(tx kv.Txn) error {
		tx.Put("example.com", []byte("$ORIGIN example.com.\n@ 300 SOA ns1 h 1 3600 900 1209600 300\n@ 300 NS ns1\nns1 300 A 127.0.0.1\n"))
		return tx.Put("example.com._keys", []byte(key.Record()+"\n"))
	})
	_, addr := primarytest.Start(t, primary.Config{Store: store})

	out := t.TempDir()
	r := quercus(t, map[string]string{"QUERCUS_DNS_KEY": key.Flag()}, "certify", "--server", addr,
		"--hostname", "www.example.com", "--wait", "2s", "--out", out)
	if r.code != exitFail || !strings.Contains(r.stderr, "no certificate within 2s") {
		t.Errorf("status %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "cert.pem")); err == nil {
		t.Error("cert.pem written without a certificate")
	}
	srv := certify.Server{Addr: addr, Key: key}
	pub, err := srv.Published(ctx, "www.example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pub.Request(); err != nil {
		t.Errorf("the request is not published: %v", err)
	}
}
