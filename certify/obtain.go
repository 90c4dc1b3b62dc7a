package certify

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Config configures Obtain.
type Config struct {
	// Server is where to publish the request and read the certificate;
	// Server.Key needs update rights on the zone holding the names.
	Server Server
	// Hostnames are the names to certify; the first (without "*.") says
	// where the records go. Wildcards ("*.example.com") are allowed.
	Hostnames []string
	// Key is the certificate's private key; nil makes an ECDSA P-256 key.
	Key crypto.Signer
	// Roots, if set, must verify the published chain.
	Roots *x509.CertPool
	// Poll is how often to look for the certificate. Default 1s.
	Poll time.Duration
	// TTL of the published request. Default 300.
	TTL uint32
	// Now is the clock for validity. Default time.Now.
	Now func() time.Time
	// Logger says what happens; nil logs nothing.
	Logger *slog.Logger
}

// Cert is a certificate with its chain and private key.
type Cert struct {
	Key   crypto.Signer
	Chain []*x509.Certificate // leaf first
}

// TLS returns c for a tls.Config.
func (c *Cert) TLS() tls.Certificate {
	t := tls.Certificate{PrivateKey: c.Key, Leaf: c.Chain[0]}
	for _, x := range c.Chain {
		t.Certificate = append(t.Certificate, x.Raw)
	}
	return t
}

// ChainPEM is the chain as PEM, leaf first, as servers load it.
func (c *Cert) ChainPEM() []byte {
	var b []byte
	for _, x := range c.Chain {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: x.Raw})...)
	}
	return b
}

// KeyPEM is the private key as a PKCS #8 PEM block.
func (c *Cert) KeyPEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(c.Key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParseKeyPEM reads a private key in PKCS #8, SEC 1 (EC) or PKCS #1 (RSA)
// PEM form.
func ParseKeyPEM(b []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	var k any
	var err error
	switch block.Type {
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, err
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("a %T cannot sign", k)
	}
	return s, nil
}

// ErrTimeout is Obtain giving up because ctx ended before a certificate
// appeared.
var ErrTimeout = errors.New("no certificate was published in time (is dns-acme running and following the zone?)")

// Obtain returns a certificate for cfg.Hostnames and cfg.Key. If one is
// published and valid it returns at once; otherwise it publishes a CSR
// for them (replacing any other CSR at the host) with a signed UPDATE and
// waits until dns-acme publishes a fitting certificate or ctx ends.
func Obtain(ctx context.Context, cfg Config) (*Cert, error) {
	if len(cfg.Hostnames) == 0 {
		return nil, errors.New("no host names")
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	poll := cfg.Poll
	if poll <= 0 {
		poll = time.Second
	}
	ttl := cfg.TTL
	if ttl == 0 {
		ttl = 300
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	names := normalize(cfg.Hostnames)
	for _, n := range names {
		if err := checkHostName(n); err != nil {
			return nil, err
		}
	}
	for _, n := range names {
		if zone := cfg.Server.zone(); !dns.IsSubDomain(zone, dns.Fqdn(strings.TrimPrefix(n, "*."))) {
			return nil, fmt.Errorf("%s is outside zone %s, which the key %s updates", n, zone, cfg.Server.Key.Name)
		}
	}
	host, err := Host(names)
	if err != nil {
		return nil, err
	}
	key := cfg.Key
	if key == nil {
		var err error
		if key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			return nil, err
		}
	}
	srv := &cfg.Server
	if srv.Now == nil {
		srv.Now = now
	}

	found := func() (*Cert, *Published, error) {
		p, err := srv.Published(ctx, host)
		if err != nil {
			return nil, nil, err
		}
		chain := p.Chain(key.Public(), names)
		if chain == nil || !Valid(chain[0], now()) {
			return nil, p, nil
		}
		if cfg.Roots != nil {
			inter := x509.NewCertPool()
			for _, c := range chain[1:] {
				inter.AddCert(c)
			}
			if _, err := chain[0].Verify(x509.VerifyOptions{Roots: cfg.Roots, Intermediates: inter, CurrentTime: now()}); err != nil {
				log.Warn("a published certificate fits but does not verify", "host", host, "err", err)
				return nil, p, nil
			}
		}
		return &Cert{Key: key, Chain: chain}, p, nil
	}
	c, p, err := found()
	if err != nil {
		return nil, ended(ctx, err)
	}
	if c != nil {
		log.Info("a valid certificate is published", "host", host, "not_after", c.Chain[0].NotAfter)
		return c, nil
	}

	if r, err := p.Request(); err == nil && slices.Equal(Names(r), names) && publicKeyEqual(r.PublicKey, key.Public()) {
		// Ours from an earlier run, perhaps being ordered right now:
		// replacing it would start that over.
		log.Info("our certificate signing request is published; waiting for the certificate", "record", RecordName(host), "names", names)
	} else {
		csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
			Subject:  pkix.Name{CommonName: names[0]},
			DNSNames: names,
		}, key)
		if err != nil {
			return nil, err
		}
		var old []dns.RR
		for _, r := range p.Requests {
			old = append(old, r)
		}
		if err := srv.Update(ctx, old, []dns.RR{RequestRecord(host, ttl, csr)}); err != nil {
			return nil, ended(ctx, err)
		}
		log.Info("published a certificate signing request; waiting for the certificate", "record", RecordName(host), "names", names)
	}

	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, ended(ctx, nil)
		case <-t.C:
		}
		c, _, err := found()
		if err != nil {
			log.Debug("looking for the certificate", "err", err)
			continue
		}
		if c != nil {
			log.Info("certificate published", "host", host, "not_after", c.Chain[0].NotAfter)
			return c, nil
		}
	}
}

func publicKeyEqual(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}

// ended returns ErrTimeout or ctx's error when ctx has ended, else err.
func ended(ctx context.Context, err error) error {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return ErrTimeout
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return err
}
