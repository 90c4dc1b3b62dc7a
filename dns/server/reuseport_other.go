//go:build !linux

package server

import "syscall"

// reusePort is nil where SO_REUSEPORT's spreading of datagrams is not
// known to hold: Listen binds one UDP socket.
var reusePort func(network, address string, c syscall.RawConn) error
