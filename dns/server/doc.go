// Package server is the DNS wire server shared by the primary and the
// secondary: it reads queries over UDP and TCP, handles EDNS(0), TSIG and
// truncation, answers from an authority.Set it reads afresh for every
// query (so zone swaps never block queries), streams zone transfers, and
// hands NOTIFY and UPDATE messages to the service through hooks.
//
// Plain UDP queries take a fast path (fast.go, udp.go): parsed by hand in
// the socket's read loop and answered from a bounded cache of answers the
// general path packed, per zone set, with batched recvmmsg/sendmmsg on
// Linux; on a socket bound to 0.0.0.0 or :: each answer names its source,
// the query's destination, in an IP_PKTINFO message (pktinfo_linux.go).
// Everything else, and any query the fast path is unsure of, goes
// through miekg/dns and ServeDNS; tests hold both paths to the same bytes.
//
// Listen binds one UDP socket per CPU on the same address (SO_REUSEPORT,
// reuseport_linux.go), each read by its own loop, so that answering
// scales with cores.
package server
