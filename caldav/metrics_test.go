package caldav

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func value(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// TestMetrics: requests, refusals and failed logins are counted.
func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	h, err := New(Config{Store: newStore(t), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	do(t, srv.URL, "MKCALENDAR", "/calendars/alice/cal/", "")
	do(t, srv.URL, "PUT", "/calendars/alice/cal/a.ics", "not iCalendar")
	if got := value(t, h.m.requests.WithLabelValues("MKCALENDAR", "201")); got != 1 {
		t.Errorf("MKCALENDAR 201 counted %v times", got)
	}
	if got := value(t, h.m.rejected.WithLabelValues("valid-calendar-data")); got != 1 {
		t.Errorf("valid-calendar-data counted %v times", got)
	}
	req := httptest.NewRequest("PROPFIND", "/", nil)
	req.SetBasicAuth("alice", "wrong")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if got := value(t, h.m.loginFailures); got != 1 {
		t.Errorf("failed logins: %v", got)
	}
}
