// Package peer helps tests run real peer programs (git, sshd, rsyslogd,
// influxd, knotd, ...). Interop tests call Require first: without
// QUERCUS_INTEROP=1 they skip with a message naming the peer; with it, a
// missing peer fails the test, so CI can never pass by skipping.
package peer
