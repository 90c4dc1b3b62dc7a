package git

import (
	"bufio"
	"bytes"
	"cmp"
	"compress/zlib"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/idxfile"
)

// The collection writes its pack itself rather than with go-git's
// encoder, which for the loose trees of a large folder spent most of a
// collection hashing each object again as it read it, indexing each as a
// delta base, and parsing the pack it had just written to index it. Here
// every object is read once, trees are made deltas of each other by
// treeDelta (one pass over two sorted trees), and the index comes from
// the offsets as they are written.

// maxDeltaDepth bounds a chain of deltas, as git's pack.depth (50): a
// reader rebuilds an object through at most this many.
const maxDeltaDepth = 50

// looseObject is a loose object of the remote: its hash, type and size.
type looseObject struct {
	h    plumbing.Hash
	t    plumbing.ObjectType
	size int64
}

// looseHeader reads the loose object h's type and size from the start of
// its file.
func looseHeader(objects string, h plumbing.Hash) (looseObject, error) {
	hex := h.String()
	f, err := os.Open(filepath.Join(objects, hex[:2], hex[2:]))
	if err != nil {
		return looseObject{}, err
	}
	defer f.Close()
	var buf [128]byte
	n, err := io.ReadFull(f, buf[:])
	if err != nil && err != io.ErrUnexpectedEOF {
		return looseObject{}, err
	}
	data, ok := storedData(nil, buf[:n])
	if !ok || bytes.IndexByte(data, 0) < 0 {
		// Compressed (git wrote it): inflate as far as the header.
		zr, err := zlib.NewReader(io.MultiReader(bytes.NewReader(buf[:n]), f))
		if err != nil {
			return looseObject{h: h}, fmt.Errorf("loose object %s: %w", h, err)
		}
		defer zr.Close()
		data, _ = bufio.NewReaderSize(zr, 64).ReadSlice(0)
	}
	o, _, err := parseLooseHeader(h, data)
	return o, err
}

// parseLooseHeader parses "type size\x00" at the start of a loose
// object's data and returns what follows.
func parseLooseHeader(h plumbing.Hash, data []byte) (looseObject, []byte, error) {
	o := looseObject{h: h}
	hdr, rest, ok := bytes.Cut(data, []byte{0})
	typ, size, _ := bytes.Cut(hdr, []byte(" "))
	var err error
	if !ok {
		err = errors.New("no header")
	}
	if err == nil {
		o.t, err = plumbing.ParseObjectType(string(typ))
	}
	if err == nil {
		o.size, err = strconv.ParseInt(string(size), 10, 64)
	}
	if err != nil {
		return o, nil, fmt.Errorf("loose object %s: bad header: %w", h, err)
	}
	return o, rest, nil
}

// readLoose reads the content of the loose object o and checks its hash.
func readLoose(objects string, o looseObject) ([]byte, error) {
	hex := o.h.String()
	z, err := os.ReadFile(filepath.Join(objects, hex[:2], hex[2:]))
	if err != nil {
		return nil, err
	}
	data, ok := storedData(make([]byte, 0, len(z)), z)
	if !ok {
		zr, err := zlib.NewReader(bytes.NewReader(z))
		if err != nil {
			return nil, fmt.Errorf("loose object %s: %w", o.h, err)
		}
		data, err = io.ReadAll(zr)
		if err != nil {
			return nil, fmt.Errorf("loose object %s: %w", o.h, err)
		}
	}
	got, cont, err := parseLooseHeader(o.h, data)
	if err != nil {
		return nil, err
	}
	if got != o || int64(len(cont)) != o.size {
		return nil, fmt.Errorf("loose object %s: changed or cut short", o.h)
	}
	sum := sha1.New()
	sum.Write(data)
	if !bytes.Equal(sum.Sum(nil), o.h[:]) {
		return nil, fmt.Errorf("loose object %s: content hashes to %x", o.h, sum.Sum(nil))
	}
	return cont, nil
}

// storedData appends to dst the data of the zlib stream z if its blocks
// are stored ones (as storedWriter writes them), and says whether they
// are: then a stream reads without inflating, copied once. A stream cut
// short gives what it holds; the caller checks the size and hash.
func storedData(dst, z []byte) ([]byte, bool) {
	if len(z) < 2 || z[0]&0x0f != 8 || z[1]&0x20 != 0 || (uint16(z[0])<<8|uint16(z[1]))%31 != 0 {
		return nil, false
	}
	for z = z[2:]; len(z) >= 5; {
		// A stored block's header is its own byte: BFINAL, BTYPE 00,
		// then padding to the byte; then LEN and its complement.
		final := z[0]
		n := binary.LittleEndian.Uint16(z[1:])
		if final > 1 || n != ^binary.LittleEndian.Uint16(z[3:]) {
			return nil, false
		}
		k := min(int(n), len(z)-5)
		dst = append(dst, z[5:5+k]...)
		z = z[5+k:]
		if final == 1 {
			break
		}
	}
	return dst, true
}

// packWriter writes a pack, keeping the offset, the checksum and each
// entry's CRC for the index.
type packWriter struct {
	w     *bufio.Writer
	sum   hash.Hash
	crc   hash.Hash32
	off   int64
	zw    *zlib.Writer
	index idxfile.Writer
}

func newPackWriter(w io.Writer, count int) *packWriter {
	p := &packWriter{sum: sha1.New(), crc: crc32.NewIEEE()}
	p.w = bufio.NewWriterSize(io.MultiWriter(w, p.sum, p.crc, (*offsetCounter)(&p.off)), 64<<10)
	p.w.WriteString("PACK\x00\x00\x00\x02")
	p.w.Write(binary.BigEndian.AppendUint32(nil, uint32(count)))
	p.index.OnHeader(uint32(count))
	p.zw, _ = zlib.NewWriterLevel(p.w, zlib.DefaultCompression)
	return p
}

type offsetCounter int64

func (c *offsetCounter) Write(p []byte) (int, error) {
	*c += offsetCounter(len(p))
	return len(p), nil
}

// entry writes the object h as an entry of type t (a delta if baseOff
// is not 0) whose data is data, and returns the entry's offset.
func (p *packWriter) entry(h plumbing.Hash, t plumbing.ObjectType, baseOff int64, data []byte) (int64, error) {
	if err := p.w.Flush(); err != nil { // the offset and CRC count what is written
		return 0, err
	}
	at := p.off
	p.crc.Reset()
	// Type and size: 3 bits of type and 4 of size, then 7 bits of size
	// a byte, the high bit saying another byte follows.
	size := uint64(len(data))
	b := byte(t)<<4 | byte(size&0x0f)
	for size >>= 4; size > 0; size >>= 7 {
		p.w.WriteByte(b | 0x80)
		b = byte(size & 0x7f)
	}
	p.w.WriteByte(b)
	if t == plumbing.OFSDeltaObject {
		// How far back the base is, big-endian 7 bits a byte, each but
		// the last with the high bit set and one less (git's encoding).
		n := uint64(at - baseOff)
		enc := []byte{byte(n & 0x7f)}
		for n >>= 7; n > 0; n >>= 7 {
			n--
			enc = append(enc, 0x80|byte(n&0x7f))
		}
		slices.Reverse(enc)
		p.w.Write(enc)
	}
	p.zw.Reset(p.w)
	p.zw.Write(data)
	if err := p.zw.Close(); err != nil {
		return 0, err
	}
	if err := p.w.Flush(); err != nil {
		return 0, err
	}
	p.index.Add(h, uint64(at), p.crc.Sum32())
	return at, nil
}

// finish writes the checksum and returns it with the pack's index.
func (p *packWriter) finish() (plumbing.Hash, *idxfile.MemoryIndex, error) {
	if err := p.w.Flush(); err != nil {
		return plumbing.ZeroHash, nil, err
	}
	var sum plumbing.Hash
	p.sum.Sum(sum[:0])
	if _, err := p.w.Write(sum[:]); err != nil {
		return sum, nil, err
	}
	if err := p.w.Flush(); err != nil {
		return sum, nil, err
	}
	if err := p.index.OnFooter(sum); err != nil {
		return sum, nil, err
	}
	idx, err := p.index.Index()
	return sum, idx, err
}

// packLoose writes the loose objects hs of the objects folder to w as a
// pack and returns its checksum and index. Trees go largest first (the
// newest version of a growing folder whole), each as a delta against the
// one of the window trees before it that gives the smallest, if that is
// less than half the tree; other objects go whole.
func packLoose(w io.Writer, objects string, hs []plumbing.Hash, window int) (plumbing.Hash, *idxfile.MemoryIndex, error) {
	objs := make([]looseObject, 0, len(hs))
	for _, h := range hs {
		o, err := looseHeader(objects, h)
		if err != nil {
			return plumbing.ZeroHash, nil, err
		}
		objs = append(objs, o)
	}
	// Commits first, as git orders a pack, then trees, then files.
	rank := map[plumbing.ObjectType]int{plumbing.CommitObject: 0, plumbing.TagObject: 1, plumbing.TreeObject: 2, plumbing.BlobObject: 3}
	slices.SortFunc(objs, func(a, b looseObject) int {
		return cmp.Or(cmp.Compare(rank[a.t], rank[b.t]), cmp.Compare(b.size, a.size), bytes.Compare(a.h[:], b.h[:]))
	})

	type base struct {
		cont  []byte
		off   int64
		depth int
	}
	var bases []base // the last window trees written
	p := newPackWriter(w, len(objs))
	for _, o := range objs {
		cont, err := readLoose(objects, o)
		if err != nil {
			return plumbing.ZeroHash, nil, err
		}
		if o.t != plumbing.TreeObject {
			if _, err := p.entry(o.h, o.t, 0, cont); err != nil {
				return plumbing.ZeroHash, nil, err
			}
			continue
		}
		var best []byte
		bestBase := -1
		// The nearest first: in a growing folder, the next version. A
		// delta of under a sixty-fourth of the tree ends the search.
		for i := len(bases) - 1; i >= 0 && (best == nil || len(best) > len(cont)/64); i-- {
			b := bases[i]
			if b.depth >= maxDeltaDepth || len(b.cont) == 0 {
				continue
			}
			d := spliceDelta(cont, b.cont)
			if len(d) > len(cont)/64 {
				// More than one run changed: match entry by entry.
				td, _, ok := treeDelta(cont, b.cont)
				if !ok {
					break // not a tree we can read: whole
				}
				if len(td) < len(d) {
					d = td
				}
			}
			if gd := gitDelta(len(b.cont), d); best == nil || len(gd) < len(best) {
				best, bestBase = gd, i
			}
		}
		e := base{cont: cont}
		if bestBase >= 0 && len(best) < len(cont)/2 {
			b := bases[bestBase]
			e.depth = b.depth + 1
			e.off, err = p.entry(o.h, plumbing.OFSDeltaObject, b.off, best)
		} else {
			e.off, err = p.entry(o.h, o.t, 0, cont)
		}
		if err != nil {
			return plumbing.ZeroHash, nil, err
		}
		if len(bases) == window {
			bases = slices.Delete(bases, 0, 1)
		}
		if window > 0 {
			bases = append(bases, e)
		}
	}
	return p.finish()
}

// gitDelta rewrites a delta of ours (see applyDelta) against a base of
// baseLen bytes in git's pack encoding: the base's size and the result's,
// then instructions, each a byte: 1 to 127, insert that many bytes, which
// follow; high bit set, copy from the base, the low 7 bits saying which
// bytes of a 4-byte offset and a 3-byte length follow (a length of 0
// meaning 64 KB). Copies are cut at 64 KB, inserts at 127 bytes, as git
// cuts them.
func gitDelta(baseLen int, d []byte) []byte {
	size, n := binary.Uvarint(d)
	out := binary.AppendUvarint(nil, uint64(baseLen))
	out = binary.AppendUvarint(out, size)
	for d = d[n:]; len(d) > 0; {
		op, n := binary.Uvarint(d)
		d = d[n:]
		if op&1 == 1 {
			lit := d[:op>>1]
			d = d[op>>1:]
			for len(lit) > 0 {
				k := min(len(lit), 127)
				out = append(out, byte(k))
				out = append(out, lit[:k]...)
				lit = lit[k:]
			}
			continue
		}
		off, n := binary.Uvarint(d)
		d = d[n:]
		for left := op >> 1; left > 0; {
			k := min(left, 0x10000)
			at := len(out)
			out = append(out, 0x80)
			for i := range 4 {
				if b := byte(off >> (8 * i)); b != 0 {
					out[at] |= 1 << i
					out = append(out, b)
				}
			}
			if k != 0x10000 {
				for i := range 3 {
					if b := byte(k >> (8 * i)); b != 0 {
						out[at] |= 0x10 << i
						out = append(out, b)
					}
				}
			}
			off += k
			left -= k
		}
	}
	return out
}

// spliceDelta encodes old as a delta against base (see applyDelta) that
// copies their common prefix and suffix and inserts what lies between:
// for two versions of a folder's tree that differ in one entry, as good
// as treeDelta's, and found by comparing bytes rather than entries.
func spliceDelta(old, base []byte) []byte {
	n := min(len(old), len(base))
	pre := 0
	for pre+64 <= n && bytes.Equal(old[pre:pre+64], base[pre:pre+64]) {
		pre += 64
	}
	for pre < n && old[pre] == base[pre] {
		pre++
	}
	suf := 0
	for suf+64 <= n-pre && bytes.Equal(old[len(old)-suf-64:len(old)-suf], base[len(base)-suf-64:len(base)-suf]) {
		suf += 64
	}
	for suf < n-pre && old[len(old)-suf-1] == base[len(base)-suf-1] {
		suf++
	}
	d := binary.AppendUvarint(nil, uint64(len(old)))
	if pre > 0 {
		d = binary.AppendUvarint(d, uint64(pre)<<1)
		d = binary.AppendUvarint(d, 0)
	}
	if mid := old[pre : len(old)-suf]; len(mid) > 0 {
		d = binary.AppendUvarint(d, uint64(len(mid))<<1|1)
		d = append(d, mid...)
	}
	if suf > 0 {
		d = binary.AppendUvarint(d, uint64(suf)<<1)
		d = binary.AppendUvarint(d, uint64(len(base)-suf))
	}
	return d
}
