package syslog

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Reconnection back-off: doubled after each failure, with jitter so that
// many services do not return to a restarted syslog host at once.
const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = 10 * time.Second
)

// sender owns the queue and the connection that Handlers share.
type sender struct {
	hdr          header
	network      string // "udp", "tcp" or "tls"
	addr         string
	tls          *tls.Config
	max          int // message size limit
	dialTimeout  time.Duration
	writeTimeout time.Duration
	closeTimeout time.Duration
	now          func() time.Time

	mu      sync.RWMutex // guards closed against closing the queue during a send
	closed  bool
	queue   chan []byte
	dropped atomic.Uint64

	ctx    context.Context // cancelled when Close gives up
	cancel context.CancelFunc
	done   chan struct{} // closed when run returns

	// Owned by run; read by close after done.
	conn     net.Conn
	stopConn func() bool // unregisters the close-on-cancel hook of conn
	reported uint64      // drops already announced by a notice
	backoff  time.Duration
	lastErr  error
	unsent   uint64 // messages given up on at Close
}

// frame prepares a message for the transport: UDP sends it as it is, TCP
// and TLS prefix its length (octet counting, RFC 6587 §3.4.1, RFC 5425 §4.3).
func (s *sender) frame(msg []byte) []byte {
	if s.network == "udp" {
		return msg
	}
	b := strconv.AppendInt(make([]byte, 0, len(msg)+6), int64(len(msg)), 10)
	b = append(b, ' ')
	return append(b, msg...)
}

func (s *sender) enqueue(b []byte) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	select {
	case s.queue <- b:
	default:
		s.dropped.Add(1)
	}
	return nil
}

func (s *sender) close() error {
	s.mu.Lock()
	first := !s.closed
	if first {
		s.closed = true
		close(s.queue) // run sends what is left, then returns
	}
	s.mu.Unlock()
	if !first {
		<-s.done
		return nil
	}
	t := time.NewTimer(s.closeTimeout)
	defer t.Stop()
	select {
	case <-s.done:
	case <-t.C:
		s.cancel()
		<-s.done
	}
	s.cancel()
	if s.unsent > 0 {
		return fmt.Errorf("syslog: close: gave up on %d message(s) after %v: %w", s.unsent, s.closeTimeout, s.lastErr)
	}
	return nil
}

// run sends queued messages until Close closes the queue.
func (s *sender) run() {
	defer close(s.done)
	defer s.disconnect()
	for msg := range s.queue {
		if s.send(msg) != nil {
			// Close gave up: everything still queued is lost.
			s.unsent = 1
			for range s.queue {
				s.unsent++
			}
			s.dropped.Add(s.unsent)
			return
		}
	}
	if s.dropped.Load() > s.reported {
		s.send(nil) // announce the last drops
	}
}

// send writes msg (if not nil), reconnecting with back-off until it
// succeeds or Close gives up.
func (s *sender) send(msg []byte) error {
	for {
		err := s.trySend(msg)
		if err == nil {
			s.backoff = 0
			return nil
		}
		if s.lastErr == nil || s.ctx.Err() == nil {
			s.lastErr = err // keep the cause, not Close's cancellation
		}
		s.disconnect()
		s.backoff = min(max(2*s.backoff, minBackoff), maxBackoff)
		wait := s.backoff/2 + rand.N(s.backoff/2)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-s.ctx.Done():
			t.Stop()
			return err
		}
	}
}

func (s *sender) trySend(msg []byte) error {
	if s.ctx.Err() != nil {
		return s.ctx.Err()
	}
	if s.conn == nil {
		if err := s.connect(); err != nil {
			return err
		}
	}
	// Announce drops first, so that they are reported as soon as messages
	// flow again: after a burst or when the connection recovers.
	if n := s.dropped.Load() - s.reported; n > 0 {
		if err := s.write(s.notice(n)); err != nil {
			return err
		}
		s.reported += n
	}
	if msg == nil {
		return nil
	}
	return s.write(msg)
}

// notice is the message that reports n dropped messages.
func (s *sender) notice(n uint64) []byte {
	text := fmt.Sprintf("%d messages dropped", n)
	if n == 1 {
		text = "1 message dropped"
	}
	fields := []field{{key: "dropped", value: strconv.FormatUint(n, 10)}}
	return s.frame(s.hdr.format(nil, s.now(), slog.LevelWarn, text, fields, s.max))
}

func (s *sender) connect() error {
	ctx, cancel := context.WithTimeout(s.ctx, s.dialTimeout)
	defer cancel()
	var c net.Conn
	var err error
	if s.tls != nil {
		d := &tls.Dialer{Config: s.tls}
		c, err = d.DialContext(ctx, "tcp", s.addr)
	} else {
		var d net.Dialer
		c, err = d.DialContext(ctx, s.network, s.addr)
	}
	if err != nil {
		return err
	}
	s.conn = c
	// Close interrupts a blocked write when Close gives up.
	s.stopConn = context.AfterFunc(s.ctx, func() { c.Close() })
	if s.network != "udp" {
		// A syslog receiver never sends; reading notices when it closes the
		// connection, and closing our end makes the next write fail and
		// reconnect rather than vanish into a half-closed connection.
		go func() {
			io.Copy(io.Discard, c)
			c.Close()
		}()
	}
	return nil
}

func (s *sender) write(b []byte) error {
	if err := s.conn.SetWriteDeadline(time.Now().Add(s.writeTimeout)); err != nil {
		return err
	}
	_, err := s.conn.Write(b)
	return err
}

func (s *sender) disconnect() {
	if s.conn == nil {
		return
	}
	s.stopConn()
	s.conn.Close() // nothing to do about an error: the next dial starts afresh
	s.conn = nil
}
