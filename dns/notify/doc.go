// Package notify tells a zone's secondaries that its serial increased, by
// DNS NOTIFY (RFC 1996), so they transfer the change at once instead of at
// their next SOA refresh.
//
// Whom (Targets): the addresses, from the zone's own A and AAAA records, of
// the name servers in its apex NS RRset but the one the SOA MNAME names
// (the primary itself: RFC 1996 §2.1, "Notify Set"); the secondaries that
// _transfer keys for the zone name (<primary>.<secondary>._transfer.<zone>);
// and the addresses the operator adds (--also-notify). Name servers with no
// address in the zone are left out, since the service does not resolve
// names: give their addresses as also. A notify to a
// secondary that a _transfer key names is signed with that key (RFC 8945),
// the key the secondary transfers with; _update and _notify keys are not
// used, since they belong to who changes the zone or notifies us. The
// others go unsigned.
//
// How (Notifier): over UDP, retransmitted with exponential back-off until
// an answer comes (RFC 1996 §3.6: same query ID and QNAME, from the target's
// address and port, and signed if we signed), an ICMP port unreachable
// says nobody listens, or the retransmissions are used up. A signed notify
// whose answer does not verify is treated as unanswered. An answer other
// than NOERROR ends the retransmissions too: the secondary heard us, and
// asking again gets the same answer. A notify for a newer serial of a zone
// supersedes the retransmissions still pending for the older one.
package notify
