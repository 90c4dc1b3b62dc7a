// Package deptest keeps each binary's dependency list visible: every
// cmd/<binary> has a deps.txt listing the non-standard packages it links,
// and the test here fails when the real list drifts from it, so a new
// dependency is always a deliberate, reviewed change (`make deps`).
package deptest
