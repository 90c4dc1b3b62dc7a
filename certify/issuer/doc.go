// Package issuer is the dns-acme service: it watches a zone for
// certificate signing requests published as certify records, orders a
// certificate for each from an ACME CA (RFC 8555, golang.org/x/crypto/acme),
// proves control of the names with DNS-01 challenges written through
// signed UPDATEs to the zone's primary, and publishes the certificate and
// its chain beside the request. It is robur's dns-letsencrypt-secondary.
//
// The zone comes from a Source (a secondary following the primary by
// AXFR/IXFR and NOTIFY); Changed tells the issuer to look again, and it
// also looks every Rescan (a day). A host is acted on when its records hold
// exactly one valid request whose names are all in the zone and either no
// certificate fits the request (its key and names) or the fitting one is
// due for renewal (certify.Due). A request for a name outside the zone,
// several requests or a malformed one is skipped and logged once.
//
// Each failed attempt backs the host off: Backoff after the first, doubled
// each time up to a day. Changes to the zone do not cut a backoff short,
// so nothing is retried in a tight loop; a new request for the host does.
// Failures show in the log and in quercus_acme_* metrics.
package issuer
