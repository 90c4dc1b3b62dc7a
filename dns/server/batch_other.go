//go:build !(linux && (amd64 || arm64))

package server

import (
	"errors"
	"net"
	"net/netip"
)

// batchConn is recvmmsg/sendmmsg batching, which only 64-bit Linux has
// here: elsewhere the fast path reads and writes one message at a time.
type batchConn struct{}

func newBatchConn(*net.UDPConn) (*batchConn, error) {
	return nil, errors.New("no batched socket I/O on this platform")
}

func (*batchConn) read() error                  { return errors.ErrUnsupported }
func (*batchConn) flush()                       {}
func (*batchConn) message() ([]byte, int, bool) { return nil, 0, false }
func (*batchConn) answerBuf() []byte            { return nil }
func (*batchConn) queue(i, n int)               {}
func (*batchConn) from(i int) netip.AddrPort    { return netip.AddrPort{} }
