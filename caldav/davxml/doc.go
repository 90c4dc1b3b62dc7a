// Package davxml reads WebDAV request bodies into a small element tree,
// within limits on size, depth and element count, and writes the
// multistatus and error bodies WebDAV and CalDAV answer with.
//
// Request parsing refuses DTDs outright: no entity can be declared, so
// none can be expanded.
package davxml
