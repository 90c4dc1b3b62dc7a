package certify

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Names returns the host names a CSR asks for, lower case, without a final
// dot, sorted, each once: its subject alternative names, or its common
// name when it has none (as Let's Encrypt reads a CSR).
func Names(csr *x509.CertificateRequest) []string {
	names := csr.DNSNames
	if len(names) == 0 && csr.Subject.CommonName != "" {
		names = []string{csr.Subject.CommonName}
	}
	return normalize(names)
}

func normalize(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, strings.TrimSuffix(strings.ToLower(n), "."))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Fits reports whether cert certifies pub for exactly names (as Names
// returns them).
func Fits(cert *x509.Certificate, pub crypto.PublicKey, names []string) bool {
	if !publicKeyEqual(cert.PublicKey, pub) {
		return false
	}
	return slices.Equal(normalize(cert.DNSNames), names)
}

// RenewBefore is how long before its end a certificate is renewed, unless
// a third of its lifetime is shorter.
const RenewBefore = 30 * 24 * time.Hour

// Due reports whether cert should be replaced at now: it has not started
// or has ended, or it is within RenewBefore of its end, or within the last
// third of its lifetime when that is shorter.
func Due(cert *x509.Certificate, now time.Time) bool {
	return !now.Before(RenewAt(cert)) || now.Before(cert.NotBefore)
}

// RenewAt is when cert becomes due.
func RenewAt(cert *x509.Certificate) time.Time {
	window := min(RenewBefore, cert.NotAfter.Sub(cert.NotBefore)/3)
	return cert.NotAfter.Add(-window)
}

// Valid reports whether cert is within its validity period at now.
func Valid(cert *x509.Certificate, now time.Time) bool {
	return !now.Before(cert.NotBefore) && !now.After(cert.NotAfter)
}

// Chain returns the published certificate of p that certifies pub for
// names, with the CA certificates published beside it that lead from it
// towards a root: leaf first. Certificates that do not parse are skipped.
// It returns nil if none fits; of several, the one that ends last.
func (p *Published) Chain(pub crypto.PublicKey, names []string) []*x509.Certificate {
	var leaf *x509.Certificate
	for _, t := range p.Certs {
		c := parse(t)
		if c != nil && Fits(c, pub, names) && (leaf == nil || c.NotAfter.After(leaf.NotAfter)) {
			leaf = c
		}
	}
	if leaf == nil {
		return nil
	}
	var cas []*x509.Certificate
	for _, t := range p.CAs {
		if c := parse(t); c != nil {
			cas = append(cas, c)
		}
	}
	return order(leaf, cas)
}

// order follows issuers from leaf through cas; the DNS keeps no order.
func order(leaf *x509.Certificate, cas []*x509.Certificate) []*x509.Certificate {
	chain := []*x509.Certificate{leaf}
	for len(chain) <= len(cas) {
		last := chain[len(chain)-1]
		var next *x509.Certificate
		for _, c := range cas {
			if !slices.Contains(chain, c) && last.CheckSignatureFrom(c) == nil {
				next = c
				break
			}
		}
		if next == nil || next.Equal(last) {
			break
		}
		chain = append(chain, next)
	}
	return chain
}

func parse(t *dns.TLSA) *x509.Certificate {
	der, err := Data(t)
	if err != nil {
		return nil
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil
	}
	return c
}

// Host is where a request for names is published: the one name, less any
// "*.", that every name is at or below. A request may only name the host's
// subtree, which is what a key with update rights at the host may claim;
// names without such a top (two siblings) have no host.
func Host(names []string) (string, error) {
	names = normalize(names)
	if len(names) == 0 {
		return "", errors.New("no host names")
	}
	host := ""
	for _, n := range names {
		if n = strings.TrimPrefix(n, "*."); host == "" || len(n) < len(host) {
			host = n
		}
	}
	for _, n := range names {
		if n = strings.TrimPrefix(n, "*."); n != host && !strings.HasSuffix(n, "."+host) {
			return "", fmt.Errorf("%s is not at or below %s: a request's names must share a top name, where it is published", n, host)
		}
	}
	return host, nil
}
