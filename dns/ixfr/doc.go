// Package ixfr answers incremental zone transfers (RFC 1995) from the git
// history of the zone files, so that a secondary holding any serial the
// repository ever had gets only the changes, also after a restart of the
// primary: no journal is kept besides git.
//
// A Source is the wire server's IXFRSource. For a client's serial it walks
// the history of the zone's file (named by the zone, at the top level),
// newest first, parses each version (parsed versions are cached by content
// digest, in a bounded LRU) and finds the one with that serial. Choices
// where RFC 1995 leaves room:
//
//   - The answer is condensed into one step, as §6 allows: the current
//     SOA, the client's SOA, every record removed since, the current SOA,
//     every record added since, the current SOA. It is computed from the
//     client's version and the records served now, so it is right however
//     many commits lie between them, and never larger than the
//     intermediate steps together.
//   - Versions that do not parse or fail zone.Check are skipped: the
//     primary never served them. So are versions with a serial newer than
//     the zone served (a head the primary rejected or has not loaded).
//   - Consecutive versions with the same serial are one step. If such
//     versions differ (a change committed without a serial bump), a client
//     at that serial may hold either: the serial is ambiguous and the
//     client gets the whole zone.
//   - The walk ends where the serial went down in time (a serial reset) or
//     the file was deleted: older serials are unknown.
//   - A serial that is unknown, more than MaxSteps serial changes behind
//     (as if older versions were purged, §5), or not behind the zone served
//     gets no incremental answer; the server then sends the whole zone, as
//     §4 allows.
package ixfr
