// Package mem is an in-memory kv.Store for tests and demos. Every version
// it ever held stays readable, like a git history, and the store can be
// told to fail writes so services can test their error paths.
package mem
