package zone

import (
	"bytes"
	"flag"
	"testing"

	"github.com/quercus-dev/quercus/bench/dns/workload"
)

// benchNames sizes the large benchmarks: 100,000 names by default,
// -names 1000000 for the bench zone dns-primary is measured with.
var benchNames = flag.Int("names", 100_000, "names in the zone of the Large benchmarks")

// workloadZone returns the bench zone of n names as text.
func workloadZone(tb testing.TB, n int) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := workload.Zone(&b, n); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func BenchmarkParseLarge(b *testing.B) {
	src := workloadZone(b, *benchNames)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(workload.Origin, src); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(*benchNames), "ns/name")
}

func BenchmarkCheckLarge(b *testing.B) {
	z, err := Parse(workload.Origin, workloadZone(b, *benchNames))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if p := Check(z); p != nil {
			b.Fatal(p)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(*benchNames), "ns/name")
}

// BenchmarkCheckLargeReference measures the Check that BenchmarkCheckLarge's
// replaced, for before and after figures from one run.
func BenchmarkCheckLargeReference(b *testing.B) {
	z, err := Parse(workload.Origin, workloadZone(b, *benchNames))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if p := checkReference(z); p != nil {
			b.Fatal(p)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(*benchNames), "ns/name")
}
