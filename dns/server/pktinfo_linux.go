//go:build linux && (amd64 || arm64)

package server

import (
	"encoding/binary"
	"errors"
	"net"

	"golang.org/x/sys/unix"
)

// A socket bound to the unspecified address (0.0.0.0, or :: which Go
// makes dual-stack) must answer from the address each query was sent
// to, or a client that checks the source of its answers drops them.
// Listen asks the kernel to tell that address with every datagram
// (IP_PKTINFO, IPV6_RECVPKTINFO; an IPv6 socket gets IPv4-mapped
// traffic's destination in the IPv6 form too), and each answer is sent
// with the matching control message naming its source.

// ctrlSize is the room for one datagram's control data: one
// IPV6_PKTINFO message takes 40 bytes, IP_PKTINFO 32.
const ctrlSize = 64

// cmsgHdr is the size of struct cmsghdr on 64-bit Linux; its data
// follows, aligned to 8 bytes.
const cmsgHdr = unix.SizeofCmsghdr

// enablePktinfo asks for the destination address of every datagram
// read from u.
func enablePktinfo(u *net.UDPConn) error {
	return sockopt(u, func(fd int, domain int) error {
		switch domain {
		case unix.AF_INET:
			return unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
		case unix.AF_INET6:
			return unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, 1)
		}
		return errors.ErrUnsupported
	})
}

// pktinfoOn tells whether u reports destination addresses: a socket
// that did not come from Listen may not.
func pktinfoOn(u *net.UDPConn) bool {
	return sockopt(u, func(fd int, domain int) error {
		var on int
		var err error
		switch domain {
		case unix.AF_INET:
			on, err = unix.GetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_PKTINFO)
		case unix.AF_INET6:
			on, err = unix.GetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO)
		default:
			return errors.ErrUnsupported
		}
		if err == nil && on == 0 {
			err = errors.New("off")
		}
		return err
	}) == nil
}

// sockopt runs fn on u's descriptor and address family.
func sockopt(u *net.UDPConn, fn func(fd, domain int) error) error {
	rc, err := u.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	err = rc.Control(func(fd uintptr) {
		domain, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_DOMAIN)
		if err != nil {
			ferr = err
			return
		}
		ferr = fn(int(fd), domain)
	})
	if err != nil {
		return err
	}
	return ferr
}

// replyControl writes into out the control message that sends an answer
// from the address the datagram with control data ctrl was sent to, and
// returns its length: 0 if ctrl does not say. out must hold ctrlSize
// bytes. IPv4 names the source in ipi_spec_dst and leaves the interface
// to routing; IPv6 keeps the interface only for a link-local address,
// which means nothing without it.
func replyControl(ctrl, out []byte) int {
	ne := binary.NativeEndian
	for len(ctrl) >= cmsgHdr {
		l := int(ne.Uint64(ctrl))
		if l < cmsgHdr || l > len(ctrl) {
			return 0
		}
		level, typ, data := int32(ne.Uint32(ctrl[8:])), int32(ne.Uint32(ctrl[12:])), ctrl[cmsgHdr:l]
		switch {
		case level == unix.IPPROTO_IP && typ == unix.IP_PKTINFO && len(data) >= unix.SizeofInet4Pktinfo:
			// struct in_pktinfo: ifindex, spec_dst, addr (the header's
			// destination, which spec_dst may differ from).
			n := cmsgHeader(out, unix.IPPROTO_IP, unix.IP_PKTINFO, unix.SizeofInet4Pktinfo)
			copy(out[cmsgHdr+4:cmsgHdr+8], data[8:12])
			return n
		case level == unix.IPPROTO_IPV6 && typ == unix.IPV6_PKTINFO && len(data) >= unix.SizeofInet6Pktinfo:
			// struct in6_pktinfo: addr, ifindex.
			n := cmsgHeader(out, unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, unix.SizeofInet6Pktinfo)
			copy(out[cmsgHdr:cmsgHdr+16], data[:16])
			if data[0] == 0xfe && data[1]&0xc0 == 0x80 {
				copy(out[cmsgHdr+16:cmsgHdr+20], data[16:20])
			}
			return n
		}
		next := unix.CmsgSpace(l - cmsgHdr)
		if next >= len(ctrl) {
			return 0
		}
		ctrl = ctrl[next:]
	}
	return 0
}

// cmsgHeader clears the room for one control message of size data bytes
// in out, writes its header and returns the room it takes.
func cmsgHeader(out []byte, level, typ int32, size int) int {
	n := unix.CmsgSpace(size)
	clear(out[:n])
	ne := binary.NativeEndian
	ne.PutUint64(out, uint64(unix.CmsgLen(size)))
	ne.PutUint32(out[8:], uint32(level))
	ne.PutUint32(out[12:], uint32(typ))
	return n
}
