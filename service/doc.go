// Package service is the chassis every Quercus binary runs on: one flag
// convention (each flag also settable as QUERCUS_<FLAG>), structured logs
// to stderr or syslog, one Prometheus registry pushed to Influx if asked,
// an HTTP side port with /metrics, /healthz and /readyz, and graceful
// shutdown on SIGINT and SIGTERM.
//
// A binary's main parses flags with Flags, builds its own Config, and
// hands its server to Run.
package service
