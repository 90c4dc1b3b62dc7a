//go:build linux && (amd64 || arm64)

package server

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"
)

// batchSize is the most messages one recvmmsg or sendmmsg moves.
const batchSize = 32

// busyWait is how long the reading goroutine sleeps in recvmmsg itself,
// while queries keep coming, before it falls back to the runtime's
// poller (see batchConn).
const busyWait = time.Millisecond

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
	// ctrl holds each message's control data, on a socket bound to the
	// unspecified address (pktinfo_linux.go): where it was sent to when
	// read, the source to answer from when sent.
	ctrl [batchSize][ctrlSize]byte
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

// batchConn runs the fast path on a UDP socket a batch at a time, with
// recvmmsg and sendmmsg, inside one RawConn.Read: the callback reads a
// batch, answers what the fast path answers, sends the answers, and
// reads again, until a message needs the general path (handed out by
// the caller) or no query came for busyWait.
//
// While queries keep coming the goroutine waits for the next one in
// recvmmsg itself: the socket is made blocking, with a receive time-out
// of busyWait, and the call is a raw system call, so the scheduler still
// counts the goroutine as running. One wake-up thus costs two system
// calls, recvmmsg and sendmmsg. Waiting through the runtime's poller
// instead costs a failed read, and the scheduler looks at epoll twice
// before it sleeps (once without blocking): about four calls per wake-up,
// at a microsecond each on a small virtual machine, against NSD's three
// (epoll_wait, recvmmsg, sendmmsg). After busyWait without a query the
// callback returns to the poller, so an idle server sleeps in epoll as
// any Go program does.
//
// The goroutine keeps its P while it sleeps in recvmmsg, so Listen makes
// sure there are two (GOMAXPROCS): the other runs the rest of the server
// (TCP, timers, the general path) and polls the network meanwhile.
// Signals interrupt the wait (a socket with a receive time-out is never
// restarted, signal(7)), so the runtime can still preempt the goroutine
// for a garbage collection; a shutdown (a past read deadline, or Close)
// is seen within busyWait.
//
// Both calls are raw, without telling the scheduler: a sendmmsg on
// loopback runs the receiver's network stack too and can take tens of
// microseconds, long enough for sysmon to take the P away from a
// "blocked" system call and wake another thread to run it, only for the
// call to return at once and take it back. On a small virtual machine,
// where every thread switch is dear, that churn cost more CPU than the
// answers (a third of the process's time in perf at 20,000 queries a
// second). sendmmsg never waits (MSG_DONTWAIT): a full send buffer hands
// the rest to RawConn.Write.
type batchConn struct {
	rc      syscall.RawConn
	answer  func(pkt, out []byte) ([]byte, bool)
	in, out mmsgs
	n, next int         // messages read, and the next to answer
	queued  int         // answers waiting in out
	sent    int         // answers of out already sent
	general int         // a message for the general path, or -1
	wild    bool        // the socket is bound to the unspecified address
	v6      bool        // the socket is AF_INET6 (IPv4 peers are mapped)
	stop    atomic.Bool // a shutdown began: return to the poller
	err     error
	loopFn  func(fd uintptr) bool // c.loop and c.send, bound once
	sendFn  func(fd uintptr) bool
}

// newBatchConn runs the fast path on u; wild says that u is bound to
// the unspecified address, and must report each message's destination
// (Listen asked for it), for the answer to be sent from it.
func newBatchConn(u *net.UDPConn, answer func(pkt, out []byte) ([]byte, bool), wild bool) (*batchConn, error) {
	if wild && !pktinfoOn(u) {
		return nil, errors.New("the socket does not report destination addresses")
	}
	rc, err := u.SyscallConn()
	if err != nil {
		return nil, err
	}
	var serr error
	v6 := false
	err = rc.Control(func(fd uintptr) {
		var sa unix.Sockaddr
		if sa, serr = unix.Getsockname(int(fd)); serr != nil {
			return
		}
		_, v6 = sa.(*unix.SockaddrInet6)
		tv := unix.NsecToTimeval(busyWait.Nanoseconds())
		if serr = unix.SetsockoptTimeval(int(fd), unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); serr == nil {
			serr = unix.SetNonblock(int(fd), false)
		}
	})
	if err = errors.Join(err, serr); err != nil {
		return nil, err
	}
	c := &batchConn{rc: rc, answer: answer, general: -1, wild: wild, v6: v6}
	c.in.init(dns.MaxMsgSize)
	c.out.init(DefaultUDPSize)
	c.loopFn, c.sendFn = c.loop, c.send
	return c, nil
}

// nextGeneral answers what the fast path can and returns the next message
// for the general path: its bytes, valid until the next call, where it
// came from, and on a wild socket the control message to answer it with
// (nil if none).
func (c *batchConn) nextGeneral() ([]byte, netip.AddrPort, []byte, error) {
	for {
		if i := c.general; i >= 0 {
			c.general = -1
			var oob []byte
			if c.wild {
				var b [ctrlSize]byte
				if n := replyControl(c.in.ctrl[i][:c.in.hs[i].hdr.Controllen], b[:]); n > 0 {
					oob = b[:n:n]
				}
			}
			return c.in.bufs[i][:c.in.hs[i].n], c.from(i), oob, nil
		}
		if c.queued > c.sent {
			c.rc.Write(c.sendFn) // answers a full send buffer held back
			c.queued, c.sent = 0, 0
		}
		if err := c.rc.Read(c.loopFn); err != nil {
			return nil, netip.AddrPort{}, nil, err
		}
		if err := c.err; err != nil {
			c.err = nil
			return nil, netip.AddrPort{}, nil, err
		}
	}
}

// loop is the RawConn.Read callback: true to return from Read, false to
// wait for the socket to be readable (or to notice a shutdown).
func (c *batchConn) loop(fd uintptr) bool {
	for {
		if c.next >= c.n {
			if c.stop.Load() {
				return false
			}
			switch c.recv(fd) {
			case idle:
				return false
			case interrupted:
				continue
			}
			if c.err != nil {
				return true
			}
		}
		for c.next < c.n {
			i := c.next
			c.next++
			if resp, ok := c.answer(c.in.bufs[i][:c.in.hs[i].n], c.out.bufs[c.queued]); ok {
				c.queue(i, len(resp))
				if c.queued == batchSize && !c.send(fd) {
					return true
				}
				continue
			}
			c.general = i
			c.send(fd)
			return true
		}
		if !c.send(fd) {
			return true
		}
	}
}

// recvResult says what a recv did.
type recvResult int

const (
	read        recvResult = iota // a batch, or an error in c.err
	idle                          // no message for busyWait
	interrupted                   // a signal: look at c.stop and try again
)

// recv reads a batch, waiting at most busyWait for its first message.
func (c *batchConn) recv(fd uintptr) recvResult {
	for i := range c.in.hs {
		c.in.hs[i].hdr.Namelen = unix.SizeofSockaddrInet6
		if c.wild {
			c.in.hs[i].hdr.Control = &c.in.ctrl[i][0]
			c.in.hs[i].hdr.SetControllen(ctrlSize)
		}
	}
	n, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&c.in.hs[0])), batchSize, unix.MSG_WAITFORONE, 0, 0)
	switch e {
	case 0:
		c.n, c.next, c.err = int(n), 0, nil
	case unix.EAGAIN:
		return idle
	case unix.EINTR:
		return interrupted
	default:
		c.n, c.next, c.err = 0, 0, e
	}
	return read
}

// send sends the queued answers; false if the socket's buffer is full
// (the rest waits for RawConn.Write in nextGeneral).
func (c *batchConn) send(fd uintptr) bool {
	for c.sent < c.queued {
		n, _, e := unix.RawSyscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&c.out.hs[c.sent])), uintptr(c.queued-c.sent), unix.MSG_DONTWAIT, 0, 0)
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
	c.queued, c.sent = 0, 0
	return true
}

// writeTo sends one of the general path's answers, with oob as its
// control message (nil if none). The socket is blocking (batchConn), so
// the runtime's own writes would wait in the kernel while the send
// buffer is full: a goroutine and its thread stuck past any write
// deadline, and Close, which waits for every call on a socket it takes
// for non-blocking, stuck behind it. Here the call never waits
// (MSG_DONTWAIT); a full buffer waits in the poller, as for any socket.
func (c *batchConn) writeTo(b, oob []byte, to *net.UDPAddr) (int, error) {
	ap := to.AddrPort()
	var sa unix.Sockaddr
	if c.v6 {
		sa6 := &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
		if z := ap.Addr().Zone(); z != "" {
			if ifi, err := net.InterfaceByName(z); err == nil {
				sa6.ZoneId = uint32(ifi.Index)
			}
		}
		sa = sa6
	} else if a := ap.Addr().Unmap(); a.Is4() {
		sa = &unix.SockaddrInet4{Port: int(ap.Port()), Addr: a.As4()}
	} else {
		return 0, &net.OpError{Op: "write", Net: "udp", Addr: to, Err: unix.EAFNOSUPPORT}
	}
	var n int
	var serr error
	err := c.rc.Write(func(fd uintptr) bool {
		n, serr = unix.SendmsgN(int(fd), b, oob, sa, unix.MSG_DONTWAIT)
		return serr != unix.EAGAIN && serr != unix.EINTR
	})
	if err == nil && serr != nil {
		err = os.NewSyscallError("sendmsg", serr)
	}
	if err != nil {
		return n, &net.OpError{Op: "write", Net: "udp", Addr: to, Err: err}
	}
	return n, nil
}

// queue queues the answer written to out.bufs[queued], of length n, to
// the sender of message i.
func (c *batchConn) queue(i, n int) {
	j := c.queued
	c.out.names[j] = c.in.names[i]
	c.out.hs[j].hdr.Namelen = c.in.hs[i].hdr.Namelen
	c.out.iov[j].SetLen(n)
	if c.wild {
		h := &c.out.hs[j].hdr
		h.Control = nil
		h.SetControllen(0)
		if l := replyControl(c.in.ctrl[i][:c.in.hs[i].hdr.Controllen], c.out.ctrl[j][:]); l > 0 {
			h.Control = &c.out.ctrl[j][0]
			h.SetControllen(l)
		}
	}
	c.queued++
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
