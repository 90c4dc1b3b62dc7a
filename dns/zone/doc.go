// Package zone reads, checks and writes DNS zone files in RFC 1035
// master-file format, as kept in git: one file per zone, named by the zone
// (file "example.com" holds zone example.com.), compatible with robur's
// dns-primary-git. It also does RFC 1982 serial arithmetic and record-level
// diffs, for the primary, the secondary and the operator's tool alike.
package zone
