// Package gitstore is the part of the service chassis for services that
// keep their data in a git remote (dns-primary, caldav): it opens the
// --remote as a kv/git store and locates it for the sandbox policy. It
// lives apart from package service so that binaries without git data do
// not link a git client.
package gitstore
