// Package kvtest is the conformance suite for kv.Store implementations.
// Each implementation's tests call Run with a function that creates a
// fresh backend; the suite then checks the contract documented in kv.
package kvtest
