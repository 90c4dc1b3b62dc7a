package primary

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	zones       prometheus.Gauge
	valid       *prometheus.GaugeVec
	serial      *prometheus.GaugeVec
	rejected    *prometheus.CounterVec
	fetchErrors prometheus.Counter
	updates     *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		zones: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "quercus_dns_zones", Help: "Zones served.",
		}),
		valid: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "quercus_dns_zone_valid", Help: "1 if the zone file at the head passed its checks, 0 if an older version is served or none.",
		}, []string{"zone"}),
		serial: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "quercus_dns_zone_serial", Help: "SOA serial of the zone served.",
		}, []string{"zone"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "quercus_dns_zone_rejected_total", Help: "Zone file versions rejected by the checks.",
		}, []string{"zone"}),
		fetchErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "quercus_dns_fetch_errors_total", Help: "Failed fetches from the remote.",
		}),
		updates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "quercus_dns_updates_total", Help: "Dynamic updates by result: ok (committed or no-op), rejected (prerequisites, invalid), refused (no key with the right), failed (not pushed: SERVFAIL).",
		}, []string{"result"}),
	}
	reg.MustRegister(m.zones, m.valid, m.serial, m.rejected, m.fetchErrors, m.updates)
	return m
}
