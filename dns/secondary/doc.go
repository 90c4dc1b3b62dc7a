// Package secondary is the authoritative secondary DNS service: it keeps
// its zones only in memory, transfers them from their primaries (IXFR,
// else AXFR, with TSIG; see dns/xfr), follows each zone's SOA timers, and
// serves them with the primary's answer logic (dns/server, dns/authority),
// AXFR and IXFR out included.
//
// Timers, after RFC 1035 §3.3.13 and RFC 1996: every zone is checked
// (an SOA query) at start, then each SOA refresh interval after a check
// that succeeded and each retry interval after one that failed; a
// NOTIFY from the zone's primary checks at once, signed or not (the SOA
// query it prompts is signed; a signed NOTIFY from elsewhere is ignored). A check
// that finds a newer serial transfers the zone. When no check has
// succeeded for the SOA expire interval, the zone answers SERVFAIL and
// refuses transfers until one succeeds again.
//
// A transferred version that fails dns/zone's checks, or whose serial is
// older than the one held, is rejected: the last good version stays
// served, and the check is retried after the retry interval.
//
// A zone never transferred is not served (queries are REFUSED); NOTIFY for
// it is answered NOTAUTH, and it is retried every Config.Retry.
package secondary
