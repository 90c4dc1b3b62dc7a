package secondary

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	serial    *prometheus.GaugeVec
	refreshed *prometheus.GaugeVec
	expired   *prometheus.GaugeVec
	transfers *prometheus.CounterVec
	checks    *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		serial: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "quercus_dns_secondary_serial", Help: "SOA serial of the zone held.",
		}, []string{"zone"}),
		refreshed: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "quercus_dns_secondary_refreshed_timestamp_seconds", Help: "When the zone was last found fresh: an SOA check or a transfer that succeeded.",
		}, []string{"zone"}),
		expired: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "quercus_dns_secondary_expired", Help: "1 while the zone is past its SOA expire time and answers SERVFAIL.",
		}, []string{"zone"}),
		transfers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "quercus_dns_secondary_transfers_total", Help: "Transfers in, by kind (axfr, ixfr, none: an IXFR that found the zone up to date) and result (ok, error, rejected: the zone failed its checks).",
		}, []string{"zone", "kind", "result"}),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "quercus_dns_secondary_soa_checks_total", Help: "SOA queries to the primary, by result (ok, error).",
		}, []string{"zone", "result"}),
	}
	reg.MustRegister(m.serial, m.refreshed, m.expired, m.transfers, m.checks)
	return m
}
