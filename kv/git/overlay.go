package git

import (
	"slices"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/quercus-dev/quercus/kv"
)

// overlay merges a transaction's pending edits into a listing of its base.
func overlay(base []kv.Entry, edits map[string]*edit, prefix string) []kv.Entry {
	out := base[:0:0]
	for _, e := range base {
		if _, edited := edits[e.Key]; !edited {
			out = append(out, e)
		}
	}
	for key, ed := range edits {
		if ed.data != nil && kv.Under(key, prefix) {
			h := plumbing.ComputeHash(plumbing.BlobObject, ed.data)
			out = append(out, kv.Entry{Key: key, Digest: h.String(), Size: int64(len(ed.data))})
		}
	}
	slices.SortFunc(out, func(a, b kv.Entry) int { return strings.Compare(a.Key, b.Key) })
	return out
}
