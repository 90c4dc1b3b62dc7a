package issuer

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/crypto/acme"

	"github.com/quercus-dev/quercus/certify"
)

// errRequestGone is a request replaced while we ordered its certificate.
var errRequestGone = errors.New("the request was replaced or removed while its certificate was ordered; the new one is handled next")

// issue orders a certificate for the request of p, solves the DNS-01
// challenges through UPDATEs and publishes the certificate and its chain.
func (i *Issuer) issue(ctx context.Context, p *certify.Published, csr *x509.CertificateRequest, names []string) error {
	ctx, cancel := context.WithTimeout(ctx, i.cfg.Timeout)
	defer cancel()
	if err := i.register(ctx); err != nil {
		return err
	}
	order, err := i.acme.AuthorizeOrder(ctx, acme.DomainIDs(names...))
	if err != nil {
		return fmt.Errorf("new order: %w", err)
	}
	if err := i.authorize(ctx, order); err != nil {
		return err
	}
	// The answer to a POST-as-GET carries no Location: keep the URL.
	ready, err := i.acme.WaitOrder(ctx, order.URI)
	if err != nil {
		return fmt.Errorf("order: %w", err)
	}
	ready.URI = order.URI
	order = ready
	ders, err := i.finalize(ctx, order, csr)
	if err != nil {
		return err
	}
	if len(ders) == 0 {
		return errors.New("the CA sent no certificate")
	}
	leaf, err := x509.ParseCertificate(ders[0])
	if err != nil {
		return fmt.Errorf("the CA's certificate: %w", err)
	}
	if !certify.Fits(leaf, csr.PublicKey, names) {
		return errors.New("the CA's certificate does not fit the request (key or names differ)")
	}
	return i.publish(ctx, p, ders)
}

// finalize sends the CSR and fetches the certificate with its chain.
func (i *Issuer) finalize(ctx context.Context, order *acme.Order, csr *x509.CertificateRequest) ([][]byte, error) {
	ders, _, err := i.acme.CreateOrderCert(ctx, order.FinalizeURL, csr.Raw, true)
	if err == nil {
		return ders, nil
	}
	// x/crypto/acme waits on the finalize answer's Location, which is
	// optional (RFC 8555 §7.4) and which Pebble leaves out while it is
	// still processing: then wait on the order's own URL.
	o, werr := i.acme.WaitOrder(ctx, order.URI)
	if werr != nil {
		return nil, fmt.Errorf("finalize: %w (order: %v)", err, werr)
	}
	if o.Status != acme.StatusValid || o.CertURL == "" {
		return nil, fmt.Errorf("finalize: %w (order is %s)", err, o.Status)
	}
	ders, err = i.acme.FetchCert(ctx, o.CertURL, true)
	if err != nil {
		return nil, fmt.Errorf("fetching the certificate: %w", err)
	}
	return ders, nil
}

// register makes the ACME account once.
func (i *Issuer) register(ctx context.Context) error {
	if i.account {
		return nil
	}
	acct := &acme.Account{}
	if i.cfg.Email != "" {
		acct.Contact = []string{"mailto:" + i.cfg.Email}
	}
	if _, err := i.acme.Register(ctx, acct, acme.AcceptTOS); err != nil && !errors.Is(err, acme.ErrAccountAlreadyExists) {
		return fmt.Errorf("ACME account at %s: %w", i.cfg.Directory, err)
	}
	i.account = true
	return nil
}

// authorize solves the DNS-01 challenge of each pending authorization of
// order: one UPDATE adds every TXT record, one removes them afterwards.
func (i *Issuer) authorize(ctx context.Context, order *acme.Order) error {
	type pending struct {
		url  string
		chal *acme.Challenge
	}
	var todo []pending
	var txts []dns.RR
	for _, u := range order.AuthzURLs {
		a, err := i.acme.GetAuthorization(ctx, u)
		if err != nil {
			return fmt.Errorf("authorization: %w", err)
		}
		switch a.Status {
		case acme.StatusValid:
			continue
		case acme.StatusPending:
		default:
			return fmt.Errorf("authorization for %s is %s", a.Identifier.Value, a.Status)
		}
		var chal *acme.Challenge
		for _, c := range a.Challenges {
			if c.Type == "dns-01" {
				chal = c
			}
		}
		if chal == nil {
			return fmt.Errorf("the CA offers no dns-01 challenge for %s", a.Identifier.Value)
		}
		value, err := i.acme.DNS01ChallengeRecord(chal.Token)
		if err != nil {
			return err
		}
		todo = append(todo, pending{u, chal})
		txts = append(txts, &dns.TXT{
			Hdr: dns.RR_Header{Name: "_acme-challenge." + dns.Fqdn(a.Identifier.Value), Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: challengeTTL},
			Txt: []string{value},
		})
	}
	if len(todo) == 0 {
		return nil
	}
	// Add our values beside any others: another order for the same name
	// (a wildcard and its base) may be in flight.
	if err := i.cfg.Server.Update(ctx, nil, txts); err != nil {
		return fmt.Errorf("adding the challenge records: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := i.cfg.Server.Update(cctx, txts, nil); err != nil {
			i.log.Error("could not remove the challenge records", "err", err)
		}
	}()
	if err := i.propagated(ctx, txts); err != nil {
		return err
	}
	for _, t := range todo {
		if _, err := i.acme.Accept(ctx, t.chal); err != nil {
			return fmt.Errorf("accepting the challenge: %w", err)
		}
	}
	for _, t := range todo {
		if _, err := i.acme.WaitAuthorization(ctx, t.url); err != nil {
			return fmt.Errorf("authorization: %w", err)
		}
	}
	return nil
}

// publish replaces the certificates at p's host with ders (leaf first,
// then the chain), if the request is still the one we ordered for.
func (i *Issuer) publish(ctx context.Context, p *certify.Published, ders [][]byte) error {
	// Read the records afresh from the primary: the Source may lag.
	now, err := i.cfg.Server.Published(ctx, p.Host)
	if err != nil {
		return err
	}
	if len(now.Requests) != 1 || now.Requests[0].Certificate != p.Requests[0].Certificate {
		return errRequestGone
	}
	ttl := p.Requests[0].Hdr.Ttl
	var remove, add []dns.RR
	for _, t := range append(now.Certs, now.CAs...) {
		remove = append(remove, t)
	}
	add = append(add, certify.CertificateRecord(p.Host, ttl, ders[0]))
	for _, der := range ders[1:] {
		add = append(add, certify.CARecord(p.Host, ttl, der))
	}
	if err := i.cfg.Server.Update(ctx, remove, add); err != nil {
		return fmt.Errorf("publishing the certificate: %w", err)
	}
	i.log.Info("certificate published", "host", p.Host, "chain", len(ders))
	return nil
}

// propagated waits until every server of Config.Check serves every
// challenge record, polling, for at most two minutes.
func (i *Issuer) propagated(ctx context.Context, txts []dns.RR) error {
	if len(i.cfg.Check) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	c := &dns.Client{Timeout: 2 * time.Second}
	serves := func(server netip.AddrPort, want *dns.TXT) bool {
		m := new(dns.Msg).SetQuestion(want.Hdr.Name, dns.TypeTXT)
		r, _, err := c.ExchangeContext(ctx, m, server.String())
		if err != nil {
			return false
		}
		for _, rr := range r.Answer {
			if t, ok := rr.(*dns.TXT); ok && strings.Join(t.Txt, "") == want.Txt[0] {
				return true
			}
		}
		return false
	}
	for _, server := range i.cfg.Check {
		for _, rr := range txts {
			for !serves(server, rr.(*dns.TXT)) {
				select {
				case <-ctx.Done():
					return fmt.Errorf("%s does not serve the challenge record %s: is it a secondary of the zone, and notified?", server, rr.Header().Name)
				case <-time.After(250 * time.Millisecond):
				}
			}
		}
	}
	return nil
}
