package issuer

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	issued   prometheus.Counter
	failures *prometheus.CounterVec // by host
	failing  *prometheus.GaugeVec   // consecutive failures, by host
	skipped  *prometheus.CounterVec // by reason
	expiry   *prometheus.GaugeVec   // NotAfter of the fitting certificate, by host
	scans    prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		issued: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "quercus_acme_certificates_issued_total",
			Help: "Certificates obtained from the ACME CA and published.",
		}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "quercus_acme_failures_total",
			Help: "Failed attempts to obtain or publish a certificate, by host.",
		}, []string{"host"}),
		failing: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "quercus_acme_consecutive_failures",
			Help: "Failed attempts since the last success, by host; absent when 0.",
		}, []string{"host"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "quercus_acme_requests_skipped_total",
			Help: "Published requests skipped, by reason (counted when the reason first shows).",
		}, []string{"reason"}),
		expiry: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "quercus_acme_certificate_expiry_timestamp_seconds",
			Help: "When the certificate published for a host ends, by host.",
		}, []string{"host"}),
		scans: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "quercus_acme_scans_total",
			Help: "Scans of the zone for requests.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.issued, m.failures, m.failing, m.skipped, m.expiry, m.scans)
	}
	return m
}
