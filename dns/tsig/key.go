package tsig

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// Right is a set of operations a key may authorise.
type Right int

// The rights a key name can give (see ParseName).
const (
	Update   Right = 1 << iota // RFC 2136 dynamic update
	Transfer                   // AXFR and IXFR out
	Notify                     // RFC 1996 NOTIFY
)

func (r Right) String() string {
	var s []string
	for _, x := range []struct {
		r    Right
		name string
	}{{Update, "update"}, {Transfer, "transfer"}, {Notify, "notify"}} {
		if r&x.r != 0 {
			s = append(s, x.name)
		}
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, "|")
}

// Key is one TSIG key and what its name allows.
type Key struct {
	Name      string // FQDN, lowercase: foo._update.example.com.
	Algorithm string // miekg constant, e.g. dns.HmacSHA256
	Secret    string // standard base64, canonical
	Zone      string // FQDN the name grants rights on ("." for every zone)
	Rights    Right
	// Primary and Secondary are the addresses a _transfer key names;
	// zero when the name has none.
	Primary, Secondary netip.Addr
}

// String describes k without its secret, so that keys can be logged.
func (k Key) String() string {
	s := []string{k.Name, k.AlgorithmName(), k.Rights.String(), "on", k.Zone}
	if k.Primary.IsValid() {
		s = append(s, "primary", k.Primary.String())
	}
	if k.Secondary.IsValid() {
		s = append(s, "secondary", k.Secondary.String())
	}
	return strings.Join(slices.DeleteFunc(s, func(x string) bool { return x == "" }), " ")
}

// Allows reports whether k grants every right in r on zone, which must be
// the key's zone or below it.
func (k Key) Allows(r Right, zone string) bool {
	if r == 0 || k.Rights&r != r || k.Zone == "" {
		return false
	}
	return dns.IsSubDomain(k.Zone, dns.CanonicalName(zone))
}

// algorithm is an HMAC TSIG can use. The DNSKEY numbers are the private
// ones robur's ocaml-dns uses to store TSIG secrets as DNSKEY records
// (Dnskey.algorithm_to_int in its src/dns.ml).
type algorithm struct {
	number uint8
	name   string // miekg constant
	hash   func() hash.Hash
	size   int // output length in bytes: the full MAC, and the generated secret's length
}

var algorithms = []algorithm{
	{161, dns.HmacSHA1, sha1.New, sha1.Size},
	{162, dns.HmacSHA224, sha256.New224, sha256.Size224},
	{163, dns.HmacSHA256, sha256.New, sha256.Size},
	{164, dns.HmacSHA384, sha512.New384, sha512.Size384},
	{165, dns.HmacSHA512, sha512.New, sha512.Size},
}

// md5Number is hmac-md5 in ocaml-dns. We refuse it: RFC 8945 §6 says
// HMAC-MD5 must not be used for new deployments, miekg/dns dropped it and
// ocaml-dns cannot sign with it either.
const md5Number = 157

func algorithmByName(name string) (algorithm, bool) {
	name = dns.CanonicalName(name)
	for _, a := range algorithms {
		if a.name == name {
			return a, true
		}
	}
	return algorithm{}, false
}

func algorithmByNumber(n uint8) (algorithm, bool) {
	for _, a := range algorithms {
		if a.number == n {
			return a, true
		}
	}
	return algorithm{}, false
}

// parseAlgorithm accepts "hmac-sha256", "hmac-sha256." and robur's
// "SHA256", in any case.
func parseAlgorithm(s string) (algorithm, error) {
	l := strings.ToLower(strings.TrimSuffix(s, "."))
	if a, ok := algorithmByName("hmac-" + l); ok && strings.HasPrefix(l, "sha") {
		return a, nil
	}
	if a, ok := algorithmByName(l); ok {
		return a, nil
	}
	if strings.Contains(l, "md5") {
		return algorithm{}, fmt.Errorf("tsig: algorithm %q is too weak (RFC 8945 §6); use hmac-sha256", s)
	}
	return algorithm{}, fmt.Errorf("tsig: unknown algorithm %q (want hmac-sha1, -sha224, -sha256, -sha384 or -sha512)", s)
}

// mac computes the HMAC of msg with k's secret.
func (k Key) mac(msg []byte) ([]byte, error) {
	a, ok := algorithmByName(k.Algorithm)
	if !ok {
		return nil, fmt.Errorf("tsig: key %s: unknown algorithm %q", k.Name, k.Algorithm)
	}
	secret, err := base64.StdEncoding.DecodeString(k.Secret)
	if err != nil {
		return nil, fmt.Errorf("tsig: key %s: secret: %w", k.Name, err)
	}
	h := hmac.New(a.hash, secret)
	h.Write(msg)
	return h.Sum(nil), nil
}

// NameError says why a key name gives no rights.
type NameError struct {
	Name   string
	Reason string
}

func (e *NameError) Error() string { return "tsig: key name " + e.Name + ": " + e.Reason }

// ParseName reads the rights a key name gives, as robur's ocaml-dns does
// (Dns_server.Authentication): the rightmost label that is _update,
// _transfer or _notify says what, the labels after it say on which zone.
//
//	<name>._update.<zone>          update, transfer and notify
//	<ip1>.<ip2>._transfer.<zone>   transfer and notify; ip1 is the primary, ip2 the secondary
//	<ip1>._transfer.<zone>         the same with a primary only
//	<name>._transfer.<zone>        the same without addresses
//	<name>._notify.<zone>          notify only
//
// Addresses are IPv4 only, written as four labels each, because that is
// all ocaml-dns reads. Unlike ocaml-dns, a run of numeric labels before
// _transfer that is not one or two IPv4 addresses is an error rather than
// silently no address. Labels are restricted to letters, digits, '-' and
// '_' so that names survive command lines and configuration files.
//
// ParseName fills Name, Zone, Rights, Primary and Secondary.
func ParseName(name string) (Key, error) {
	fail := func(reason string) (Key, error) { return Key{}, &NameError{Name: name, Reason: reason} }
	n := dns.CanonicalName(name)
	if n == "." {
		return fail("empty")
	}
	if len(n) > 254 { // 255 octets on the wire
		return fail("longer than 255 octets")
	}
	labels := strings.Split(strings.TrimSuffix(n, "."), ".")
	if err := checkLabels(labels); err != nil {
		return fail(err.Error())
	}
	op := -1
	for i := len(labels) - 1; i >= 0; i-- {
		if l := labels[i]; l == "_update" || l == "_transfer" || l == "_notify" {
			op = i
			break
		}
	}
	if op < 0 {
		return fail("no _update, _transfer or _notify label says what the key may do")
	}
	k := Key{Name: n, Zone: dns.Fqdn(strings.Join(labels[op+1:], "."))}
	switch labels[op] {
	case "_update":
		k.Rights = Update | Transfer | Notify
	case "_notify":
		k.Rights = Notify
	case "_transfer":
		k.Rights = Transfer | Notify
		var err error
		if k.Primary, k.Secondary, err = transferAddrs(labels[:op]); err != nil {
			return fail(err.Error())
		}
	}
	return k, nil
}

// checkLabels allows lowercase letters, digits, '-' and '_' in labels of
// 1 to 63 octets.
func checkLabels(labels []string) error {
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return errors.New("empty label or label longer than 63 octets")
		}
		for _, c := range []byte(l) {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("character %q not allowed (letters, digits, '-' and '_' only)", c)
			}
		}
	}
	return nil
}

// transferAddrs reads the IPv4 addresses in the numeric labels just
// before _transfer: none, the primary, or the primary and the secondary.
func transferAddrs(labels []string) (primary, secondary netip.Addr, err error) {
	n := 0
	for i := len(labels) - 1; i >= 0 && isDigits(labels[i]); i-- {
		n++
	}
	quad := func(ls []string) (netip.Addr, error) {
		s := strings.Join(ls, ".")
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			return netip.Addr{}, fmt.Errorf("%s is not an IPv4 address", s)
		}
		return a, nil
	}
	ls := labels[len(labels)-n:]
	switch n {
	case 0:
		return primary, secondary, nil
	case 4:
		primary, err = quad(ls)
		return primary, secondary, err
	case 8:
		if primary, err = quad(ls[:4]); err != nil {
			return primary, secondary, err
		}
		secondary, err = quad(ls[4:])
		return primary, secondary, err
	}
	return primary, secondary, fmt.Errorf("%d numeric labels before _transfer: want 4 (primary) or 8 (primary and secondary IPv4 address)", n)
}

func isDigits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// newKey checks a name, algorithm and secret and builds a Key from them.
func newKey(name string, a algorithm, rawSecret []byte) (Key, error) {
	k, err := ParseName(name)
	if err != nil {
		return Key{}, err
	}
	if len(rawSecret) == 0 {
		return Key{}, fmt.Errorf("tsig: key %s: empty secret", k.Name)
	}
	k.Algorithm = a.name
	k.Secret = base64.StdEncoding.EncodeToString(rawSecret)
	return k, nil
}

// Generate makes a key with a random secret as long as the hash output,
// as BIND's tsig-keygen does. algorithm is a miekg constant or a
// name like hmac-sha256; rnd defaults to crypto/rand.
func Generate(name, algorithm string, rnd io.Reader) (Key, error) {
	a, err := parseAlgorithm(algorithm)
	if err != nil {
		return Key{}, err
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	secret := make([]byte, a.size)
	if _, err := io.ReadFull(rnd, secret); err != nil {
		return Key{}, fmt.Errorf("tsig: generate secret: %w", err)
	}
	return newKey(name, a, secret)
}

// Record is the line that stores k in a _keys file, in robur's format:
//
//	foo._update.example.com. DNSKEY 0 3 163 <base64 secret>
func (k Key) Record() string {
	a, _ := algorithmByName(k.Algorithm)
	return k.Name + " DNSKEY 0 3 " + strconv.Itoa(int(a.number)) + " " + k.Secret
}

// Flag is k as NAME:ALGORITHM:SECRET for command lines, e.g.
// foo._update.example.com:hmac-sha256:c2VjcmV0. Mind that it holds the
// secret: prefer a file or the environment to argv, which ps shows.
func (k Key) Flag() string {
	return strings.TrimSuffix(k.Name, ".") + ":" + k.AlgorithmName() + ":" + k.Secret
}

// DigFlag is k as ALGORITHM:NAME:SECRET, the order dig, kdig, nsupdate
// and knsupdate take after -y. It holds the secret, as Flag does.
func (k Key) DigFlag() string {
	return k.AlgorithmName() + ":" + strings.TrimSuffix(k.Name, ".") + ":" + k.Secret
}

// AlgorithmName is the algorithm as people write it: hmac-sha256.
func (k Key) AlgorithmName() string { return strings.TrimSuffix(k.Algorithm, ".") }

// ParseFlag is the inverse of Flag. It also takes robur's form with the
// DNSKEY algorithm's name, foo._update.example.com:SHA256:c2VjcmV0.
func ParseFlag(s string) (Key, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return Key{}, errors.New("tsig: key must be NAME:ALGORITHM:SECRET")
	}
	a, err := parseAlgorithm(parts[1])
	if err != nil {
		return Key{}, err
	}
	secret, err := base64.StdEncoding.Strict().DecodeString(parts[2])
	if err != nil || strings.ContainsAny(parts[2], "\r\n") {
		return Key{}, fmt.Errorf("tsig: key %s: secret is not standard base64", parts[0])
	}
	return newKey(parts[0], a, secret)
}
