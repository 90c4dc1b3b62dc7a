package influx_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/quercus-dev/quercus/internal/peer"
	"github.com/quercus-dev/quercus/telemetry"
	"github.com/quercus-dev/quercus/telemetry/influx"
)

// TestInteropInfluxDB pushes to a real InfluxDB 1.x over HTTP and UDP and
// reads the metrics back with InfluxQL.
func TestInteropInfluxDB(t *testing.T) {
	influxd := peer.Require(t, "influxd")[0]
	dir := t.TempDir()
	httpAddr := fmt.Sprintf("127.0.0.1:%d", peer.FreePort(t))
	udpAddr := fmt.Sprintf("127.0.0.1:%d", peer.FreePort(t))
	conf := fmt.Sprintf(`
reporting-disabled = true
bind-address = "127.0.0.1:%d"
[meta]
  dir = %[2]q
[data]
  dir = %[3]q
  wal-dir = %[4]q
  query-log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[http]
  bind-address = %[5]q
  log-enabled = false
[[udp]]
  enabled = true
  bind-address = %[6]q
  database = "viaudp"
  batch-timeout = "50ms"
`, peer.FreePort(t), filepath.Join(dir, "meta"), filepath.Join(dir, "data"), filepath.Join(dir, "wal"), httpAddr, udpAddr)
	confPath := filepath.Join(dir, "influxd.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	peer.Start(t, influxd, "run", "-config", confPath)
	peer.WaitTCP(t, httpAddr, 10*time.Second)
	base := "http://" + httpAddr
	for _, db := range []string{"viahttp", "viaudp"} {
		query(t, base, "", "CREATE DATABASE "+db)
	}

	// A fresh registry as a service has it, plus metrics with known values.
	reg := telemetry.NewRegistry()
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "interop_requests_total", Help: "Requests."}, []string{"path"})
	requests.WithLabelValues(`/a b,c=d\e`).Add(42)
	latency := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "interop_latency_seconds", Help: "Latency.", Buckets: []float64{0.1, 1}})
	latency.Observe(0.5)
	latency.Observe(0.25)
	reg.MustRegister(requests, latency)

	ctx := context.Background()
	tags := map[string]string{"host": "interop host"}
	viaHTTP, err := influx.New(influx.Config{URL: base + "/write?db=viahttp", Gatherer: reg, Registerer: reg, Tags: tags})
	if err != nil {
		t.Fatal(err)
	}
	defer viaHTTP.Close()
	viaUDP, err := influx.New(influx.Config{URL: "udp://" + udpAddr, Gatherer: reg, Tags: tags})
	if err != nil {
		t.Fatal(err)
	}
	defer viaUDP.Close()

	// A refusal comes back with InfluxDB's message.
	bad, err := influx.New(influx.Config{URL: base + "/write?db=missing", Gatherer: reg})
	if err != nil {
		t.Fatal(err)
	}
	var he *influx.HTTPError
	if err := bad.Push(ctx); !errors.As(err, &he) || he.StatusCode != http.StatusNotFound || !strings.Contains(he.Message, "database not found") {
		t.Errorf("push to a missing database = %v, want a 404 HTTPError saying so", err)
	}

	// Every line must be accepted: a partial write is an HTTP error.
	if err := viaHTTP.Push(ctx); err != nil {
		t.Fatalf("HTTP push: %v", err)
	}

	// UDP loses datagrams sent before influxd listens, and influxd writes
	// what it receives in batches: push until the data shows up.
	const counterQuery = `SELECT "value" FROM "interop_requests_total" WHERE "path" = '/a b,c=d\\e' AND "host" = 'interop host'`
	deadline := time.Now().Add(10 * time.Second)
	for len(query(t, base, "viaudp", counterQuery)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the UDP push did not arrive within 10s")
		}
		if err := viaUDP.Push(ctx); err != nil {
			t.Fatalf("UDP push: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	for _, db := range []string{"viahttp", "viaudp"} {
		t.Run(db, func(t *testing.T) {
			checkRow(t, query(t, base, db, counterQuery), map[string]float64{"value": 42})
			checkRow(t, query(t, base, db, `SELECT "count", "sum", "le_0.1", "le_1", "le_+Inf" FROM "interop_latency_seconds"`),
				map[string]float64{"count": 2, "sum": 0.75, "le_0.1": 0, "le_1": 2, "le_+Inf": 2})
			for _, m := range []string{"go_goroutines", "go_memstats_alloc_bytes", "process_resident_memory_bytes"} {
				rows := query(t, base, db, fmt.Sprintf(`SELECT last("value") FROM %q WHERE "host" = 'interop host'`, m))
				if v, ok := rowValue(rows, "last"); !ok || v <= 0 {
					t.Errorf("%s: got %v, want a positive value", m, rows)
				}
			}
			rows := query(t, base, db, `SELECT "count", "quantile_0.5" FROM "go_gc_duration_seconds"`)
			if len(rows) == 0 {
				t.Error("no go_gc_duration_seconds summary")
			}
		})
	}
	checkRow(t, query(t, base, "viahttp", `SELECT "value" FROM "quercus_influx_push_failures_total"`), map[string]float64{"value": 0})

	// The golden file of the encoder holds every oddity; influxd must take
	// all of its lines.
	golden, err := os.ReadFile(filepath.Join("testdata", "encode.golden"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(base+"/write?db=viahttp", "text/plain", strings.NewReader(string(golden)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("influxd refused lines of testdata/encode.golden: %s", resp.Status)
	}
	checkRow(t, query(t, base, "viahttp", `SELECT "value" FROM "http_requests_total" WHERE "path" = '/a b,c=d\\e'`), map[string]float64{"value": 1})
}

// query runs an InfluxQL statement and returns the rows of its first
// series, as column name to value.
func query(t *testing.T, base, db, q string) []map[string]any {
	t.Helper()
	resp, err := http.PostForm(base+"/query", url.Values{"db": {db}, "q": {q}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Results []struct {
			Error  string
			Series []struct {
				Columns []string
				Values  [][]any
			}
		}
		Error string
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("%s: %s: %v", q, resp.Status, err)
	}
	if r.Error != "" || len(r.Results) != 1 || r.Results[0].Error != "" {
		t.Fatalf("%s: %s: %+v", q, resp.Status, r)
	}
	var rows []map[string]any
	if series := r.Results[0].Series; len(series) > 0 {
		s := series[0] // one measurement queried, one series
		for _, v := range s.Values {
			row := make(map[string]any)
			for i, c := range s.Columns {
				row[c] = v[i]
			}
			rows = append(rows, row)
		}
	}
	return rows
}

// checkRow checks that rows has one row with the given values (and a time).
func checkRow(t *testing.T, rows []map[string]any, want map[string]float64) {
	t.Helper()
	if len(rows) == 0 {
		t.Errorf("no rows, want %v", want)
		return
	}
	for k, w := range want {
		if got, ok := rowValue(rows, k); !ok || got != w {
			t.Errorf("%s = %v, want %v (rows %v)", k, rows[0][k], w, rows)
		}
	}
}

// rowValue returns the number in column k of the first row.
func rowValue(rows []map[string]any, k string) (float64, bool) {
	if len(rows) == 0 {
		return 0, false
	}
	v, ok := rows[0][k].(float64)
	return v, ok
}
