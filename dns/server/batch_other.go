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

func newBatchConn(*net.UDPConn, func(pkt, out []byte) ([]byte, bool)) (*batchConn, error) {
	return nil, errors.New("no batched socket I/O on this platform")
}

func (*batchConn) nextGeneral() ([]byte, netip.AddrPort, error) {
	return nil, netip.AddrPort{}, errors.ErrUnsupported
}
