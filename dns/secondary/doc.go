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
// it is answered NOTAUTH, and it is tried again after Config.Retry, then
// twice as long after each failure, up to ten minutes.
//
// Catalog zones (RFC 9432, Config.Catalogs; parsed by dns/catalog) are
// transferred and refreshed as zones, NOTIFY included, but checked by IXFR
// rather than an SOA query (knotd refuses queries for its catalogs), and
// not answered: queries and transfers of a catalog get SERVFAIL. Each new
// version sets the catalog's members, which are then transferred and
// refreshed as zones, from the catalog's primary with its key; a member
// dropped from the catalog stops and is no longer served. A broken version
// (no or another schema version, two PTRs under a unique id, more members
// than Config.MaxMembers, ...) keeps the last good member set. A member whose unique id changes, or that moves to
// another catalog (its coo property), is transferred afresh. A zone in
// Config.Zones is never a catalog member; a zone listed by several
// catalogs belongs to the one that has it, else the first configured. A
// catalog expiring changes no member: each has its own SOA timers.
package secondary
