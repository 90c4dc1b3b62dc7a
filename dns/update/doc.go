// Package update holds the semantics of DNS UPDATE (RFC 2136): given a zone's
// records and an UPDATE message, [Apply] checks the zone section (§3.1), the
// prerequisites (§3.2) and the update section (§3.4.1), and computes the
// [Plan] of records to add and delete (§3.4.2). It is pure logic: no
// sockets, storage, TSIG or git. The primary server runs it inside a git
// transaction, checks [Result] as the new zone, raises the SOA serial
// (§3.6) unless [Plan.SOA] is set, and commits with [Describe] as message.
//
// Choices where the RFCs leave room:
//   - Names are compared ignoring ASCII case (RFC 4343), and so are domain
//     names inside record data, as dns.IsDuplicate compares them.
//   - A zone section of a class other than IN names no zone we serve:
//     NOTAUTH, as §3.1.1 says for ZCLASS.
//   - Prerequisites are checked against the zone as it was; updates are
//     then processed in order, each seeing the effect of those before it.
//     The plan is the net difference, so adding an existing record,
//     deleting a missing one, or adding then deleting a record changes
//     nothing.
//   - Adding a record to an RRset whose TTL differs sets the TTL of the
//     whole RRset to the added record's (RFC 2181 §5.2 wants one TTL):
//     the other records appear in the plan as deleted and added again.
//     Adding a record whose data exists with another TTL replaces it.
//     RRSIG records keep their TTLs, those of the RRsets they cover
//     (RFC 4034 §3). A record already there, up to case, stays as the
//     zone spells it.
//   - CNAME and DNAME are singletons: adding one where one exists replaces
//     it (§3.4.2.2). A CNAME may share its name only with RRSIG and NSEC
//     (RFC 4035 §2.5); an add breaking that is ignored (§3.4.2.2).
//   - An SOA add replaces the SOA only at the apex and only when its serial
//     is greater in RFC 1982 arithmetic; otherwise it is ignored (§3.4.2.2).
//   - An add whose data is empty, for a type that cannot be empty, is
//     FORMERR: it would not survive being written as a zone file.
//   - The header's opcode is not checked: the server dispatches on it.
package update
