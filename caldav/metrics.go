package caldav

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	loginFailures prometheus.Counter
	rejected      *prometheus.CounterVec
	unavailable   prometheus.Counter
	fetchErrors   prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "quercus_caldav_requests_total", Help: "HTTP requests by method and status code.",
		}, []string{"method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "quercus_caldav_request_seconds", Help: "Time to answer a request, by method.",
			Buckets: []float64{.001, .003, .01, .03, .1, .3, 1, 3, 10},
		}, []string{"method"}),
		loginFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "quercus_caldav_login_failures_total", Help: "Failed logins (wrong user or password; rate-limited ones not counted).",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "quercus_caldav_rejected_total", Help: "Requests refused by a WebDAV or CalDAV precondition, by its element (valid-calendar-data, no-uid-conflict, ...).",
		}, []string{"condition"}),
		unavailable: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "quercus_caldav_unavailable_total", Help: "Writes answered 503 because the change could not be pushed; nothing was changed.",
		}),
		fetchErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "quercus_caldav_fetch_errors_total", Help: "Failed fetches from the remote.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.duration, m.loginFailures, m.rejected, m.unavailable, m.fetchErrors)
	}
	return m
}

// knownMethods keep the method label bounded.
var knownMethods = map[string]bool{
	"OPTIONS": true, "GET": true, "HEAD": true, "PUT": true, "DELETE": true, "PROPFIND": true, "PROPPATCH": true,
	"MKCOL": true, "MKCALENDAR": true, "COPY": true, "MOVE": true, "REPORT": true, "POST": true,
}

// statusWriter remembers the status code a handler answered.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (m *metrics) observe(method string, code int, start time.Time) {
	if !knownMethods[method] {
		method = "other"
	}
	if code == 0 {
		code = http.StatusOK
	}
	m.requests.WithLabelValues(method, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(method).Observe(time.Since(start).Seconds())
}

// condition is the local name of a precondition in Clark form.
func condition(cond string) string {
	if i := strings.LastIndexByte(cond, '}'); i >= 0 {
		return cond[i+1:]
	}
	return cond
}
