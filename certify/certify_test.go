package certify

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func newKey(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func makeCSR(t testing.TB, key crypto.Signer, tmpl *x509.CertificateRequest) []byte {
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// issue makes a certificate for pub signed by ca (self-signed if nil).
func issue(t testing.TB, tmpl *x509.Certificate, pub crypto.PublicKey, ca *x509.Certificate, caKey crypto.Signer) *x509.Certificate {
	if ca == nil {
		ca = tmpl
	}
	if tmpl.SerialNumber == nil {
		tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, pub, caKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRecordName(t *testing.T) {
	for _, c := range []struct{ host, name string }{
		{"www.example.com", "_letsencrypt._tcp.www.example.com."},
		{"WWW.Example.COM.", "_letsencrypt._tcp.www.example.com."},
		{"*.example.com", "_letsencrypt._tcp.example.com."},
	} {
		if got := RecordName(c.host); got != c.name {
			t.Errorf("RecordName(%q) = %q, want %q", c.host, got, c.name)
		}
	}
	for _, c := range []struct {
		name, host string
		ok         bool
	}{
		{"_letsencrypt._tcp.www.example.com.", "www.example.com.", true},
		{"_LetsEncrypt._TCP.Example.com", "example.com.", true},
		{"_letsencrypt._tcp.", "", false},
		{"_letsencrypt._udp.example.com.", "", false},
		{"www.example.com.", "", false},
	} {
		host, ok := HostOf(c.name)
		if host != c.host || ok != c.ok {
			t.Errorf("HostOf(%q) = %q, %v; want %q, %v", c.name, host, ok, c.host, c.ok)
		}
	}
}

func TestKindAndCollect(t *testing.T) {
	der := []byte{1, 2, 3}
	rrs := []dns.RR{
		RequestRecord("www.example.com", 300, der),
		CertificateRecord("www.example.com", 300, der),
		CARecord("www.example.com", 300, der),
		CARecord("www.example.com", 300, []byte{4}),
		RequestRecord("api.example.com", 300, der),
		&dns.TLSA{Hdr: dns.RR_Header{Name: "_letsencrypt._tcp.www.example.com.", Rrtype: dns.TypeTLSA}, Usage: 3, Selector: 1, MatchingType: 1, Certificate: "00"},
		&dns.TLSA{Hdr: dns.RR_Header{Name: "_443._tcp.www.example.com.", Rrtype: dns.TypeTLSA}, Usage: 3, Selector: 255, Certificate: "00"},
		&dns.A{Hdr: dns.RR_Header{Name: "_letsencrypt._tcp.www.example.com.", Rrtype: dns.TypeA}, A: net.IPv4(192, 0, 2, 1)},
	}
	wantKinds := []Kind{Request, Certificate, CA, CA, Request, Other, Request}
	for i, k := range wantKinds {
		if got := KindOf(rrs[i].(*dns.TLSA)); got != k {
			t.Errorf("record %d: kind %d, want %d", i, got, k)
		}
	}
	got := Collect(rrs)
	if len(got) != 2 {
		t.Fatalf("Collect: %d hosts, want 2 (DANE records of other services are not ours)", len(got))
	}
	www := got["www.example.com."]
	if len(www.Requests) != 1 || len(www.Certs) != 1 || len(www.CAs) != 2 {
		t.Errorf("www: %d requests, %d certificates, %d CAs; want 1, 1, 2", len(www.Requests), len(www.Certs), len(www.CAs))
	}
	if b, err := Data(www.Requests[0]); err != nil || !slices.Equal(b, der) {
		t.Errorf("Data = %x, %v; want %x", b, err, der)
	}
}

func TestRequest(t *testing.T) {
	key := newKey(t)
	csr := func(tmpl *x509.CertificateRequest) []byte { return makeCSR(t, key, tmpl) }
	good := csr(&x509.CertificateRequest{DNSNames: []string{"www.example.com", "example.com"}})
	badSig := slices.Clone(good)
	badSig[len(badSig)-3] ^= 0xff
	for _, c := range []struct {
		name    string
		host    string
		ders    [][]byte
		names   []string // nil: an error
		problem string
	}{
		{"SANs at their top name", "example.com.", [][]byte{good}, []string{"example.com", "www.example.com"}, ""},
		{"a name above the host", "www.example.com.", [][]byte{good}, nil, ProblemWrongHost},
		{"a sibling of the host", "a.example.com.", [][]byte{csr(&x509.CertificateRequest{DNSNames: []string{"a.example.com", "b.example.com"}})}, nil, ProblemWrongHost},
		{"common name only", "mail.example.com.", [][]byte{csr(&x509.CertificateRequest{Subject: pkix.Name{CommonName: "Mail.Example.com"}})}, []string{"mail.example.com"}, ""},
		{"wildcard at its base", "example.com.", [][]byte{csr(&x509.CertificateRequest{DNSNames: []string{"*.example.com"}})}, []string{"*.example.com"}, ""},
		{"none", "www.example.com.", nil, nil, ProblemMissing},
		{"two", "www.example.com.", [][]byte{good, good}, nil, ProblemSeveral},
		{"not DER", "www.example.com.", [][]byte{[]byte("hello")}, nil, ProblemMalformed},
		{"bad signature", "www.example.com.", [][]byte{badSig}, nil, ProblemMalformed},
		{"another host", "mail.example.com.", [][]byte{good}, nil, ProblemWrongHost},
		{"no names", "www.example.com.", [][]byte{csr(&x509.CertificateRequest{})}, nil, ProblemMalformed},
		{"IP address", "www.example.com.", [][]byte{csr(&x509.CertificateRequest{DNSNames: []string{"www.example.com"}, IPAddresses: []net.IP{net.IPv4(192, 0, 2, 1)}})}, nil, ProblemMalformed},
		{"wildcard inside", "example.com.", [][]byte{csr(&x509.CertificateRequest{DNSNames: []string{"a.*.example.com", "example.com"}})}, nil, ProblemMalformed},
		{"common name outside the names", "www.example.com.", [][]byte{csr(&x509.CertificateRequest{Subject: pkix.Name{CommonName: "mail.example.com"}, DNSNames: []string{"www.example.com"}})}, nil, ProblemMalformed},
		{"bad label", "example.com.", [][]byte{csr(&x509.CertificateRequest{DNSNames: []string{"example.com", "-x.example.com"}})}, nil, ProblemMalformed},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := &Published{Host: c.host}
			for _, der := range c.ders {
				p.Requests = append(p.Requests, RequestRecord(c.host, 300, der))
			}
			got, err := p.Request()
			if c.names == nil {
				var re *RequestError
				if !errors.As(err, &re) || re.Problem != c.problem {
					t.Fatalf("Request() = %v, %v; want a %s RequestError", got, err, c.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(Names(got), c.names) {
				t.Errorf("names %v, want %v", Names(got), c.names)
			}
		})
	}
}

func TestFitsAndDue(t *testing.T) {
	key, other := newKey(t), newKey(t)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cert := func(pub crypto.PublicKey, days int, names ...string) *x509.Certificate {
		return issue(t, &x509.Certificate{NotBefore: start, NotAfter: start.Add(time.Duration(days) * 24 * time.Hour), DNSNames: names}, pub, nil, key)
	}
	names := []string{"example.com", "www.example.com"}
	for _, c := range []struct {
		name string
		cert *x509.Certificate
		fits bool
	}{
		{"same key and names", cert(key.Public(), 90, "www.example.com", "example.com"), true},
		{"names in other case", cert(key.Public(), 90, "WWW.example.com", "Example.com"), true},
		{"another key", cert(other.Public(), 90, "www.example.com", "example.com"), false},
		{"a name less", cert(key.Public(), 90, "www.example.com"), false},
		{"a name more", cert(key.Public(), 90, "www.example.com", "example.com", "mail.example.com"), false},
	} {
		if got := Fits(c.cert, key.Public(), names); got != c.fits {
			t.Errorf("%s: Fits = %v, want %v", c.name, got, c.fits)
		}
	}

	day := func(d float64) time.Time { return start.Add(time.Duration(d * 24 * float64(time.Hour))) }
	long, short := cert(key.Public(), 90, names...), cert(key.Public(), 6, names...)
	for _, c := range []struct {
		name string
		cert *x509.Certificate
		at   time.Time
		due  bool
	}{
		{"90 days, before it starts", long, day(-1), true},
		{"90 days, fresh", long, day(0), false},
		{"90 days, 31 days left", long, day(59), false},
		{"90 days, 30 days left", long, day(60), true},
		{"90 days, ended", long, day(91), true},
		{"6 days, 3 left", short, day(3), false},
		{"6 days, 2 left", short, day(4), true},
	} {
		if got := Due(c.cert, c.at); got != c.due {
			t.Errorf("%s: Due = %v, want %v", c.name, got, c.due)
		}
	}
	if Valid(long, day(-1)) || !Valid(long, day(1)) || Valid(long, day(91)) {
		t.Error("Valid is wrong about the validity period")
	}
}

// TestChain: the CA certificates come back in issuing order whatever
// order DNS gives them, and the leaf is the one that fits.
func TestChain(t *testing.T) {
	now := time.Now()
	rootKey, interKey, leafKey := newKey(t), newKey(t), newKey(t)
	ca := func(name string) *x509.Certificate {
		return &x509.Certificate{Subject: pkix.Name{CommonName: name}, NotBefore: now, NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	}
	root := issue(t, ca("root"), rootKey.Public(), nil, rootKey)
	inter := issue(t, ca("intermediate"), interKey.Public(), root, rootKey)
	names := []string{"www.example.com"}
	leaf := issue(t, &x509.Certificate{NotBefore: now, NotAfter: now.Add(time.Hour), DNSNames: names}, leafKey.Public(), inter, interKey)
	stranger := issue(t, &x509.Certificate{NotBefore: now, NotAfter: now.Add(2 * time.Hour), DNSNames: names}, newKey(t).Public(), inter, interKey)
	p := Collect([]dns.RR{
		CARecord("www.example.com", 300, root.Raw),
		CertificateRecord("www.example.com", 300, stranger.Raw),
		CertificateRecord("www.example.com", 300, []byte("junk")),
		CertificateRecord("www.example.com", 300, leaf.Raw),
		CARecord("www.example.com", 300, inter.Raw),
	})["www.example.com."]
	chain := p.Chain(leafKey.Public(), names)
	if len(chain) != 3 || !chain[0].Equal(leaf) || !chain[1].Equal(inter) || !chain[2].Equal(root) {
		t.Errorf("chain of %d certificates, want leaf, intermediate, root", len(chain))
	}
	if p.Chain(newKey(t).Public(), names) != nil {
		t.Error("a chain for a key no certificate has")
	}
}

func TestParseKeyPEM(t *testing.T) {
	c := &Cert{Key: newKey(t)}
	b, err := c.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParseKeyPEM(b)
	if err != nil || !k.(*ecdsa.PrivateKey).Equal(c.Key) {
		t.Errorf("ParseKeyPEM(KeyPEM()) = %v, %v", k, err)
	}
	if _, err := ParseKeyPEM([]byte("no PEM")); err == nil {
		t.Error("ParseKeyPEM took garbage")
	}
}

// FuzzRecords: any TLSA data at a host decodes to a request, a chain or
// an error, never a panic; an accepted request survives publishing again.
func FuzzRecords(f *testing.F) {
	key := newKey(f)
	f.Add(uint8(3), uint8(255), uint8(0), makeCSR(f, key, &x509.CertificateRequest{DNSNames: []string{"www.example.com"}}))
	f.Add(uint8(3), uint8(255), uint8(0), makeCSR(f, key, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "www.example.com"}}))
	f.Add(uint8(3), uint8(0), uint8(0), issue(f, &x509.Certificate{NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"www.example.com"}}, key.Public(), nil, key).Raw)
	f.Add(uint8(0), uint8(0), uint8(0), []byte{0x30, 0x03, 0x02, 0x01, 0x01})
	f.Add(uint8(3), uint8(255), uint8(0), []byte{})
	f.Fuzz(func(t *testing.T, usage, selector, matching uint8, data []byte) {
		rr := &dns.TLSA{Hdr: dns.RR_Header{Name: RecordName("www.example.com"), Rrtype: dns.TypeTLSA, Class: dns.ClassINET, Ttl: 300},
			Usage: usage, Selector: selector, MatchingType: matching}
		rr.Certificate = RequestRecord("x", 0, data).Certificate
		// The record as a zone file holds it, read back.
		back, err := dns.NewRR(rr.String())
		if err != nil {
			if len(data) == 0 {
				return // miekg cannot read empty TLSA data back
			}
			t.Fatalf("%q does not parse: %v", rr.String(), err)
		}
		p := Collect([]dns.RR{back})["www.example.com."]
		if p == nil {
			t.Fatal("the record was not collected")
		}
		p.Chain(key.Public(), []string{"www.example.com"})
		csr, err := p.Request()
		if err != nil {
			return
		}
		again, err := (&Published{Host: p.Host, Requests: []*dns.TLSA{RequestRecord(p.Host, 300, csr.Raw)}}).Request()
		if err != nil || !slices.Equal(Names(again), Names(csr)) {
			t.Fatalf("a request read back differs: %v", err)
		}
	})
}
