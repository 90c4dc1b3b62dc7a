package influx

import (
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// Encode writes mfs to w as InfluxDB line protocol, one line per metric
// (sample) and every value a float, so that a field never changes type:
//
//   - The measurement is the metric family's name.
//   - The tags are the metric's labels plus the extra tags; a label wins
//     over an extra tag of the same name. Tags are sorted by key.
//   - Counters, gauges and untyped metrics have one field, "value".
//   - Summaries have "count", "sum" and one field per quantile, named
//     "quantile_" and the quantile: "quantile_0.99".
//   - Histograms have "count", "sum" and one field per bucket with the
//     cumulative count, named "le_" and the upper bound as Prometheus
//     writes it: "le_0.005", "le_1e+06", "le_+Inf". Native histogram
//     buckets are left out.
//   - The timestamp, in nanoseconds, is t, or the metric's own timestamp
//     if it has one.
//
// What line protocol cannot carry is adapted so every InfluxDB and
// Telegraf parser reads the line the same way:
//
//   - NaN and ±Inf values are left out; a line left without fields is
//     left out. Empty label values (absent labels in Prometheus) are left
//     out too.
//   - Line breaks in names, keys and values become spaces.
//   - A backslash is kept only when an ordinary character follows it; one
//     before a backslash, comma, equals sign or space, or at the end, is
//     dropped (parsers disagree on escaped backslashes and InfluxDB 1.x
//     refuses a value ending in one).
//   - A label named "time", which InfluxDB refuses as a tag key, becomes
//     "exported_time", as Prometheus renames clashing labels.
//   - A metric family whose name starts with "#" is left out: the line
//     would be read as a comment.
//
// Encode fails only if w does.
func Encode(w io.Writer, mfs []*dto.MetricFamily, tags map[string]string, t time.Time) error {
	extra := make([]tag, 0, len(tags))
	for k, v := range tags {
		extra = append(extra, tag{k, v})
	}
	// Map order is random; sort so that the label-wins rule below and the
	// output do not depend on it.
	slices.SortFunc(extra, func(a, b tag) int { return strings.Compare(a.key, b.key) })

	var line []byte
	for _, mf := range mfs {
		name := clean(mf.GetName())
		if name == "" || name[0] == '#' {
			continue
		}
		for _, m := range mf.GetMetric() {
			line = appendLine(line[:0], name, mf.GetType(), m, extra, t)
			if len(line) == 0 {
				continue
			}
			if _, err := w.Write(line); err != nil {
				return err
			}
		}
	}
	return nil
}

type tag struct{ key, value string }

type field struct {
	key   string
	value float64
}

// appendLine appends one line for m, or nothing if it has no value that
// line protocol can carry.
func appendLine(b []byte, name string, typ dto.MetricType, m *dto.Metric, extra []tag, t time.Time) []byte {
	fields := slices.DeleteFunc(fieldsOf(typ, m), func(f field) bool {
		return math.IsNaN(f.value) || math.IsInf(f.value, 0)
	})
	if len(fields) == 0 {
		return b
	}

	b = appendEscaped(b, name, measurementSpecials)
	for _, tg := range tagsOf(m, extra) {
		b = append(b, ',')
		b = appendEscaped(b, tg.key, keySpecials)
		b = append(b, '=')
		b = appendEscaped(b, tg.value, keySpecials)
	}
	for i, f := range fields {
		if i == 0 {
			b = append(b, ' ')
		} else {
			b = append(b, ',')
		}
		b = appendEscaped(b, clean(f.key), keySpecials)
		b = append(b, '=')
		b = strconv.AppendFloat(b, f.value, 'g', -1, 64)
	}
	ns := t.UnixNano()
	if m.TimestampMs != nil {
		ns = m.GetTimestampMs() * int64(time.Millisecond)
	}
	b = append(b, ' ')
	b = strconv.AppendInt(b, ns, 10)
	return append(b, '\n')
}

// fieldsOf returns the fields of one metric, as documented on Encode.
func fieldsOf(typ dto.MetricType, m *dto.Metric) []field {
	switch typ {
	case dto.MetricType_COUNTER:
		return []field{{"value", m.GetCounter().GetValue()}}
	case dto.MetricType_GAUGE:
		return []field{{"value", m.GetGauge().GetValue()}}
	case dto.MetricType_UNTYPED:
		return []field{{"value", m.GetUntyped().GetValue()}}
	case dto.MetricType_SUMMARY:
		s := m.GetSummary()
		fs := []field{{"count", float64(s.GetSampleCount())}, {"sum", s.GetSampleSum()}}
		for _, q := range s.GetQuantile() {
			fs = append(fs, field{"quantile_" + formatFloat(q.GetQuantile()), q.GetValue()})
		}
		return fs
	case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
		h := m.GetHistogram()
		// Float histograms carry their counts in the *Float fields.
		count := float64(h.GetSampleCount())
		if h.SampleCountFloat != nil {
			count = h.GetSampleCountFloat()
		}
		fs := []field{{"count", count}, {"sum", h.GetSampleSum()}}
		inf := false
		for _, bk := range h.GetBucket() {
			n := float64(bk.GetCumulativeCount())
			if bk.CumulativeCountFloat != nil {
				n = bk.GetCumulativeCountFloat()
			}
			inf = math.IsInf(bk.GetUpperBound(), +1)
			fs = append(fs, field{"le_" + formatFloat(bk.GetUpperBound()), n})
		}
		// The +Inf bucket is implicit in the data model (it equals the
		// count) but explicit in Prometheus' text format; write it too.
		if !inf && len(h.GetBucket()) > 0 {
			fs = append(fs, field{"le_+Inf", count})
		}
		return fs
	}
	return nil
}

// tagsOf returns the cleaned tags of m, sorted by key, without duplicates.
func tagsOf(m *dto.Metric, extra []tag) []tag {
	tags := make([]tag, 0, len(m.GetLabel())+len(extra))
	add := func(k, v string) {
		k, v = clean(k), clean(v)
		if k == "time" {
			k = "exported_time"
		}
		if k != "" && v != "" {
			tags = append(tags, tag{k, v})
		}
	}
	for _, l := range m.GetLabel() {
		add(l.GetName(), l.GetValue())
	}
	for _, tg := range extra {
		add(tg.key, tg.value)
	}
	// A stable sort keeps labels before extra tags among equal keys, and
	// InfluxDB refuses a line with a key twice: keep the first.
	slices.SortStableFunc(tags, func(a, b tag) int { return strings.Compare(a.key, b.key) })
	return slices.CompactFunc(tags, func(a, b tag) bool { return a.key == b.key })
}

// formatFloat formats v as Prometheus does in label values ("le", "quantile").
func formatFloat(v float64) string {
	if math.IsInf(v, +1) {
		return "+Inf"
	}
	if math.IsInf(v, -1) {
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// The characters that take a backslash: a measurement ends at a comma or
// a space; keys and tag values also at an equals sign.
const (
	measurementSpecials = ", "
	keySpecials         = ",= "
)

// clean returns s without what line protocol cannot carry, as documented
// on Encode: line breaks become spaces, and a backslash is dropped unless
// an ordinary character follows. It works on bytes: every special
// character is ASCII, and multi-byte UTF-8 sequences hold no ASCII bytes.
func clean(s string) string {
	if !strings.ContainsAny(s, "\\\n\r") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\n', '\r':
			b = append(b, ' ')
		case '\\':
			if i+1 < len(s) && strings.IndexByte("\\,= \n\r", s[i+1]) < 0 {
				b = append(b, c)
			}
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// appendEscaped appends s, which clean has seen, to b with a backslash
// before each byte of specials.
func appendEscaped(b []byte, s, specials string) []byte {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(specials, s[i]) >= 0 {
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return b
}
