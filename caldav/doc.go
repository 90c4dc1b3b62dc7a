// Package caldav is a WebDAV (RFC 4918) and CalDAV (RFC 4791) server whose
// only storage is a kv.Store (a git remote in production).
//
// Repository layout: users/ and groups/ (package users) and, per user,
// calendars/USER/CAL/ holding the .ics files exactly as clients sent them
// and a .props.json with the collection's type, dead properties and those
// of its members. Every write is one Store.Batch (one commit, pushed
// before the answer). ETags are file digests, CTags folder digests and
// sync tokens commit ids.
package caldav
