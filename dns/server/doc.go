// Package server is the DNS wire server shared by the primary and the
// secondary: it reads queries over UDP and TCP, handles EDNS(0), TSIG and
// truncation, answers from an authority.Set it reads afresh for every
// query (so zone swaps never block queries), streams zone transfers, and
// hands NOTIFY and UPDATE messages to the service through hooks.
package server
