package server

import (
	"net"
	"runtime"
	"sync"
	"time"
)

// fastPath turns the fast path off in a whole binary when set to "off"
// at link time (-ldflags -X), for bench/dns to measure the general path
// alone; Config.NoFastPath does it for one server.
var fastPath = "on"

// udpReadBuffer is the socket receive buffer Listen asks for (the kernel
// caps it at net.core.rmem_max): the default, about 200 KiB, holds some 200
// queries, 10 ms at 20,000 queries per second, and a server descheduled
// for longer on a busy machine drops the rest.
const udpReadBuffer = 1 << 20

// fastConn is the UDP socket as miekg's server sees it: its ReadFrom
// answers every query the fast path can, on the reading goroutine, and
// returns only the others, which miekg unpacks and hands to ServeDNS as
// before. The fast path thus needs no goroutine, no dns.Msg and no
// allocation per query. On 64-bit Linux it reads and writes batches of
// up to batchSize messages with recvmmsg and sendmmsg (batchConn): a
// batch costs two system calls however many queries it holds, which is
// what lets one core keep up with bursts. Answers are sent when the batch
// read is used up, or before a message is handed to the general path.
type fastConn struct {
	*net.UDPConn
	s     *Server
	batch *batchConn // nil: one message at a time
	once  sync.Once  // gives the reader's P back on the first Close
	in    []byte
	out   []byte
}

// procs keeps GOMAXPROCS above the live batched readers, each of which
// may hold a P while it waits for queries (batchConn), so that the rest
// of the process keeps one. It raises GOMAXPROCS only when needed and
// gives back what it raised as readers close, to what it was before,
// unless someone else set it meanwhile: a process that starts and stops
// servers (tests, reloads) must not end with one P more per server.
var procs struct {
	sync.Mutex
	live int // open batched readers
	base int // GOMAXPROCS before the first raise
	set  int // the value last set here, 0 if none is in force
}

// cpus is the CPUs the process may use: GOMAXPROCS as the runtime chose
// it (from the affinity mask and a container's CPU limit) or as the
// operator set it, not as readers raised it, and no more than the
// affinity mask allows.
func cpus() int {
	procs.Lock()
	defer procs.Unlock()
	n := runtime.GOMAXPROCS(0)
	if procs.set != 0 && n == procs.set {
		n = procs.base
	}
	return max(1, min(n, runtime.NumCPU()))
}

func acquireProc() {
	procs.Lock()
	defer procs.Unlock()
	procs.live++
	cur := runtime.GOMAXPROCS(0)
	if procs.set == 0 || cur != procs.set {
		procs.base, procs.set = cur, 0 // ours is gone: start again from here
	}
	if need := procs.live + 1; cur < need {
		runtime.GOMAXPROCS(need)
		procs.set = need
	}
}

func releaseProc() {
	procs.Lock()
	defer procs.Unlock()
	procs.live--
	if procs.set == 0 || runtime.GOMAXPROCS(0) != procs.set {
		procs.set = 0 // never raised, or set by someone else since: theirs
		return
	}
	want := max(procs.base, procs.live+1)
	runtime.GOMAXPROCS(want)
	procs.set = want
	if want == procs.base {
		procs.set = 0
	}
}

// fastConn wraps pc for the fast path, or returns pc unchanged when the
// fast path is off or cannot be used. A socket bound to the unspecified
// address must answer each query from the address it was sent to: the
// batched path does, from the destination the kernel reports with each
// message (pktinfo_linux.go), for the fast path's answers and, through
// replyAddr, the general path's. Where it cannot (no batchConn, or a
// socket that does not report destinations), the socket keeps the
// general path, where miekg reads the control messages itself.
func (s *Server) fastConn(pc net.PacketConn) net.PacketConn {
	u, ok := pc.(*net.UDPConn)
	if !ok {
		return pc
	}
	if s.cfg.NoFastPath || fastPath == "off" {
		return pc
	}
	a, ok := u.LocalAddr().(*net.UDPAddr)
	if !ok {
		return pc
	}
	wild := a.IP.IsUnspecified()
	c := &fastConn{UDPConn: u, s: s}
	if b, err := newBatchConn(u, s.fastAnswer, wild); err == nil {
		c.batch = b
		acquireProc()
	} else if wild {
		return pc
	} else {
		c.in, c.out = make([]byte, 65535), make([]byte, DefaultUDPSize)
	}
	return c
}

// ReadFrom returns the next message the fast path did not answer.
func (c *fastConn) ReadFrom(b []byte) (int, net.Addr, error) {
	if c.batch != nil {
		return c.readBatch(b)
	}
	for {
		n, from, err := c.UDPConn.ReadFromUDPAddrPort(c.in)
		if err != nil {
			return 0, nil, err
		}
		if resp, ok := c.s.fastAnswer(c.in[:n], c.out); ok {
			// A failed write is a lost answer, as in miekg's writer;
			// the client asks again.
			c.UDPConn.WriteToUDPAddrPort(resp, from)
			continue
		}
		return copy(b, c.in[:n]), net.UDPAddrFromAddrPort(from), nil
	}
}

func (c *fastConn) readBatch(b []byte) (int, net.Addr, error) {
	pkt, from, oob, err := c.batch.nextGeneral()
	if err != nil {
		return 0, nil, err
	}
	if oob != nil {
		return copy(b, pkt), &replyAddr{UDPAddr: *net.UDPAddrFromAddrPort(from), oob: oob}, nil
	}
	return copy(b, pkt), net.UDPAddrFromAddrPort(from), nil
}

// SetReadDeadline passes on only deadlines that are not in the future
// when the batched loop reads, and tells the loop to return to the
// poller, where the deadline takes effect. miekg's server sets one
// ReadTimeout ahead before each read, only to look again at whether it
// was shut down, which it also signals with a deadline in the past
// (passed on). A pending deadline is a runtime timer, and with a timer
// pending the runtime waits for the socket with a timeout: the kernel
// then arms and cancels a timer on every wake-up, a cost per query at
// moderate rates (bench/README.md) for a wake-up nobody needs.
func (c *fastConn) SetReadDeadline(t time.Time) error {
	if c.batch != nil {
		if time.Until(t) > 0 {
			return nil
		}
		c.batch.stop.Store(!t.IsZero())
	}
	return c.UDPConn.SetReadDeadline(t)
}

// Close stops the batched reader first: the socket is closed only once
// no callback of RawConn.Read runs, and the reader's callback returns
// only when told to or after busyWait without a query.
func (c *fastConn) Close() error {
	if c.batch != nil {
		c.batch.stop.Store(true)
		c.once.Do(releaseProc)
	}
	return c.UDPConn.Close()
}

// replyAddr is where a query to a socket bound to the unspecified
// address came from, as ReadFrom returns it to the general path, with
// the control message that makes WriteTo answer it from the address it
// was sent to.
type replyAddr struct {
	net.UDPAddr
	oob []byte
}

// WriteTo sends the general path's answers; on the batched path's
// blocking socket, without waiting in the kernel (batchConn.writeTo).
func (c *fastConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if c.batch != nil {
		switch a := addr.(type) {
		case *replyAddr:
			return c.batch.writeTo(b, a.oob, &a.UDPAddr)
		case *net.UDPAddr:
			return c.batch.writeTo(b, nil, a)
		}
	}
	if r, ok := addr.(*replyAddr); ok {
		n, _, err := c.UDPConn.WriteMsgUDP(b, r.oob, &r.UDPAddr)
		return n, err
	}
	return c.UDPConn.WriteTo(b, addr)
}
