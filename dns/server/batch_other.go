//go:build !(linux && (amd64 || arm64))

package server

import (
	"errors"
	"net"
	"net/netip"
	"sync/atomic"
)

// batchConn is recvmmsg/sendmmsg batching, which only 64-bit Linux has
// here: elsewhere the fast path reads and writes one message at a time.
type batchConn struct{ stop atomic.Bool }

func newBatchConn(*net.UDPConn, func(pkt, out []byte) ([]byte, bool), bool) (*batchConn, error) {
	return nil, errors.New("no batched socket I/O on this platform")
}

func (*batchConn) nextGeneral() ([]byte, netip.AddrPort, []byte, error) {
	return nil, netip.AddrPort{}, nil, errors.ErrUnsupported
}

func (*batchConn) writeTo([]byte, []byte, *net.UDPAddr) (int, error) {
	return 0, errors.ErrUnsupported
}

// enablePktinfo is a no-op: without batchConn, a socket bound to the
// unspecified address keeps the general path, which miekg answers from
// the right address itself.
func enablePktinfo(*net.UDPConn) error { return errors.ErrUnsupported }
