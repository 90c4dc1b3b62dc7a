//go:build linux && (amd64 || arm64)

package server

import (
	"encoding/binary"
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"
)

// batchSize is the most messages one recvmmsg or sendmmsg moves.
const batchSize = 32

// mmsghdr is struct mmsghdr of the 64-bit Linux ABI.
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
	_   [4]byte
}

// sockaddr holds a struct sockaddr_in or sockaddr_in6.
type sockaddr [unix.SizeofSockaddrInet6]byte

// mmsgs is one direction's batch: headers, buffers and addresses, set up
// once so that moving a batch allocates nothing (x/net's ReadBatch
// allocates addresses for every message).
type mmsgs struct {
	hs    [batchSize]mmsghdr
	iov   [batchSize]unix.Iovec
	names [batchSize]sockaddr
	bufs  [batchSize][]byte
}

func (m *mmsgs) init(size int) {
	for i := range m.hs {
		m.bufs[i] = make([]byte, size)
		m.iov[i].Base = &m.bufs[i][0]
		m.iov[i].SetLen(size)
		m.hs[i].hdr.Name = &m.names[i][0]
		m.hs[i].hdr.Iov = &m.iov[i]
		m.hs[i].hdr.Iovlen = 1
	}
}

// batchConn reads and writes a UDP socket a batch at a time with
// recvmmsg and sendmmsg, through the runtime's poller: a call that would
// block parks the goroutine, and deadlines apply as to the net.UDPConn.
//
// The socket is non-blocking, so neither call ever waits, and they are
// made as raw system calls, without telling the scheduler: a sendmmsg on
// loopback runs the receiver's network stack too and can take tens of
// microseconds, long enough for sysmon to take the P away from a
// "blocked" system call and wake another thread to run it, only for the
// call to return at once and take it back. On a small virtual machine,
// where every thread switch is dear, that churn cost more CPU than the
// answers (a third of the process's time in perf at 20,000 queries a
// second).
type batchConn struct {
	rc      syscall.RawConn
	in, out mmsgs
	n, next int // messages read, and the next to hand out
	queued  int // answers waiting in out
	sent    int // answers of out already sent
	err     error
	readFn  func(fd uintptr) bool // c.recv and c.send, bound once
	writeFn func(fd uintptr) bool
}

func newBatchConn(u *net.UDPConn) (*batchConn, error) {
	rc, err := u.SyscallConn()
	if err != nil {
		return nil, err
	}
	c := &batchConn{rc: rc}
	c.in.init(dns.MaxMsgSize)
	c.out.init(DefaultUDPSize)
	c.readFn, c.writeFn = c.recv, c.send
	return c, nil
}

func (c *batchConn) recv(fd uintptr) bool {
	for i := range c.in.hs {
		c.in.hs[i].hdr.Namelen = unix.SizeofSockaddrInet6
	}
	for {
		n, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&c.in.hs[0])), batchSize, 0, 0, 0)
		switch e {
		case 0:
			c.n, c.err = int(n), nil
		case unix.EAGAIN:
			return false // the poller waits for the next message
		case unix.EINTR:
			continue
		default:
			c.n, c.err = 0, e
		}
		return true
	}
}

func (c *batchConn) send(fd uintptr) bool {
	for c.sent < c.queued {
		n, _, e := unix.RawSyscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&c.out.hs[c.sent])), uintptr(c.queued-c.sent), 0, 0, 0)
		switch e {
		case 0:
			c.sent += int(n)
		case unix.EAGAIN:
			return false
		case unix.EINTR:
		default:
			// The first message of the rest failed (an unreachable
			// address, say): drop it, as a lost answer, and go on.
			c.sent++
		}
	}
	return true
}

// read fills the batch, waiting for at least one message.
func (c *batchConn) read() error {
	c.n, c.next = 0, 0
	if err := c.rc.Read(c.readFn); err != nil {
		return err
	}
	return c.err
}

// flush sends the queued answers.
func (c *batchConn) flush() {
	if c.queued > 0 {
		c.rc.Write(c.writeFn)
	}
	c.queued, c.sent = 0, 0
}

// message returns the next message read, and its index; ok false when
// the batch is used up.
func (c *batchConn) message() (pkt []byte, i int, ok bool) {
	if c.next >= c.n {
		return nil, 0, false
	}
	i = c.next
	c.next++
	return c.in.bufs[i][:c.in.hs[i].n], i, true
}

// answerBuf is where the next answer is to be written.
func (c *batchConn) answerBuf() []byte { return c.out.bufs[c.queued] }

// queue queues the answer in answerBuf, of length n, to the sender of
// message i; a full queue is sent at once.
func (c *batchConn) queue(i, n int) {
	j := c.queued
	c.out.names[j] = c.in.names[i]
	c.out.hs[j].hdr.Namelen = c.in.hs[i].hdr.Namelen
	c.out.iov[j].SetLen(n)
	c.queued++
	if c.queued == batchSize {
		c.flush()
	}
}

// from returns the address message i came from.
func (c *batchConn) from(i int) netip.AddrPort {
	sa := &c.in.names[i]
	port := binary.BigEndian.Uint16(sa[2:4])
	switch binary.NativeEndian.Uint16(sa[0:2]) {
	case unix.AF_INET:
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(sa[4:8])), port)
	case unix.AF_INET6:
		a := netip.AddrFrom16([16]byte(sa[8:24]))
		if scope := binary.NativeEndian.Uint32(sa[24:28]); scope != 0 {
			if ifi, err := net.InterfaceByIndex(int(scope)); err == nil {
				a = a.WithZone(ifi.Name)
			}
		}
		return netip.AddrPortFrom(a, port)
	}
	return netip.AddrPort{}
}
