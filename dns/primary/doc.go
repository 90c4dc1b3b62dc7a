// Package primary is the authoritative primary DNS service: it serves the
// zones and TSIG keys of a kv.Store (a git remote laid out like robur's
// dns-primary-git), checks every zone before serving it, keeps the last
// good version of a zone that turns bad, and swaps new revisions in
// atomically when told (authenticated NOTIFY, --poll, the forge webhook).
package primary
