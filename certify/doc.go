// Package certify publishes certificate signing requests in DNS and reads
// back the certificates that a DNS-01 ACME client (cmd/dns-acme, package
// certify/issuer) puts beside them, as robur's dns-certify, ocertify and
// dns-letsencrypt-secondary do, with the same records:
//
//	_letsencrypt._tcp.<host>. TLSA 3 255 0 <CSR, DER>          the request
//	_letsencrypt._tcp.<host>. TLSA 3 0 0   <certificate, DER>  the certificate
//	_letsencrypt._tcp.<host>. TLSA 0 0 0   <CA certificate>    each of its chain
//
// <host> is one of the request's names (Obtain takes the first), without
// a leading "*." for a wildcard. The request's names are its subject
// alternative names, or its common name when it has none.
//
// A certificate fits a request when it certifies the request's public key
// for exactly the request's names. It is due for renewal within 30 days
// of its end, or within the last third of its lifetime when that is
// shorter (short-lived certificates). Obtain is the client side: publish a
// request with a signed UPDATE and wait for a fitting certificate.
package certify
