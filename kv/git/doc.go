// Package git is a kv.Store on a git remote. Objects live in memory (the
// service writes no files): Open clones, Refresh fetches, and every Batch
// becomes one commit pushed before Batch returns.
//
// The history is held as git packs hold it: a tree replaced by a newer
// commit's is kept as a delta against it, and files are compressed with
// a dictionary of the first few, so a commit to a folder of 10,000 files
// costs hundreds of bytes, not a copy of the folder's tree. A push sends
// what its commits changed; a local remote (a path, file://) is served
// in this process and keeps small pushes as loose objects, as git does.
// As git-receive-pack runs gc --auto, a push to a local remote that
// leaves too many loose objects (6,700, or 32 MB of them) starts a
// collection in the background, under git's gc.pid lock: they are packed
// into one pack, trees as deltas of each other, then removed.
//
// When a push is rejected because the remote moved, the store fetches and
// runs the batch again on the new head, a bounded number of times. When
// the remote cannot be reached, Batch fails and the view stays as it was.
// If the remote took a push whose answer was lost, the fetch that follows
// finds the commit there and the batch counts as done.
package git
