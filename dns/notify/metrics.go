package notify

import "github.com/prometheus/client_golang/prometheus"

// Results of notifying one target, the values of the result label.
const (
	Answered    = "answered"    // NOERROR
	Refused     = "refused"     // another rcode
	Unanswered  = "unanswered"  // retransmissions used up
	Unreachable = "unreachable" // ICMP port unreachable, or could not send
	Superseded  = "superseded"  // a newer serial came, or ctx ended
)

// Metrics counts notifies. A nil *Metrics counts nothing.
type Metrics struct {
	messages prometheus.Counter
	results  *prometheus.CounterVec
}

// NewMetrics registers the notifier's counters on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		messages: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "quercus_dns_notify_messages_total", Help: "NOTIFY messages sent, retransmissions included.",
		}),
		results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "quercus_dns_notifies_total", Help: "Targets notified of a change, by result.",
		}, []string{"result"}),
	}
	reg.MustRegister(m.messages, m.results)
	return m
}

func (m *Metrics) sent() {
	if m != nil {
		m.messages.Inc()
	}
}

func (m *Metrics) result(r string) {
	if m != nil {
		m.results.WithLabelValues(r).Inc()
	}
}
