package certify_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/certify"
	"github.com/quercus-dev/quercus/dns/primary"
	"github.com/quercus-dev/quercus/dns/primary/primarytest"
	"github.com/quercus-dev/quercus/dns/tsig"
	"github.com/quercus-dev/quercus/kv"
	"github.com/quercus-dev/quercus/kv/mem"
)

// startPrimary serves example.com from memory and returns a Server for it
// with an update key.
func startPrimary(t *testing.T) certify.Server {
	t.Helper()
	ctx := context.Background()
	key, _ := tsig.Generate("web._update.example.com.", dns.HmacSHA256, nil)
	store := mem.New()
	_, err := store.Batch(ctx, kv.Commit{Message: "zone"}, func(tx kv.Txn) error {
		tx.Put("example.com", []byte("$ORIGIN example.com.\n@ 300 SOA ns1 h 1 3600 900 1209600 300\n@ 300 NS ns1\nns1 300 A 127.0.0.1\n"))
		return tx.Put("example.com._keys", []byte(key.Record()+"\n"))
	})
	if err != nil {
		t.Fatal(err)
	}
	_, addr := primarytest.Start(t, primary.Config{Store: store})
	return certify.Server{Addr: addr, Key: key}
}

// TestObtainPublishesOneRequest: without an issuer Obtain waits until its
// context ends, having published its request; a second Obtain for the
// host with another key replaces that request rather than adding one, and
// one with the same key and names leaves it as it is. Past its deadline
// Obtain says ErrTimeout.
func TestObtainPublishesOneRequest(t *testing.T) {
	srv := startPrimary(t)
	obtain := func() *ecdsa.PrivateKey {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		ctx, cancel := context.WithCancel(context.Background())
		// Cancel once the request is out: the first poll finds nothing.
		cfg := certify.Config{Server: srv, Hostnames: []string{"www.example.com", "*.www.example.com"}, Key: key, Poll: time.Millisecond}
		go func() {
			for ctx.Err() == nil {
				p, err := srv.Published(ctx, "www.example.com")
				if err == nil && len(p.Requests) > 0 {
					if r, err := p.Request(); err == nil && r.PublicKey.(*ecdsa.PublicKey).Equal(key.Public()) {
						cancel()
						return
					}
				}
				time.Sleep(time.Millisecond)
			}
		}()
		if _, err := certify.Obtain(ctx, cfg); !errors.Is(err, context.Canceled) {
			t.Fatalf("Obtain without an issuer: %v, want context.Canceled", err)
		}
		return key
	}
	obtain()
	second := obtain()
	p, err := srv.Published(context.Background(), "www.example.com")
	if err != nil {
		t.Fatal(err)
	}
	csr, err := p.Request()
	if err != nil {
		t.Fatalf("after two Obtains: %v", err)
	}
	if !csr.PublicKey.(*ecdsa.PublicKey).Equal(second.Public()) {
		t.Error("the published request is not the second one")
	}
	// Run again with that key, it leaves its request alone.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	cfg := certify.Config{Server: srv, Hostnames: []string{"*.www.example.com", "www.example.com"}, Key: second, Poll: time.Millisecond}
	if _, err := certify.Obtain(ctx, cfg); !errors.Is(err, certify.ErrTimeout) {
		t.Errorf("Obtain past its deadline: %v, want ErrTimeout", err)
	}
	if again, err := srv.Published(context.Background(), "www.example.com"); err != nil || len(again.Requests) != 1 || again.Requests[0].Certificate != p.Requests[0].Certificate {
		t.Errorf("a second run with the same key replaced its request (%v)", err)
	}

}

func TestObtainRefusesBadNames(t *testing.T) {
	key, _ := tsig.Generate("web._update.example.com.", dns.HmacSHA256, nil)
	for _, names := range [][]string{nil, {"a..example.com"}, {"*.*.example.com"}, {"www.example.com", "www.example.org"}} {
		if _, err := certify.Obtain(context.Background(), certify.Config{Server: certify.Server{Key: key}, Hostnames: names}); err == nil {
			t.Errorf("Obtain(%q) took them", names)
		}
	}
}
