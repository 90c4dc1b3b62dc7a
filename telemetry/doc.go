// Package telemetry is how a Quercus service is observed. This package
// holds the process-wide Prometheus registry, which the service chassis
// serves as /metrics on the HTTP side port. Subpackage influx pushes the
// same metrics as InfluxDB line protocol (to Telegraf or InfluxDB), and
// subpackage syslog sends the logs to a syslog host.
package telemetry
