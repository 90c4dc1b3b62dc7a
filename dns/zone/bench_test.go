package zone

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// bigZone returns a zone file of n hosts, each with an A, an AAAA and a TXT.
func bigZone(n int) []byte {
	var b bytes.Buffer
	b.WriteString(base)
	for i := range n {
		fmt.Fprintf(&b, "host%d A 192.0.2.%d\nhost%d AAAA 2001:db8::%x\nhost%d TXT \"host number %d\"\n", i, i%256, i, i, i, i)
	}
	return b.Bytes()
}

func BenchmarkParse(b *testing.B) {
	src := bigZone(10000)
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := Parse("example.com", src); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWrite(b *testing.B) {
	z := mustParse(b, "example.com", string(bigZone(10000)))
	for b.Loop() {
		if err := Write(io.Discard, z); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheck(b *testing.B) {
	z := mustParse(b, "example.com", string(bigZone(10000)))
	for b.Loop() {
		Check(z)
	}
}

func BenchmarkDiff(b *testing.B) {
	z := mustParse(b, "example.com", string(bigZone(10000)))
	for b.Loop() {
		Diff(z, z)
	}
}
