package git

import (
	"compress/zlib"
	"encoding/binary"
	"hash/adler32"
	"io"
	"sync"
)

// compressor is a zlib compressor shared by the loose objects of one
// push and the packs sent over a network, made when wanted and dropped
// by dropZlib when a push is done: each holds about a megabyte of tables,
// too much to keep between pushes or to make for each object.
var compressor struct {
	sync.Mutex
	w *zlib.Writer
}

// getZlib returns the compressor, reset to write to w; putZlib gives it
// back.
func getZlib(w io.Writer) *zlib.Writer {
	compressor.Lock()
	if compressor.w == nil {
		compressor.w, _ = zlib.NewWriterLevel(w, zlib.BestSpeed)
	} else {
		compressor.w.Reset(w)
	}
	return compressor.w
}

func putZlib(*zlib.Writer) { compressor.Unlock() }

func dropZlib() {
	compressor.Lock()
	compressor.w = nil
	compressor.Unlock()
}

// writeStored writes data as a zlib stream of stored (uncompressed)
// deflate blocks, which every zlib reader takes: for a pack that a local
// remote reads straight back, compressing is wasted work, and a
// compressor's tables would cost more memory than the pack.
func writeStored(w io.Writer, data []byte) error {
	// CMF: deflate, 32 KB window; FLG: no dictionary, fastest, and
	// check bits making CMF*256+FLG a multiple of 31.
	if _, err := w.Write([]byte{0x78, 0x01}); err != nil {
		return err
	}
	sum := adler32.Checksum(data)
	for first := true; first || len(data) > 0; first = false {
		n := min(len(data), 0xffff)
		var hdr [5]byte
		if n == len(data) {
			hdr[0] = 1 // BFINAL; BTYPE 00: stored
		}
		binary.LittleEndian.PutUint16(hdr[1:], uint16(n))
		binary.LittleEndian.PutUint16(hdr[3:], ^uint16(n))
		if _, err := w.Write(hdr[:]); err != nil {
			return err
		}
		if _, err := w.Write(data[:n]); err != nil {
			return err
		}
		data = data[n:]
	}
	_, err := w.Write(binary.BigEndian.AppendUint32(nil, sum))
	return err
}
