package tsig

import (
	"strings"
	"testing"
)

var keyFiles = []string{"_keys", "example.com._keys", "sub.example.com._keys"}

func FuzzParseKeyFile(f *testing.F) {
	f.Add(uint8(1), "a._update.example.com. DNSKEY 0 3 163 "+secret32)
	f.Add(uint8(0), "$TTL 60\n1.2.3.4.5.6.7.8._transfer.example.org. IN DNSKEY 0 3 165 "+secret32+"\nn._notify 300 DNSKEY 0 3 161 ( cDK6sKyvlt8U\n BerZlmxuD84ih2I= )\n")
	f.Add(uint8(1), "a._update.example.com. DNSKEY 0 3 157 "+secret32)
	f.Add(uint8(1), "a._update.example.org. DNSKEY 0 3 163 "+secret32)
	f.Add(uint8(2), "a._update.example.com. DNSKEY 0 3 163 kJJqipaQ*")
	f.Add(uint8(1), "a._update.example.com. TXT x\n$ORIGIN sub.example.com.\nk._notify DNSKEY 0 3 164 "+secret20)
	f.Fuzz(func(t *testing.T, which uint8, src string) {
		file := keyFiles[int(which)%len(keyFiles)]
		keys, problems, err := ParseKeyFile(file, []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			if strings.Contains(p.String(), "\n") {
				t.Errorf("problem spans lines: %q", p)
			}
		}
		for _, k := range keys {
			again, problems, err := ParseKeyFile(file, []byte(k.Record()))
			if err != nil || len(problems) != 0 || len(again) != 1 || again[0] != k {
				t.Fatalf("%+v: Record %q read back as %+v, %v, %v", k, k.Record(), again, problems, err)
			}
			back, err := ParseFlag(k.Flag())
			if err != nil || back != k {
				t.Fatalf("%+v: Flag %q read back as %+v, %v", k, k.Flag(), back, err)
			}
		}
	})
}

func FuzzParseFlag(f *testing.F) {
	f.Add("foo._update.example.com:hmac-sha256:" + secret32)
	f.Add("192.0.2.1.198.51.100.7._transfer.example.com.:SHA512:" + secret32)
	f.Add("n._notify.:hmac-sha1.:" + secret20)
	f.Add("foo._update.example.com:hmac-md5:c2VjcmV0")
	f.Add("a:b:c:d")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseFlag(s)
		if err != nil {
			return
		}
		back, err := ParseFlag(k.Flag())
		if err != nil || back != k {
			t.Fatalf("%q: Flag %q read back as %+v, %v", s, k.Flag(), back, err)
		}
		keys, problems, err := ParseKeyFile("_keys", []byte(k.Record()))
		if err != nil || len(problems) != 0 || len(keys) != 1 || keys[0] != k {
			t.Fatalf("%q: Record %q read back as %+v, %v, %v", s, k.Record(), keys, problems, err)
		}
	})
}
