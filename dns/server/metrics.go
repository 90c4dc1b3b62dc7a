package server

import (
	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts queries, transfers and refusals. A nil *Metrics counts
// nothing, so tests need not register any.
type Metrics struct {
	queries   *prometheus.CounterVec
	transfers *prometheus.CounterVec
	refusals  *prometheus.CounterVec
}

// NewMetrics registers the server's counters on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "quercus_dns_queries_total", Help: "Queries answered, by type and rcode.",
		}, []string{"qtype", "rcode"}),
		transfers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "quercus_dns_transfers_total", Help: "Zone transfers sent, by kind.",
		}, []string{"kind"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "quercus_dns_refused_total", Help: "Transfers, notifies and updates refused for want of a key with the right.",
		}, []string{"op"}),
	}
	reg.MustRegister(m.queries, m.transfers, m.refusals)
	return m
}

func (m *Metrics) query(qtype uint16, rcode int) {
	if m == nil {
		return
	}
	m.queries.WithLabelValues(typeName(qtype), dns.RcodeToString[rcode]).Inc()
}

// queryCounter is the counter query increments, for the fast path to
// keep with a cached answer; nil for a nil m.
func (m *Metrics) queryCounter(qtype uint16, rcode int) prometheus.Counter {
	if m == nil {
		return nil
	}
	return m.queries.WithLabelValues(typeName(qtype), dns.RcodeToString[rcode])
}

func (m *Metrics) transfer(kind string) {
	if m != nil {
		m.transfers.WithLabelValues(kind).Inc()
	}
}

func (m *Metrics) refused(op string) {
	if m != nil {
		m.refusals.WithLabelValues(op).Inc()
	}
}

// typeName bounds the label's cardinality: unknown types share one value.
func typeName(t uint16) string {
	if s, ok := dns.TypeToString[t]; ok {
		return s
	}
	return "OTHER"
}
