// Package syslog is a [log/slog] handler that sends records as RFC 5424
// syslog messages to a remote host over UDP (RFC 5426), TCP (RFC 6587) or
// TLS (RFC 5425).
//
// A record's attributes travel twice: as structured data
// [quercus@32473 key="value" ...] for receivers that parse it, and as
// key=value text after the message, as slog's TextHandler writes them, for
// plain log viewers. MSG is always valid UTF-8 and, as RFC 5424 §6.4
// requires of UTF-8 messages, starts with a byte order mark.
//
// Logging never blocks: records wait in a bounded queue that one goroutine
// sends; when it is full they are dropped, counted, and reported by a
// notice once messages flow again. TCP and TLS use octet-counting framing.
// A message is at most 2048 bytes over UDP and 8192 over TCP or TLS: a
// longer one loses its structured data, then is cut at a UTF-8 boundary.
// Lost connections are redialled with back-off and the message resent, but
// as with any syslog over TCP, a message written just as the server goes
// away can vanish unseen.
package syslog
