// Package catalog reads DNS catalog zones (RFC 9432): a zone, made by a
// primary, whose records list the member zones its secondaries are to
// serve. Parse turns a catalog's records into its members, or says why
// the catalog is broken, in which case RFC 9432 has a consumer keep
// the member set it had.
//
// Only schema version 2 is read. The coo property (change of ownership)
// is kept with its member; group and unknown properties are ignored.
package catalog
