//go:build linux

package server

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// reusePort is a net.ListenConfig Control that lets sockets of this user
// share an address, the kernel spreading datagrams over them by their
// source address and port. A variable, for other systems have none.
var reusePort = func(_, _ string, c syscall.RawConn) error {
	var err error
	if cerr := c.Control(func(fd uintptr) {
		err = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	}); cerr != nil {
		return cerr
	}
	return err
}
