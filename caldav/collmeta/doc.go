// Package collmeta is a CalDAV collection's .props.json: what makes a
// folder of the repository a collection, its type and components, the
// dead properties of it and its members, and who it is shared with.
// Both the caldav server and the quercus share command edit it.
package collmeta
