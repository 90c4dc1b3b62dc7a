package zone

import (
	"bytes"
	"testing"
	"time"
)

func FuzzParse(f *testing.F) {
	for file := range zoneFiles(f) {
		f.Add(mustRead(f, file))
	}
	for _, src := range []string{
		base,
		"@ SOA ns1 hostmaster (\n1\n2\n3\n4\n5)\n@ TXT (a\nb)\n",
		"$TTL 60\n$ORIGIN sub\nx TXT \"a;b\" ; c\ny ( A\n192.0.2.2 )\n",
		"@ NS ns1 )\n",
		"$GENERATE 1-2 h$ A 192.0.2.1\n",
		"$INCLUDE x\n",
		"@ TXT \"a\n$INCLUDE b\"\n",
		"x TYPE65280 \\# 3 abcdef\n",
		"\\$ttl TXT a\n$ttl.example.com. TXT b\n",
	} {
		f.Add([]byte(src))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		z, err := Parse("example.com", src)
		if err != nil {
			if _, ok := err.(*ParseError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		Check(z)
		z.Serial()
		checkRoundTrip(t, z)
	})
}

func FuzzSerial(f *testing.F) {
	f.Add(uint32(0), uint32(1), int64(1704196800))
	f.Add(uint32(0xFFFFFFFF), uint32(1<<31), int64(0))
	f.Add(uint32(2024010299), uint32(2024010200), int64(1704196800))
	f.Fuzz(func(t *testing.T, a, b uint32, unix int64) {
		if SerialLess(a, b) && SerialLess(b, a) {
			t.Fatalf("SerialLess both ways for %d, %d", a, b)
		}
		if (a == b || a-b == 1<<31) && (SerialLess(a, b) || SerialLess(b, a)) {
			t.Fatalf("SerialLess defined for %d, %d", a, b)
		}
		next := SerialNext(a, time.Unix(unix, 0))
		if !SerialLess(a, next) {
			t.Fatalf("SerialNext(%d, %d) = %d, not greater", a, unix, next)
		}
	})
}

// Comment lines inside parentheses are quadratic in miekg's lexer: 2 MiB of
// them would take it ten minutes. Parse must still read them right; how
// fast is BenchmarkParseLargeComments' business (no timed assertions).
func TestParseLargeComments(t *testing.T) {
	src := largeComments(1 << 12)
	z, err := Parse("example.com", src)
	if err != nil {
		t.Fatal(err)
	}
	if len(z.Records) != 1 {
		t.Errorf("%d records, want the one TXT", len(z.Records))
	}
}

func BenchmarkParseLargeComments(b *testing.B) {
	src := largeComments(1 << 20)
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := Parse("example.com", src); err != nil {
			b.Fatal(err)
		}
	}
}

func largeComments(lines int) []byte {
	src := append([]byte("$TTL 300\n@ TXT ( a\n"), bytes.Repeat([]byte(";\n"), lines)...)
	return append(src, ")\n"...)
}
