// Package influx pushes Prometheus metrics as InfluxDB line protocol, the
// way robur's unikernels push their metrics to Telegraf: over UDP, over a
// TCP connection (Telegraf's socket_listener), or to the InfluxDB 1.x HTTP
// write API. [Encode] does the translation; a [Pusher] gathers and sends
// at a fixed interval.
package influx
