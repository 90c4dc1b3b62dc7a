// Package xfr is the client side of zone transfers: it asks a primary for
// a zone's SOA, transfers the zone by IXFR (RFC 1995) or AXFR (RFC 5936)
// over TCP, verifies TSIG on every message as RFC 8945 §5.3.1 requires
// (the first and last signed, at most 99 unsigned in a row; see
// tsig.Stream), and applies incremental changes to the version held. It
// also keeps a Journal of the changes applied, so that a secondary can
// answer IXFR to its own secondaries.
//
// Choices:
//   - IXFR first when a version is held; AXFR when the primary refuses IXFR
//     (any rcode but NOERROR, or NOTAUTH from a TSIG error aside) or sends
//     an incremental answer that does not apply to the version held. A
//     primary may answer IXFR with the whole zone (RFC 1995 §4): that is
//     taken as an AXFR.
//   - Deletions match records by owner (in any case), type, class and data,
//     ignoring the TTL; deleting a record that is not there makes the answer
//     invalid. Adding a record that is there replaces it (a TTL change).
//   - Bounded: every read has its own time-out, the whole transfer a size
//     limit (Client.MaxBytes), and the context ends it.
package xfr
