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
// The process collector reads /proc/self: a service that takes filesystem
// access away from itself (Landlock) must keep that path readable, or its
// gathers report errors.
func NewRegistry() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return r
}
