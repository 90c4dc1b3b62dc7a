package git

import (
	"encoding/binary"
	"hash"
	"hash/adler32"
	"io"
)

// storedWriter writes a zlib stream of stored (uncompressed) deflate
// blocks, which every zlib reader takes. For the loose objects and packs
// of a local remote it trades disk (until git gc packs them) for speed
// and memory: a compressor costs most of a megabyte of tables, and
// compressing the 450 KB tree of a large folder takes longer than the
// rest of a push.
type storedWriter struct {
	w      io.Writer
	sum    hash.Hash32
	buf    []byte
	header bool
	err    error
}

const maxStoredBlock = 0xffff

func newStoredWriter(w io.Writer) *storedWriter {
	return &storedWriter{w: w, sum: adler32.New()}
}

func (s *storedWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 && s.err == nil {
		if len(s.buf) == maxStoredBlock {
			s.block(false)
		}
		k := min(len(p), maxStoredBlock-len(s.buf))
		s.buf = append(s.buf, p[:k]...)
		s.sum.Write(p[:k])
		p = p[k:]
	}
	if s.err != nil {
		return 0, s.err
	}
	return n, nil
}

// block writes what is buffered as one block, the last if final.
func (s *storedWriter) block(final bool) {
	if s.err != nil {
		return
	}
	if !s.header {
		// CMF: deflate, 32 KB window; FLG: no dictionary, fastest, and
		// check bits making CMF*256+FLG a multiple of 31.
		_, s.err = s.w.Write([]byte{0x78, 0x01})
		s.header = true
	}
	var hdr [5]byte
	if final {
		hdr[0] = 1 // BFINAL; BTYPE 00: stored
	}
	binary.LittleEndian.PutUint16(hdr[1:], uint16(len(s.buf)))
	binary.LittleEndian.PutUint16(hdr[3:], ^uint16(len(s.buf)))
	if s.err == nil {
		_, s.err = s.w.Write(hdr[:])
	}
	if s.err == nil {
		_, s.err = s.w.Write(s.buf)
	}
	s.buf = s.buf[:0]
}

// Close writes the last block and the checksum.
func (s *storedWriter) Close() error {
	s.block(true)
	if s.err == nil {
		_, s.err = s.w.Write(binary.BigEndian.AppendUint32(nil, s.sum.Sum32()))
	}
	return s.err
}

// writeStored writes data as a zlib stream of stored blocks.
func writeStored(w io.Writer, data []byte) error {
	s := newStoredWriter(w)
	s.Write(data)
	return s.Close()
}
