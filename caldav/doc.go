// Package caldav is a WebDAV (RFC 4918) and CalDAV (RFC 4791) server whose
// only storage is a kv.Store (a git remote in production).
//
// URL space: / (current-user-principal), /principals/USER/ (principal with
// calendar-home-set), /calendars/USER/ (the user's home) and below it
// plain collections, calendar collections and their resources. Every
// request needs HTTP Basic authentication (package users);
// /.well-known/caldav redirects to /.
//
// Repository layout: users/ and groups/ (package users) and, per user,
// calendars/USER/CAL/ holding the .ics files exactly as clients sent them
// and a .props.json with the collection's type, components, dead
// properties, those of its members and its shares. Every write is one
// Store.Batch: one commit authored by the user, pushed before the answer.
// ETags are file digests (git blob ids), CTags folder digests and sync
// tokens commit ids, so sync-collection answers from the history.
//
// PROPFIND takes Depth 0 and 1; infinity, and a missing Depth (which
// RFC 4918 §9.1 reads as infinity), answer 403 propfind-finite-depth.
// getlastmodified and creationdate come from the git history and are
// computed only when asked for by name (times.go says how their cost is
// bounded). sync-collection answers sync-level 1 and infinity;
// expand-property (RFC 3253) expands href-valued properties. A GET of a
// calendar collection answers the whole calendar as one iCalendar file,
// streamed.
//
// Shares (collmeta.Meta.Share) give other users read or write access to a
// calendar's contents; removing or replacing the calendar itself, and
// changing its properties or its events', stays its owner's, and a copy
// carries no shares. In the owner's home a sharee sees, lists, syncs and
// gets a CTag of the shared calendars only, and none of the home's own
// properties.
//
// Request bodies are parsed by package davxml within limits, calendar
// queries evaluated by package calquery; package collmeta is the
// .props.json format, which quercus share edits too.
package caldav
