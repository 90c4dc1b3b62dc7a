package influx

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var testTime = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// goldenFamilies returns metrics of every type, from a registry, followed
// by hand-made families with what line protocol cannot carry as is.
func goldenFamilies(t *testing.T) []*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewRegistry()
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "http_requests_total", Help: "Requests.",
	}, []string{"code", "path"})
	requests.WithLabelValues("200", "/").Add(42)
	requests.WithLabelValues("404", `/a b,c=d\e`).Inc()
	requests.WithLabelValues("500", "").Add(3) // an empty label is no label
	temp := prometheus.NewGauge(prometheus.GaugeOpts{Name: "temperature_celsius", Help: "Heat."})
	temp.Set(-1.5e-7)
	latency := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "latency_seconds", Help: "Latency.", Buckets: []float64{0.005, 1, 1e6},
	})
	size := prometheus.NewSummary(prometheus.SummaryOpts{
		Name: "size_bytes", Help: "Size.", Objectives: map[float64]float64{0.5: 0.05, 0.99: 0.001},
	})
	for _, v := range []float64{0.001, 0.5, 2, 3} {
		latency.Observe(v)
		size.Observe(v * 1000)
	}
	untyped := prometheus.NewUntypedFunc(prometheus.UntypedOpts{
		Name: "build_info", Help: "Build.", ConstLabels: prometheus.Labels{"version": "v1.0 (test)", "host": "label wins"},
	}, func() float64 { return 1 })
	reg.MustRegister(requests, temp, latency, size, untyped)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}

	gauge := func(v float64) *dto.Metric { return &dto.Metric{Gauge: &dto.Gauge{Value: ptr(v)}} }
	return append(mfs,
		&dto.MetricFamily{Name: ptr("odd name,with\nbreak"), Type: dto.MetricType_GAUGE.Enum(), Metric: []*dto.Metric{
			gauge(1),
			gauge(math.NaN()), // left out
			gauge(math.Inf(-1)),
			{Gauge: &dto.Gauge{Value: ptr(2.0)}, TimestampMs: ptr(int64(1700000000123))},
			{Gauge: &dto.Gauge{Value: ptr(3.0)}, Label: []*dto.LabelPair{
				{Name: ptr("time"), Value: ptr("noon")},
				{Name: ptr("back"), Value: ptr(`slash\`)},
				{Name: ptr("only"), Value: ptr(`\`)},
				{Name: ptr("win"), Value: ptr(`C:\dir\\x`)},
			}},
		}},
		&dto.MetricFamily{Name: ptr("#comment"), Type: dto.MetricType_GAUGE.Enum(), Metric: []*dto.Metric{gauge(1)}},
		&dto.MetricFamily{Name: ptr("float_histogram"), Type: dto.MetricType_GAUGE_HISTOGRAM.Enum(), Metric: []*dto.Metric{
			{Histogram: &dto.Histogram{
				SampleCountFloat: ptr(2.5), SampleSum: ptr(10.0),
				Bucket: []*dto.Bucket{
					{UpperBound: ptr(1.0), CumulativeCountFloat: ptr(0.5)},
					{UpperBound: ptr(math.Inf(1)), CumulativeCountFloat: ptr(2.5)},
				},
			}},
		}},
		&dto.MetricFamily{Name: ptr("summary_nan"), Type: dto.MetricType_SUMMARY.Enum(), Metric: []*dto.Metric{
			{Summary: &dto.Summary{SampleCount: ptr(uint64(0)), SampleSum: ptr(0.0), Quantile: []*dto.Quantile{
				{Quantile: ptr(0.5), Value: ptr(math.NaN())},
			}}},
		}},
	)
}

func TestEncodeGolden(t *testing.T) {
	var buf bytes.Buffer
	tags := map[string]string{"host": "dns1", "site": "a b"}
	if err := Encode(&buf, goldenFamilies(t), tags, testTime); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.SplitAfter(buf.String(), "\n") {
		if line == "" {
			continue
		}
		if _, err := parseLine(line); err != nil {
			t.Errorf("%v: %q", err, line)
		}
	}
	golden := filepath.Join("testdata", "encode.golden")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got := buf.String(); got != string(want) {
		t.Errorf("Encode output differs from %s (go test -update rewrites it):\ngot:\n%s\nwant:\n%s", golden, got, want)
	}
}

func TestEscape(t *testing.T) {
	for _, tc := range []struct {
		in, specials, want string
	}{
		{"plain", keySpecials, "plain"},
		{"a b,c=d", keySpecials, `a\ b\,c\=d`},
		{"a b,c=d", measurementSpecials, `a\ b\,c=d`},
		{"line\nbreak\r", keySpecials, `line\ break\ `},
		{`C:\dir`, keySpecials, `C:\dir`},
		{`end\`, keySpecials, "end"},
		{`\`, keySpecials, ""},
		{`a\\b`, keySpecials, `a\b`},
		{`a\,b`, keySpecials, `a\,b`},
		{`a\=b`, measurementSpecials, `a=b`},
		{"a\\\nb", keySpecials, `a\ b`},
		{"ünï ©ode", keySpecials, `ünï\ ©ode`},
		{`time\`, keySpecials, "time"},
	} {
		if got := string(appendEscaped(nil, clean(tc.in), tc.specials)); got != tc.want {
			t.Errorf("escaping %q with %q = %q, want %q", tc.in, tc.specials, got, tc.want)
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

func TestEncodeWriteError(t *testing.T) {
	if err := Encode(failWriter{}, goldenFamilies(t), nil, testTime); err != os.ErrClosed {
		t.Errorf("Encode = %v, want the writer's error", err)
	}
}

// FuzzEncode checks that every line Encode writes parses, strictly, back
// to the metric, but for the documented changes.
func FuzzEncode(f *testing.F) {
	for _, s := range []struct {
		name, label, value, tagKey, tagValue string
		v                                    float64
	}{
		{"up", "job", "dns", "host", "a", 1},
		{"a b,c", "k=", "v v,", "t t", "x=y", -0.5},
		{`x\`, `l\`, `\v`, `\`, `\\`, 1e300},
		{"#x", "time", "", "time", "noon", 3},
		{"m\n", "k\r", "v\\\n", "host", "h", math.NaN()},
		{"m", "host", "label", "host", "tag", math.Inf(1)},
	} {
		f.Add(s.name, s.label, s.value, s.tagKey, s.tagValue, s.v)
	}
	f.Fuzz(func(t *testing.T, name, label, value, tagKey, tagValue string, v float64) {
		mf := &dto.MetricFamily{Name: &name, Type: dto.MetricType_GAUGE.Enum(), Metric: []*dto.Metric{{
			Label: []*dto.LabelPair{{Name: &label, Value: &value}},
			Gauge: &dto.Gauge{Value: &v},
		}}}
		var buf bytes.Buffer
		if err := Encode(&buf, []*dto.MetricFamily{mf}, map[string]string{tagKey: tagValue}, testTime); err != nil {
			t.Fatal(err)
		}
		if buf.Len() == 0 {
			if !math.IsNaN(v) && !math.IsInf(v, 0) && usable(name) && !strings.HasPrefix(normalize(name), "#") {
				t.Fatalf("no line for a usable metric")
			}
			return
		}
		p, err := parseLine(buf.String())
		if err != nil {
			t.Fatalf("%v: %q", err, buf.String())
		}
		if p.measurement != name && normalize(p.measurement) != normalize(name) {
			t.Errorf("measurement %q, want %q", p.measurement, name)
		}
		if len(p.fields) != 1 || p.fields[0].key != "value" || p.fields[0].value != v {
			t.Errorf("fields %v, want value=%v", p.fields, v)
		}
		if p.ns != testTime.UnixNano() {
			t.Errorf("timestamp %d", p.ns)
		}
		for i := 1; i < len(p.tags); i++ {
			if p.tags[i-1].key >= p.tags[i].key {
				t.Errorf("tags not sorted or not unique: %v", p.tags)
			}
		}
		// Each tag comes from the label or the extra tag, and each of them
		// is a tag unless it is empty or another tag took its key.
		in := []tag{{label, value}, {tagKey, tagValue}}
		for i, tg := range in {
			in[i] = tag{normalize(tg.key), normalize(tg.value)}
			if in[i].key == "time" {
				in[i].key = "exported_time"
			}
		}
		used := make([]bool, len(in))
		for _, tg := range p.tags {
			i := slices.IndexFunc(in, func(x tag) bool { return x == tag{normalize(tg.key), normalize(tg.value)} })
			if i < 0 {
				t.Fatalf("tag %s=%s comes from nowhere: %v", tg.key, tg.value, in)
			}
			used[i] = true
		}
		for i, tg := range in {
			shadowed := slices.ContainsFunc(p.tags, func(x tag) bool { return normalize(x.key) == tg.key })
			if !used[i] && tg.key != "" && tg.value != "" && !shadowed {
				t.Errorf("tag %s=%s missing: %v", tg.key, tg.value, p.tags)
			}
		}
		// Without backslashes and line breaks, nothing changes.
		if !strings.ContainsAny(name+label+value+tagKey+tagValue, "\\\n\r") && p.measurement != name {
			t.Errorf("measurement %q, want %q", p.measurement, name)
		}
	})
}

// normalize applies the changes Encode may make: line breaks become
// spaces, backslashes may disappear.
func normalize(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ", `\`, "").Replace(s)
}

// usable reports whether s survives escaping non-empty.
func usable(s string) bool { return normalize(s) != "" }
