// Package git is a kv.Store on a git remote. Objects live in memory (the
// service writes no files): Open clones, Refresh fetches, and every Batch
// becomes one commit pushed before Batch returns.
//
// When a push is rejected because the remote moved, the store fetches and
// runs the batch again on the new head, a bounded number of times. When
// the remote cannot be reached, Batch fails and the view stays as it was.
// If the remote took a push whose answer was lost, the fetch that follows
// finds the commit there and the batch counts as done.
package git
