package certify

import (
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// Label is what a host's records are published under.
const Label = "_letsencrypt._tcp."

// The TLSA forms (RFC 6698 usage, selector, matching type) robur uses.
var (
	formCSR  = [3]uint8{3, 255, 0} // DANE-EE, private selector, no hash
	formCert = [3]uint8{3, 0, 0}   // DANE-EE, full certificate, no hash
	formCA   = [3]uint8{0, 0, 0}   // CA constraint, full certificate, no hash
)

// Kind says which of the forms a TLSA record has.
type Kind int

const (
	Other       Kind = iota // a TLSA record of some other use
	Request                 // 3 255 0: a certificate signing request
	Certificate             // 3 0 0: an issued certificate
	CA                      // 0 0 0: a CA certificate of the chain
)

// KindOf says what t holds.
func KindOf(t *dns.TLSA) Kind {
	switch [3]uint8{t.Usage, t.Selector, t.MatchingType} {
	case formCSR:
		return Request
	case formCert:
		return Certificate
	case formCA:
		return CA
	}
	return Other
}

// RecordName is the owner name of host's records: _letsencrypt._tcp.<host>.
// A leading "*." is dropped.
func RecordName(host string) string {
	host = strings.TrimPrefix(strings.ToLower(dns.Fqdn(host)), "*.")
	return Label + host
}

// HostOf returns the host whose records are at name, or false if name is
// not of the form _letsencrypt._tcp.<host>.
func HostOf(name string) (string, bool) {
	name = strings.ToLower(dns.Fqdn(name))
	host, ok := strings.CutPrefix(name, Label)
	if !ok || host == "" || host == "." {
		return "", false
	}
	return host, true
}

// RequestRecord, CertificateRecord and CARecord make the TLSA records
// that publish der at host.
func RequestRecord(host string, ttl uint32, der []byte) *dns.TLSA {
	return record(host, ttl, formCSR, der)
}

func CertificateRecord(host string, ttl uint32, der []byte) *dns.TLSA {
	return record(host, ttl, formCert, der)
}

func CARecord(host string, ttl uint32, der []byte) *dns.TLSA {
	return record(host, ttl, formCA, der)
}

func record(host string, ttl uint32, form [3]uint8, der []byte) *dns.TLSA {
	return &dns.TLSA{
		Hdr:          dns.RR_Header{Name: RecordName(host), Rrtype: dns.TypeTLSA, Class: dns.ClassINET, Ttl: ttl},
		Usage:        form[0],
		Selector:     form[1],
		MatchingType: form[2],
		Certificate:  hex.EncodeToString(der),
	}
}

// Data returns the DER a TLSA record carries.
func Data(t *dns.TLSA) ([]byte, error) {
	return hex.DecodeString(t.Certificate)
}

// Published is what one host's records hold.
type Published struct {
	Host     string      // the host, e.g. www.example.com.
	Requests []*dns.TLSA // the CSR records; robur's tools handle exactly one
	Certs    []*dns.TLSA // the certificate records
	CAs      []*dns.TLSA // the CA certificate records
}

// Collect groups the TLSA records under _letsencrypt._tcp names by host.
// Other records are ignored.
func Collect(rrs []dns.RR) map[string]*Published {
	out := map[string]*Published{}
	for _, rr := range rrs {
		t, ok := rr.(*dns.TLSA)
		if !ok {
			continue
		}
		host, ok := HostOf(t.Hdr.Name)
		if !ok {
			continue
		}
		p := out[host]
		if p == nil {
			p = &Published{Host: host}
			out[host] = p
		}
		switch KindOf(t) {
		case Request:
			p.Requests = append(p.Requests, t)
		case Certificate:
			p.Certs = append(p.Certs, t)
		case CA:
			p.CAs = append(p.CAs, t)
		}
	}
	return out
}

// ErrNoRequest and ErrSeveralRequests say why a host's records hold no
// request to act on.
var (
	ErrNoRequest       = errors.New("no certificate signing request (TLSA 3 255 0)")
	ErrSeveralRequests = errors.New("more than one certificate signing request (TLSA 3 255 0)")
)

// Why a published request cannot be used, for RequestError.Problem (and
// metric labels).
const (
	ProblemMissing   = "missing"          // no request
	ProblemSeveral   = "several_requests" // more than one
	ProblemMalformed = "malformed"        // not a valid CSR
	ProblemWrongHost = "wrong_host"       // its names are not the record's host and names below it
	ProblemOutOfZone = "outside_zone"     // a name outside the zone (the issuer's check)
)

// RequestError is a published CSR that cannot be used.
type RequestError struct {
	Host    string
	Problem string // one of the Problem constants
	Reason  string // for people
	Err     error
}

func (e *RequestError) Error() string {
	s := fmt.Sprintf("%s%s: %s", Label, e.Host, e.Reason)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *RequestError) Unwrap() error { return e.Err }

// Request decodes the one CSR of p and checks it: its signature, that it
// names at least one valid host name, and that p's host is one of them
// (or the base of a wildcard among them).
func (p *Published) Request() (*x509.CertificateRequest, error) {
	switch len(p.Requests) {
	case 0:
		return nil, &RequestError{Host: p.Host, Problem: ProblemMissing, Reason: "skipped", Err: ErrNoRequest}
	case 1:
	default:
		return nil, &RequestError{Host: p.Host, Problem: ProblemSeveral, Reason: "skipped", Err: ErrSeveralRequests}
	}
	der, err := Data(p.Requests[0])
	if err != nil {
		return nil, &RequestError{Host: p.Host, Problem: ProblemMalformed, Reason: "malformed CSR", Err: err}
	}
	csr, err := ParseRequest(der)
	if err != nil {
		return nil, &RequestError{Host: p.Host, Problem: ProblemMalformed, Reason: "malformed CSR", Err: err}
	}
	// Only names at or below the record's host: whoever may write there
	// may not claim names elsewhere in the zone.
	host, err := Host(Names(csr))
	if err != nil || host != strings.ToLower(strings.TrimSuffix(p.Host, ".")) {
		return nil, &RequestError{Host: p.Host, Problem: ProblemWrongHost, Reason: fmt.Sprintf("the CSR is for %s, not for the host its record is at and names below it", strings.Join(Names(csr), ", "))}
	}
	return csr, nil
}

// ParseRequest parses a DER CSR and checks its signature and names.
func ParseRequest(der []byte) (*x509.CertificateRequest, error) {
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, err
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, err
	}
	names := Names(csr)
	if len(names) == 0 {
		return nil, errors.New("the CSR names no host")
	}
	for _, n := range names {
		if err := checkHostName(n); err != nil {
			return nil, err
		}
	}
	if cn := strings.TrimSuffix(strings.ToLower(csr.Subject.CommonName), "."); cn != "" && !slices.Contains(names, cn) {
		return nil, fmt.Errorf("the common name %q is not among the CSR's names (CAs refuse such requests)", csr.Subject.CommonName)
	}
	if len(csr.IPAddresses) > 0 || len(csr.EmailAddresses) > 0 || len(csr.URIs) > 0 {
		return nil, errors.New("the CSR asks for IP addresses, e-mail addresses or URIs; only host names are issued")
	}
	return csr, nil
}

// checkHostName accepts a host name, with at most a leading "*." label.
func checkHostName(n string) error {
	base := strings.TrimPrefix(n, "*.")
	if base == "" || len(base) > 253 || strings.Contains(base, "*") {
		return fmt.Errorf("%q is not a host name", n)
	}
	for _, label := range strings.Split(base, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("%q is not a host name", n)
		}
		for _, c := range []byte(label) {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("%q is not a host name", n)
			}
		}
	}
	return nil
}
