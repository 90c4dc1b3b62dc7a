package tsig

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestParseName(t *testing.T) {
	ip := netip.MustParseAddr
	tests := []struct {
		name      string
		zone      string
		rights    Right
		primary   netip.Addr
		secondary netip.Addr
		err       string // substring; "" for success
	}{
		{name: "foo._update.example.com.", zone: "example.com.", rights: Update | Transfer | Notify},
		{name: "Foo._UPDATE.Example.COM", zone: "example.com.", rights: Update | Transfer | Notify},
		{name: "_update.example.com.", zone: "example.com.", rights: Update | Transfer | Notify},
		{name: "foo._notify.example.com.", zone: "example.com.", rights: Notify},
		{name: "192.0.2.1.198.51.100.7._transfer.example.com.", zone: "example.com.",
			rights: Transfer | Notify, primary: ip("192.0.2.1"), secondary: ip("198.51.100.7")},
		{name: "ns1.192.0.2.1.198.51.100.7._transfer.example.com.", zone: "example.com.",
			rights: Transfer | Notify, primary: ip("192.0.2.1"), secondary: ip("198.51.100.7")},
		{name: "192.0.2.1._transfer.example.com.", zone: "example.com.",
			rights: Transfer | Notify, primary: ip("192.0.2.1")},
		{name: "sec._transfer.example.com.", zone: "example.com.", rights: Transfer | Notify},
		// The rightmost operation label decides, as in ocaml-dns.
		{name: "a._notify.b._update.example.com.", zone: "example.com.", rights: Update | Transfer | Notify},
		{name: "a._update.b._notify.example.com.", zone: "example.com.", rights: Notify},
		// A key with no zone after the operation is for every zone.
		{name: "root._update.", zone: ".", rights: Update | Transfer | Notify},
		{name: "x._update.sub.example.com", zone: "sub.example.com.", rights: Update | Transfer | Notify},

		{name: "foo.example.com.", err: "no _update, _transfer or _notify"},
		{name: "_updates.example.com.", err: "no _update"},
		{name: ".", err: "empty"},
		{name: "", err: "empty"},
		{name: "a..b._update.example.com.", err: "empty label"},
		{name: "a b._update.example.com.", err: "not allowed"},
		{name: `a\.b._update.example.com.`, err: "not allowed"},
		{name: "a:b._update.example.com.", err: "not allowed"},
		{name: strings.Repeat("a", 64) + "._update.example.com.", err: "longer than 63"},
		{name: strings.Repeat("abcdefghi.", 26) + "_update.com.", err: "longer than 255"},
		{name: "192.0.2.300._transfer.example.com.", err: "not an IPv4 address"},
		{name: "192.0.2.01._transfer.example.com.", err: "not an IPv4 address"},
		{name: "1.2.3._transfer.example.com.", err: "3 numeric labels"},
		{name: "1.2.3.4.5._transfer.example.com.", err: "5 numeric labels"},
		{name: "1.2.3.4.5.6.7.8.9._transfer.example.com.", err: "9 numeric labels"},
		{name: "192.0.2.1.198.51.100.256._transfer.example.com.", err: "not an IPv4 address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParseName(tt.name)
			if tt.err != "" {
				var ne *NameError
				if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.As(err, &ne) {
					t.Fatalf("ParseName(%q) = %+v, %v; want *NameError containing %q", tt.name, k, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := Key{Name: dns.CanonicalName(tt.name), Zone: tt.zone, Rights: tt.rights, Primary: tt.primary, Secondary: tt.secondary}
			if k != want {
				t.Errorf("ParseName(%q) = %+v, want %+v", tt.name, k, want)
			}
		})
	}
}

func TestKeyString(t *testing.T) {
	k := mustKey(t, "192.0.2.1.198.51.100.7._transfer.example.com:hmac-sha256:"+secret32)
	want := "192.0.2.1.198.51.100.7._transfer.example.com. hmac-sha256 transfer|notify on example.com. primary 192.0.2.1 secondary 198.51.100.7"
	for _, s := range []string{k.String(), fmt.Sprint(k), fmt.Sprintf("%+v", k)} {
		if s != want || strings.Contains(s, secret32) {
			t.Errorf("got %q, want %q", s, want)
		}
	}
}

func TestRightString(t *testing.T) {
	for r, want := range map[Right]string{0: "none", Notify: "notify", Transfer | Notify: "transfer|notify", Update | Transfer | Notify: "update|transfer|notify"} {
		if got := r.String(); got != want {
			t.Errorf("%d: %q, want %q", int(r), got, want)
		}
	}
}

func TestAllows(t *testing.T) {
	update := mustName(t, "foo._update.example.com.")
	transfer := mustName(t, "192.0.2.1.198.51.100.7._transfer.example.com.")
	notify := mustName(t, "foo._notify.example.com.")
	root := mustName(t, "all._update.")
	tests := []struct {
		key   Key
		right Right
		zone  string
		want  bool
	}{
		{update, Update, "example.com.", true},
		{update, Update, "Example.COM", true},
		{update, Update, "sub.example.com.", true},
		{update, Update | Transfer | Notify, "a.b.example.com.", true},
		{update, Update, "com.", false},              // parent
		{update, Update, "example.org.", false},      // sibling
		{update, Update, "badexample.com.", false},   // suffix, not subdomain
		{update, Update, "example.com.evil.", false}, // prefix
		{update, 0, "example.com.", false},           // no right asked
		{transfer, Transfer, "example.com.", true},
		{transfer, Notify, "sub.example.com.", true},
		{transfer, Update, "example.com.", false},
		{transfer, Transfer | Update, "example.com.", false},
		{notify, Notify, "example.com.", true},
		{notify, Transfer, "example.com.", false},
		{notify, Update, "example.com.", false},
		{root, Update, "anything.org.", true},
		{root, Update, ".", true},
		{Key{}, Notify, "example.com.", false}, // zero Key allows nothing
	}
	for _, tt := range tests {
		if got := tt.key.Allows(tt.right, tt.zone); got != tt.want {
			t.Errorf("%s.Allows(%v, %s) = %v, want %v", tt.key.Name, tt.right, tt.zone, got, tt.want)
		}
	}
}

func mustName(t *testing.T, name string) Key {
	t.Helper()
	k, err := ParseName(name)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestGenerate(t *testing.T) {
	for _, tt := range []struct {
		alg  string
		want string
		size int
	}{
		{"hmac-sha1", dns.HmacSHA1, 20},
		{"hmac-sha224", dns.HmacSHA224, 28},
		{dns.HmacSHA256, dns.HmacSHA256, 32},
		{"HMAC-SHA384", dns.HmacSHA384, 48},
		{"SHA512", dns.HmacSHA512, 64},
	} {
		rnd := bytes.NewReader(bytes.Repeat([]byte{7}, 100))
		k, err := Generate("k._update.example.com", tt.alg, rnd)
		if err != nil {
			t.Fatalf("%s: %v", tt.alg, err)
		}
		if k.Algorithm != tt.want || k.Name != "k._update.example.com." || k.Zone != "example.com." {
			t.Errorf("%s: %+v", tt.alg, k)
		}
		if raw := mustDecode(t, k.Secret); !bytes.Equal(raw, bytes.Repeat([]byte{7}, tt.size)) {
			t.Errorf("%s: secret %x, want %d bytes from rnd", tt.alg, raw, tt.size)
		}
	}

	a, err := Generate("a._update.example.com.", "hmac-sha256", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Generate("a._update.example.com.", "hmac-sha256", nil)
	if a.Secret == b.Secret {
		t.Error("crypto/rand gave the same secret twice")
	}

	for _, bad := range []struct{ name, alg string }{
		{"nope.example.com.", "hmac-sha256"},
		{"a._update.example.com.", "hmac-md5"},
		{"a._update.example.com.", dns.HmacMD5},
		{"a._update.example.com.", "hmac-sha3"},
		{"a._update.example.com.", "md5"},
	} {
		if k, err := Generate(bad.name, bad.alg, nil); err == nil {
			t.Errorf("Generate(%q, %q) = %+v, want error", bad.name, bad.alg, k)
		}
	}
	if _, err := Generate("a._update.example.com.", "hmac-sha256", bytes.NewReader(make([]byte, 5))); err == nil {
		t.Error("short randomness: want error")
	}
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	out, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestFlag(t *testing.T) {
	k := mustKey(t, "foo._update.example.com:hmac-sha256:c2VjcmV0c2VjcmV0")
	if got, want := k.Flag(), "foo._update.example.com:hmac-sha256:c2VjcmV0c2VjcmV0"; got != want {
		t.Errorf("Flag() = %q, want %q", got, want)
	}
	if k.Name != "foo._update.example.com." || k.Algorithm != dns.HmacSHA256 || k.Zone != "example.com." || k.Rights != Update|Transfer|Notify {
		t.Errorf("%+v", k)
	}
	for _, s := range []string{
		"foo._update.example.com.:hmac-sha256.:c2VjcmV0c2VjcmV0", // trailing dots
		"FOO._update.example.com:HMAC-SHA256:c2VjcmV0c2VjcmV0",   // case
		"foo._update.example.com:SHA256:c2VjcmV0c2VjcmV0",        // robur's form
	} {
		if got := mustKey(t, s); got != k {
			t.Errorf("ParseFlag(%q) = %+v, want %+v", s, got, k)
		}
	}

	for _, alg := range []string{"hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384", "hmac-sha512"} {
		g, err := Generate("192.0.2.1.192.0.2.2._transfer.example.org.", alg, nil)
		if err != nil {
			t.Fatal(err)
		}
		if back := mustKey(t, g.Flag()); back != g {
			t.Errorf("round trip: %+v -> %q -> %+v", g, g.Flag(), back)
		}
	}

	for _, bad := range []string{
		"",
		"foo._update.example.com",
		"foo._update.example.com:hmac-sha256",
		"foo._update.example.com:hmac-sha256:c2Vj:cmV0",
		"foo._update.example.com:hmac-md5:c2VjcmV0",
		"foo._update.example.com:hmac-sha256:not base64!",
		"foo._update.example.com:hmac-sha256:c2VjcmV0c2VjcmV0\n",
		"foo._update.example.com:hmac-sha256:c2VjcmV0cx==", // non-canonical padding bits
		"foo._update.example.com:hmac-sha256:",
		"foo.example.com:hmac-sha256:c2VjcmV0c2VjcmV0",
	} {
		if k, err := ParseFlag(bad); err == nil {
			t.Errorf("ParseFlag(%q) = %+v, want error", bad, k)
		}
	}
}

func mustKey(t *testing.T, flag string) Key {
	t.Helper()
	k, err := ParseFlag(flag)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestKeyring(t *testing.T) {
	a := mustKey(t, "a._update.example.com:hmac-sha256:c2VjcmV0")
	b := mustKey(t, "b._notify.sub.example.com:hmac-sha256:c2VjcmV0")
	c := mustKey(t, "c._update.example.org:hmac-sha256:c2VjcmV0")
	root := mustKey(t, "root._notify:hmac-sha256:c2VjcmV0")
	a2 := mustKey(t, "a._update.example.com:hmac-sha512:c2VjcmV0")
	ring := NewKeyring(c, a, root, b, a2)

	if k, ok := ring.Key("A._UPDATE.example.com"); !ok || k != a2 {
		t.Errorf("Key: %+v %v; want the later a", k, ok)
	}
	if _, ok := ring.Key("z._update.example.com."); ok {
		t.Error("Key found a key that is not there")
	}
	names := func(ks []Key) string {
		var s []string
		for _, k := range ks {
			s = append(s, k.Name)
		}
		return strings.Join(s, " ")
	}
	if got, want := names(ring.Keys()), "a._update.example.com. b._notify.sub.example.com. c._update.example.org. root._notify."; got != want {
		t.Errorf("Keys: %s, want %s", got, want)
	}
	ring.Keys()[0].Name = "changed"
	if ring.Keys()[0].Name == "changed" {
		t.Error("Keys shares the keyring's slice")
	}
	for zone, want := range map[string]string{
		"example.com.":       "a._update.example.com. root._notify.",
		"x.sub.example.com.": "a._update.example.com. b._notify.sub.example.com. root._notify.",
		"example.org":        "c._update.example.org. root._notify.",
		"com.":               "root._notify.",
	} {
		if got := names(ring.ForZone(zone)); got != want {
			t.Errorf("ForZone(%s) = %s, want %s", zone, got, want)
		}
	}

	var none *Keyring
	if _, ok := none.Key("a._update.example.com."); ok || none.Keys() != nil || none.ForZone("example.com.") != nil {
		t.Error("nil Keyring is not empty")
	}
}

func TestDigFlag(t *testing.T) {
	k := Key{Name: "ops._update.example.com.", Algorithm: dns.HmacSHA256, Secret: "c2VjcmV0"}
	if got, want := k.DigFlag(), "hmac-sha256:ops._update.example.com:c2VjcmV0"; got != want {
		t.Errorf("DigFlag = %q, want %q", got, want)
	}
	if got := k.AlgorithmName(); got != "hmac-sha256" {
		t.Errorf("AlgorithmName = %q", got)
	}
}
