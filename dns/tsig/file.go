package tsig

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// Problem is one thing wrong in a _keys file; String gives one line.
type Problem struct {
	File string // e.g. example.com._keys
	Name string // the key's name; empty for syntax errors
	Msg  string
}

func (p Problem) String() string {
	if p.Name == "" {
		return p.File + ": " + p.Msg
	}
	return p.File + ": " + p.Name + ": " + p.Msg
}

// KeyFileZone reports whether file names a key file, and for which zone:
// "_keys" holds keys for any zone ("."), "<zone>._keys" keys for zone.
func KeyFileZone(file string) (zone string, ok bool) {
	if file == "_keys" {
		return ".", true
	}
	z, ok := strings.CutSuffix(strings.ToLower(file), "._keys")
	if !ok || len(z) > 253 || checkLabels(strings.Split(z, ".")) != nil {
		return "", false
	}
	return z + ".", true
}

// ParseKeyFile reads the keys in a _keys file (see KeyFileZone), a zone
// file of DNSKEY records as robur's dns-primary-git keeps them. Relative
// names are relative to the file's zone.
//
// A record that is not a usable key is left out and reported as a
// Problem: another record type, a name that gives no rights, a name with
// more than one DNSKEY, protocol other than 3, flags other than 0, an
// algorithm other than 161-165 (hmac-md5, 157, is refused), a secret that
// is not base64, and a key for a zone outside the file's zone. A syntax
// error ends parsing with one Problem, and $GENERATE or $INCLUDE give
// nothing but a Problem. Whoever loads keys should refuse
// the file when there are problems rather than serve a subset.
//
// The error is for a file name that is no key file.
func ParseKeyFile(file string, src []byte) ([]Key, []Problem, error) {
	zone, ok := KeyFileZone(file)
	if !ok {
		return nil, nil, fmt.Errorf("tsig: %q is not a key file (want _keys or <zone>._keys)", file)
	}
	var (
		problems []Problem
		keys     []Key
		count    = map[string]int{}
		names    []string // in order of appearance
	)
	problem := func(name, format string, args ...any) {
		problems = append(problems, Problem{File: file, Name: name, Msg: fmt.Sprintf(format, args...)})
	}

	// One $GENERATE line makes up to 65535 keys; miekg cannot turn it off
	// and ocaml-dns does not read it.
	for i, line := range bytes.Split(src, []byte("\n")) {
		if d := bytes.TrimLeft(line, " \t"); len(d) >= 9 && strings.EqualFold(string(d[:9]), "$GENERATE") {
			problem("", "line %d: $GENERATE is not allowed in a key file", i+1)
			return nil, problems, nil
		}
	}

	zp := dns.NewZoneParser(bytes.NewReader(src), zone, file)
	zp.SetDefaultTTL(0) // robur writes keys without TTL; it means nothing here
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		name := dns.CanonicalName(rr.Header().Name)
		if count[name]++; count[name] == 1 {
			names = append(names, name)
		}
		rec, ok := rr.(*dns.DNSKEY)
		if !ok {
			problem(name, "%s record: a key file holds only DNSKEY records", dns.TypeToString[rr.Header().Rrtype])
			continue
		}
		k, err := keyFromDNSKEY(name, rec)
		if err != nil {
			problem(name, "%v", err)
			continue
		}
		if !dns.IsSubDomain(zone, k.Zone) {
			problem(name, "key for zone %s does not belong in %s, which holds keys for %s and below: move it to %s_keys or _keys",
				k.Zone, file, zone, k.Zone)
			continue
		}
		keys = append(keys, k)
	}
	if err := zp.Err(); err != nil {
		problem("", "%v", strings.TrimPrefix(err.Error(), file+": "))
	}

	// ocaml-dns ignores a name with several DNSKEYs; so do we, loudly.
	var out []Key
	for _, k := range keys {
		if count[k.Name] == 1 {
			out = append(out, k)
		}
	}
	for _, name := range names {
		if n := count[name]; n > 1 {
			problem(name, "%d records for one key name: want exactly one DNSKEY", n)
		}
	}
	return out, problems, nil
}

// keyFromDNSKEY checks one DNSKEY record of a key file.
func keyFromDNSKEY(name string, rec *dns.DNSKEY) (Key, error) {
	if rec.Protocol != 3 {
		return Key{}, fmt.Errorf("DNSKEY protocol %d: want 3", rec.Protocol)
	}
	if rec.Flags != 0 {
		return Key{}, fmt.Errorf("DNSKEY flags %d: want 0", rec.Flags)
	}
	a, ok := algorithmByNumber(rec.Algorithm)
	switch {
	case rec.Algorithm == md5Number:
		return Key{}, fmt.Errorf("algorithm 157 (hmac-md5) is too weak (RFC 8945 §6): use 163 (hmac-sha256)")
	case !ok:
		return Key{}, fmt.Errorf("algorithm %d is no TSIG HMAC: want 161-165 (hmac-sha1, -sha224, -sha256, -sha384, -sha512)", rec.Algorithm)
	}
	secret, err := base64.StdEncoding.Strict().DecodeString(rec.PublicKey)
	if err != nil {
		return Key{}, fmt.Errorf("secret is not base64: %v", err)
	}
	if len(secret) == 0 {
		return Key{}, errors.New("empty secret")
	}
	k, err := newKey(name, a, secret)
	if ne := (*NameError)(nil); errors.As(err, &ne) {
		return Key{}, errors.New(ne.Reason)
	}
	return k, err
}
