// Package dnstest holds what the DNS packages' tests share: a wire server
// running on loopback for the length of a test, zone transfers collected
// into records, and metric values read back from a registry.
package dnstest
