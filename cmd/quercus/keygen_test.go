package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/tsig"
)

func TestKeygen(t *testing.T) {
	tests := []struct {
		alg  string // as given; "" for the default
		want string // miekg's name
		size int    // secret length
	}{
		{"", dns.HmacSHA256, 32},
		{"hmac-sha1", dns.HmacSHA1, 20},
		{"hmac-sha224", dns.HmacSHA224, 28},
		{"hmac-sha256", dns.HmacSHA256, 32},
		{"hmac-sha384", dns.HmacSHA384, 48},
		{"HMAC-SHA512", dns.HmacSHA512, 64},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			args := []string{"tsig-keygen", "ops._update.example.com"}
			if tt.alg != "" {
				args = append(args, "--algorithm", tt.alg)
			}
			r := quercus(t, nil, args...)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("status %d, stderr %q", r.code, r.stderr)
			}

			// The whole output is a key file holding the one key.
			for _, file := range []string{"_keys", "example.com._keys"} {
				keys, problems, err := tsig.ParseKeyFile(file, []byte(r.stdout))
				if err != nil || len(problems) > 0 || len(keys) != 1 {
					t.Fatalf("ParseKeyFile(%s) of\n%s\n= %v, %v, %v", file, r.stdout, keys, problems, err)
				}
			}
			keys, _, _ := tsig.ParseKeyFile("_keys", []byte(r.stdout))
			k := keys[0]
			if k.Name != "ops._update.example.com." || k.Algorithm != tt.want || k.Rights != tsig.Update|tsig.Transfer|tsig.Notify {
				t.Errorf("key %+v", k)
			}
			if secret, _ := base64.StdEncoding.DecodeString(k.Secret); len(secret) != tt.size {
				t.Errorf("secret of %d octets, want %d", len(secret), tt.size)
			}

			// The comments give the client forms of the same key.
			out := lines(r.stdout)
			if len(out) != 4 || out[0] != k.Record() {
				t.Fatalf("output:\n%s", r.stdout)
			}
			flagForm := out[2][strings.LastIndex(out[2], " ")+1:]
			if fk, err := tsig.ParseFlag(flagForm); err != nil || fk != k {
				t.Errorf("ParseFlag(%q) = %+v, %v; want %+v", flagForm, fk, err, k)
			}
			alg := strings.TrimSuffix(tt.want, ".")
			if want := "; nsupdate -y, kdig -y: " + alg + ":ops._update.example.com:" + k.Secret; out[3] != want {
				t.Errorf("got %q, want %q", out[3], want)
			}

			// notify reads the output as a key file.
			path := filepath.Join(t.TempDir(), "key")
			os.WriteFile(path, []byte(r.stdout), 0o600)
			if fk, err := readKeyFile(path); err != nil || fk != k {
				t.Errorf("readKeyFile = %+v, %v; want %+v", fk, err, k)
			}
		})
	}
}

func TestKeygenRandom(t *testing.T) {
	// The secret comes from the injected randomness, all of it.
	e := &env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, getenv: func(string) string { return "" },
		rand: bytes.NewReader(bytes.Repeat([]byte{1}, 32))}
	if code := run(context.Background(), e, []string{"tsig-keygen", "a._notify.example.org."}); code != 0 {
		t.Fatalf("status %d: %s", code, e.stderr)
	}
	want := "a._notify.example.org. DNSKEY 0 3 163 " + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32)) + "\n"
	if got := e.stdout.(*bytes.Buffer).String(); !strings.HasPrefix(got, want) {
		t.Errorf("got\n%s\nwant first line\n%s", got, want)
	}
}

func TestKeygenErrors(t *testing.T) {
	tests := []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{}, 2, "want one key NAME"},
		{[]string{"a._update.example.com", "b._update.example.com"}, 2, "want one key NAME"},
		{[]string{"example.com"}, 1, "no _update, _transfer or _notify label"},
		{[]string{"--algorithm", "hmac-md5", "a._update.example.com"}, 1, "too weak"},
		{[]string{"--algorithm", "rot13", "a._update.example.com"}, 1, "unknown algorithm"},
	}
	for _, tt := range tests {
		r := quercus(t, nil, append([]string{"tsig-keygen"}, tt.args...)...)
		if r.code != tt.code || !strings.Contains(r.stderr, tt.stderr) || r.stdout != "" {
			t.Errorf("tsig-keygen %v: status %d, stderr %q, stdout %q", tt.args, r.code, r.stderr, r.stdout)
		}
	}
}
