// Package authority holds the answer logic of an authoritative DNS server:
// given a question and the zones served, it fills the answer, authority and
// additional sections and picks the rcode (RFC 1034 §4.3.2, RFC 2308,
// RFC 4592, RFC 6672, RFC 8482). It knows nothing of sockets, EDNS, TSIG or
// zone transfers; the wire server calls it.
//
// A [Zone] is indexed once by [New] and is immutable afterwards, so any
// number of goroutines may answer from it without locks. A [Set] of zones is
// immutable too: [Set.With] and [Set.Without] return new sets, which the
// caller swaps in atomically when a zone changes. The index costs about
// 50 bytes a name beside the records themselves (BenchmarkNewMillion with
// -names=1000000), and New allocates a few slices, not one object a name.
//
// Choices where the RFCs leave room:
//   - CNAME and DNAME chains are followed for at most 8 redirections, and
//     stop at a loop. [Zone.Answer] follows them within its zone,
//     [Set.Answer] into every zone of the set. The rcode is that of the
//     last name (RFC 6604): a chain to a missing name is NXDOMAIN.
//   - ANY is answered with one RRset, the one of lowest type number at the
//     name (RFC 8482 §4.1).
//   - Additional records are the A and AAAA records, in the same zone, of
//     NS, MX and SRV targets; only NS targets may use glue. Wildcards are
//     not expanded for them.
//   - NS at a wildcard (RFC 4592 §4.2) synthesizes a referral at the query
//     name.
package authority
