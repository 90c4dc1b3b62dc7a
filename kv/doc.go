// Package kv is the storage boundary every Quercus service uses: a small
// versioned key/value store whose keys are slash-separated paths.
//
// It follows MirageOS' mirage-kv and robur's git-kv. A [Store] is read
// through immutable [Snapshot]s, and written through [Store.Batch], which
// applies a function's changes as one version (a git commit) and returns
// only once that version is durable (pushed). Implementations live in
// subpackages: kv/mem for tests and demos, kv/git for a git remote.
// Package kv/kvtest holds the conformance suite every implementation passes.
package kv
