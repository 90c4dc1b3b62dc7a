package zone

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the output of Write")

func mustParse(t testing.TB, origin, src string) *Zone {
	t.Helper()
	z, err := Parse(origin, []byte(src))
	if err != nil {
		t.Fatalf("Parse(%q): %v", origin, err)
	}
	return z
}

func TestParse(t *testing.T) {
	z := mustParse(t, "Example.com", `$TTL 300
@ SOA ns1 hostmaster ( 7 ; serial
2 3 4 5 )
  NS ns1
ns1 60 A 192.0.2.1
$ORIGIN sub
x TXT "a;b" ; comment
y ( A
192.0.2.2 )
`)
	if z.Origin != "Example.com." {
		t.Errorf("Origin = %q", z.Origin)
	}
	want := []string{
		"Example.com.\t300\tIN\tSOA\tns1.Example.com. hostmaster.Example.com. 7 2 3 4 5",
		"Example.com.\t300\tIN\tNS\tns1.Example.com.",
		"ns1.Example.com.\t60\tIN\tA\t192.0.2.1",
		"x.sub.Example.com.\t300\tIN\tTXT\t\"a;b\"",
		"y.sub.Example.com.\t300\tIN\tA\t192.0.2.2",
	}
	var got []string
	for _, rr := range z.Records {
		got = append(got, rr.String())
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if z.Serial() != 7 || z.SOA() == nil {
		t.Errorf("Serial() = %d, SOA() = %v", z.Serial(), z.SOA())
	}
}

// A file of TSIG keys, as robur's dns-primary-git keeps them: DNSKEY records
// named for what they may do, outside the file's own "zone".
func TestParseKeys(t *testing.T) {
	z := mustParse(t, "mirage._keys", string(mustRead(t, "testdata/mirage._keys.zone")))
	if len(z.Records) != 2 {
		t.Fatalf("%d records, want 2", len(z.Records))
	}
	key, ok := z.Records[0].(*dns.DNSKEY)
	if !ok || key.Hdr.Name != "personal._update.mirage." || key.Algorithm != 163 {
		t.Errorf("first record %v, want the DNSKEY of personal._update.mirage.", z.Records[0])
	}
}

func TestParseCRLF(t *testing.T) {
	z := mustParse(t, "example.com", "@ SOA ns1 hostmaster (\r\n 1 2 3 4 5 )\r\n@ NS ns1\r\n")
	if len(z.Records) != 2 || z.Serial() != 1 {
		t.Errorf("records %v", z.Records)
	}
}

func TestParseDefaultTTL(t *testing.T) {
	z := mustParse(t, "example.com", "@ NS ns1\n")
	if ttl := z.Records[0].Header().Ttl; ttl != DefaultTTL {
		t.Errorf("TTL = %d, want %d", ttl, DefaultTTL)
	}
}

// miekg's lexer joins the tokens either side of a line break inside
// parentheses; Parse must not.
func TestParseLineBreakInParentheses(t *testing.T) {
	z := mustParse(t, "example.com", "@ SOA ns1 hostmaster (\n1\n2\n3\n4\n5)\n@ TXT (a\nb)\n")
	soa := z.SOA()
	if soa == nil || soa.Mbox != "hostmaster.example.com." || soa.Serial != 1 || soa.Minttl != 5 {
		t.Errorf("SOA = %v", soa)
	}
	if txt := z.Records[1].(*dns.TXT).Txt; len(txt) != 2 {
		t.Errorf("TXT = %q, want two strings", txt)
	}
}

func TestSOAAndSerialWithoutSOA(t *testing.T) {
	z := mustParse(t, "example.com", "@ NS ns1\nsub SOA a b 9 1 1 1 1\n")
	if z.SOA() != nil || z.Serial() != 0 {
		t.Errorf("SOA() = %v, Serial() = %d; want nil, 0 (the SOA is not at the origin)", z.SOA(), z.Serial())
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name      string
		origin    string
		src       string
		line, col int
		msg       string // in Msg
		is        error
	}{
		{name: "bad address", src: "@ NS ns1\n\n@ A 192.0.2.300\n", line: 3, col: 5, msg: "bad A"},
		{name: "unknown type", src: "@ NS ns1\nwww IN XYZ a\n", line: 2, msg: "XYZ"},
		{name: "after multi-line record", src: "@ SOA a b (\n1 2 3\n4 5 )\n@ MX x y\n", line: 4, msg: "MX"},
		{name: "unbalanced parenthesis", src: "@ SOA a b ( 1 2 3 4 5\n", msg: "brace"},
		{name: "extra parenthesis", src: "@ NS ns1 )\n", line: 1, msg: "brace"},
		{name: "include", src: "@ NS ns1\n$INCLUDE /etc/passwd\n", line: 2, col: 1, is: ErrInclude},
		{name: "include lower case", src: "$include x\n", line: 1, col: 1, is: ErrInclude},
		{name: "generate", src: "@ NS ns1\n\n$GENERATE 1-65535 h$ A 192.0.2.1\n", line: 3, col: 1, is: ErrGenerate},
		{name: "generate split by parenthesis", src: "$GEN(ERATE) 1-2 h$ A 192.0.2.1\n", line: 1, is: ErrGenerate},
		{name: "generate after comment", src: "@ NS ns1 ; x\n$generate 1-2 h$ A 192.0.2.1\n", line: 2, is: ErrGenerate},
		{name: "record without data", src: "@ NS ns1\nwww A\n", line: 2, msg: "A record without data", is: ErrRecord},
		{name: "SOA without data", src: "@ NS ns1\n\n@ SOA\n", line: 3, msg: "SOA record without data", is: ErrRecord},
		{name: "TXT without data", src: "@ TXT\n", line: 1, msg: "TXT record without data", is: ErrRecord},
		{name: "NULL", src: "@ NS ns1\n@ NULL \\# 1 00\n", line: 2, msg: "NULL", is: ErrRecord},
		{name: "meta type", src: "@ ANY\n", line: 1, msg: "type ANY is not zone data", is: ErrRecord},
		{name: "OPT", src: "@ NS ns1\n@ OPT\n", line: 2, msg: "type OPT is not zone data", is: ErrRecord},
		{name: "short generic data", src: "@ NS ns1\n@ TYPE6 \\# 3 010000\n", line: 2, msg: "SOA record cannot be decoded", is: ErrRecord},
		{name: "escaped final dot after non-ASCII", src: "@ NS ns1\n\xd1\xb6\\\\\\. NS ns1\n", line: 2, msg: "bad owner name", is: ErrRecord},
		{name: "bad base64", src: "@ NS ns1\n@ DNSKEY 257 3 13 !!!!\n", line: 2, msg: "DNSKEY record cannot be encoded", is: ErrRecord},
		{name: "data too long", src: "@ NS ns1\n@ TXT " + strings.Repeat(`"`+strings.Repeat("a", 255)+`" `, 260) + "\n", line: 2, msg: "TXT record cannot be encoded", is: ErrRecord},
		{name: "too large", src: strings.Repeat(" ", MaxSize+1), is: ErrTooLarge},
		{name: "bad origin", origin: "a..b", src: "", is: ErrOrigin},
		{name: "empty origin", origin: "", src: "", is: ErrOrigin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			origin := "example.com"
			if tt.is == ErrOrigin {
				origin = tt.origin
			}
			_, err := Parse(origin, []byte(tt.src))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T), want a *ParseError", err, err)
			}
			if tt.line != 0 && pe.Line != tt.line {
				t.Errorf("Line = %d, want %d (%v)", pe.Line, tt.line, err)
			}
			if tt.col != 0 && pe.Column != tt.col {
				t.Errorf("Column = %d, want %d (%v)", pe.Column, tt.col, err)
			}
			if !strings.Contains(pe.Msg, tt.msg) {
				t.Errorf("Msg = %q, want it to contain %q", pe.Msg, tt.msg)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
			if tt.is == nil {
				var de *dns.ParseError
				if !errors.As(err, &de) {
					t.Errorf("error %v does not wrap a *dns.ParseError", err)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error has more than one line: %q", err)
			}
		})
	}
}

// Text that only looks like a directive must still parse.
func TestParseNotDirectives(t *testing.T) {
	for _, src := range []string{
		"@ TXT \"a\n$INCLUDE b\"\n", // inside quotes
		"@ TXT ( a\n$INCLUDE )\n",   // inside parentheses: a string
		"\\$GENERATE TXT a\n",       // escaped: an owner name
		"$generated TXT a\n",        // a longer word
		"$include.example.com. A 192.0.2.1\n",
		"@ TXT a ; $INCLUDE x\n", // in a comment
		"; $GENERATE\n@ TXT a\n", // in a comment
	} {
		if _, err := Parse("example.com", []byte(src)); err != nil {
			t.Errorf("Parse(%q): %v", src, err)
		}
	}
}

func TestParseErrorString(t *testing.T) {
	_, err := Parse("example.com", []byte("@ NS ns1\n@ A x\n"))
	if got, want := err.Error(), `zone example.com.: line 2:5: bad A A: "x"`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// zoneFiles returns the test zones, and their origins from their names.
func zoneFiles(t testing.TB) map[string]string {
	t.Helper()
	files, err := filepath.Glob("testdata/*.zone")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/*.zone: %v", err)
	}
	m := map[string]string{}
	for _, f := range files {
		m[f] = strings.TrimSuffix(filepath.Base(f), ".zone")
	}
	return m
}

func TestWriteGolden(t *testing.T) {
	for file, origin := range zoneFiles(t) {
		t.Run(origin, func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			z := mustParse(t, origin, string(src))
			var out bytes.Buffer
			if err := Write(&out, z); err != nil {
				t.Fatal(err)
			}
			golden := strings.TrimSuffix(file, ".zone") + ".golden"
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Errorf("Write differs from %s (go test -update rewrites it):\n%s", golden, out.Bytes())
			}
			checkRoundTrip(t, z)
		})
	}
}

// checkRoundTrip checks that Parse(Write(z)) has the records of z, and that
// writing those gives the same bytes.
func checkRoundTrip(t testing.TB, z *Zone) {
	t.Helper()
	var out bytes.Buffer
	if err := Write(&out, z); err != nil {
		t.Fatalf("Write: %v", err)
	}
	z2, err := Parse(z.Origin, out.Bytes())
	if err != nil {
		t.Fatalf("Parse(Write(z)): %v\n%s", err, out.Bytes())
	}
	if added, removed := Diff(z, z2); len(added)+len(removed) > 0 || len(z.Records) != len(z2.Records) {
		t.Fatalf("Parse(Write(z)) differs from z: added %v, removed %v\n%s", added, removed, out.Bytes())
	}
	var again bytes.Buffer
	if err := Write(&again, z2); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if !bytes.Equal(out.Bytes(), again.Bytes()) {
		t.Fatalf("Write(Parse(Write(z))) differs from Write(z):\n%s\n---\n%s", out.Bytes(), again.Bytes())
	}
}

// Names relative to unusual origins must be written so that they read back.
func TestWriteOrigins(t *testing.T) {
	const src = "@ SOA ns hostmaster 1 1 1 1 1\n@ NS ns\nns A 192.0.2.1\n*.w TXT x\nout.side. A 192.0.2.2\n"
	for _, origin := range []string{".", "a\\.b.test", "xn--bcher-kva.example", "EXAMPLE.com.", "\\$ttl.example"} {
		t.Run(origin, func(t *testing.T) {
			checkRoundTrip(t, mustParse(t, origin, src))
		})
	}
}

// The order of records in the zone must not change what Write writes.
func TestWriteDeterministic(t *testing.T) {
	src, err := os.ReadFile("testdata/unusual.test.zone")
	if err != nil {
		t.Fatal(err)
	}
	z := mustParse(t, "unusual.test", string(src))
	var want bytes.Buffer
	if err := Write(&want, z); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		shuffled := &Zone{Origin: z.Origin, Records: append([]dns.RR(nil), z.Records...)}
		// a fixed permutation per round: rotate and reverse
		n := len(shuffled.Records)
		shuffled.Records = append(shuffled.Records[i%n:], shuffled.Records[:i%n]...)
		if i%2 == 1 {
			for l, r := 0, n-1; l < r; l, r = l+1, r-1 {
				shuffled.Records[l], shuffled.Records[r] = shuffled.Records[r], shuffled.Records[l]
			}
		}
		var got bytes.Buffer
		if err := Write(&got, shuffled); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("round %d: output depends on record order:\n%s\n---\n%s", i, got.Bytes(), want.Bytes())
		}
	}
}

func TestWriteErrors(t *testing.T) {
	if err := Write(&bytes.Buffer{}, nil); err == nil {
		t.Error("Write(nil zone) succeeded")
	}
	if err := Write(&bytes.Buffer{}, &Zone{}); err == nil {
		t.Error("Write(zone without origin) succeeded")
	}
}

// DNS canonical order, the example of RFC 4034 §6.1.
func TestCanonicalOrder(t *testing.T) {
	names := []string{
		"example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.",
		"zABC.a.EXAMPLE.", "z.example.", "\\001.z.example.", "*.z.example.", "\\200.z.example.",
	}
	for i := 1; i < len(names); i++ {
		if a, b := nameKey(names[i-1]), nameKey(names[i]); a >= b {
			t.Errorf("nameKey(%s) >= nameKey(%s)", names[i-1], names[i])
		}
	}
	if nameKey("WWW.Example.COM.") != nameKey("www.example.com.") || nameKey("\\065.x.") != nameKey("a.x.") {
		t.Error("nameKey depends on case or escapes")
	}
}

func mustRead(t testing.TB, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
