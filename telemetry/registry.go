package telemetry

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// NewRegistry returns a registry holding the Go runtime collector and the
// process collector. A service creates one at start-up, registers its own
// metrics on it and hands it to everything that exports metrics, instead of
// using the global prometheus.DefaultRegisterer, so tests get a fresh one.
//
// The process collector opens files in /proc/self at every gather; a
// sandboxed service has no files, and service.Chassis.Lockdown swaps it
// for one reading a descriptor opened before.
func NewRegistry() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return r
}
