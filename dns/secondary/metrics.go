package secondary

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	serial    *prometheus.GaugeVec
	refreshed *prometheus.GaugeVec
	expired   *prometheus.GaugeVec
	transfers *prometheus.CounterVec
	checks    *prometheus.CounterVec

	catalogMembers *prometheus.GaugeVec
	catalogBroken  *prometheus.GaugeVec
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
	m.catalogMembers = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "quercus_dns_secondary_catalog_members", Help: "Member zones the catalog gives us now.",
	}, []string{"catalog"})
	m.catalogBroken = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "quercus_dns_secondary_catalog_broken", Help: "1 while the catalog's newest version is broken (RFC 9432) and its last good member set is kept.",
	}, []string{"catalog"})
	reg.MustRegister(m.serial, m.refreshed, m.expired, m.transfers, m.checks, m.catalogMembers, m.catalogBroken)
	return m
}

// forget drops the series of a zone no longer held.
func (m *metrics) forget(zone string) {
	labels := prometheus.Labels{"zone": zone}
	for _, v := range []*prometheus.MetricVec{m.serial.MetricVec, m.refreshed.MetricVec, m.expired.MetricVec, m.transfers.MetricVec, m.checks.MetricVec} {
		v.DeletePartialMatch(labels)
	}
}
