// Package dnsaddr reads the ADDR[:PORT] values the DNS services take in
// flags (a primary, NOTIFY targets, servers to check): an IP address, not
// a name, since the services resolve nothing once sandboxed, with port 53
// unless one is given.
package dnsaddr
