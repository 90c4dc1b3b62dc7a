package influx

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// A sender delivers encoded lines to one endpoint. Calls are serialized
// by the Pusher; ctx always has a deadline.
type sender interface {
	send(ctx context.Context, lines []byte) error
	close() error
}

// HTTPError is a write that the server refused with a non-2xx status.
type HTTPError struct {
	StatusCode int
	Message    string // the server's explanation, from its body
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("server answered %d %s: %s", e.StatusCode, http.StatusText(e.StatusCode), e.Message)
}

// newSender parses and checks rawURL (see Config.URL).
func newSender(rawURL string) (sender, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// Not the url.Error itself: it repeats the URL, password included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("influx: bad URL: %w", err)
	}
	if u.User != nil {
		return nil, fmt.Errorf("influx: the URL holds credentials, which the process list shows: set %s and %s instead",
			EnvUsername, EnvPassword)
	}
	switch u.Scheme {
	case "udp", "tcp":
		if u.Port() == "" || u.Hostname() == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Opaque != "" {
			return nil, fmt.Errorf("influx: bad URL: want %s://host:port", u.Scheme)
		}
		if u.Scheme == "udp" {
			return &udpSender{addr: u.Host}, nil
		}
		return &tcpSender{addr: u.Host}, nil
	case "http", "https":
		if u.Host == "" || !strings.HasSuffix(u.Path, "/write") || u.Query().Get("db") == "" {
			return nil, fmt.Errorf("influx: bad URL: want %s://host:port/write?db=NAME", u.Scheme)
		}
		s := &httpSender{url: u.String()}
		s.user, s.auth = os.LookupEnv(EnvUsername)
		s.password = os.Getenv(EnvPassword)
		if !s.auth && s.password != "" {
			return nil, fmt.Errorf("influx: %s is set but %s is not", EnvPassword, EnvUsername)
		}
		if u.Scheme == "https" {
			// Load the CA certificates now: crypto/x509 reads them on
			// first use, which may come after the service has taken
			// filesystem access away from itself.
			x509.SystemCertPool()
		}
		s.client = &http.Client{
			// Keep the connection from one push to the next.
			Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, IdleConnTimeout: time.Minute},
			// A redirected write is a misconfiguration; following it
			// could also carry the credentials elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
		return s, nil
	}
	// The URL is not repeated in errors: a mistyped one may hold a password.
	return nil, fmt.Errorf("influx: bad URL: scheme %q: want udp, tcp, http or https", u.Scheme)
}

// bound makes c's I/O give up at ctx's deadline or cancellation. Call the
// returned function when done.
func bound(ctx context.Context, c net.Conn) (stop func() bool) {
	deadline, _ := ctx.Deadline()
	c.SetDeadline(deadline)
	return context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
}

var dialer net.Dialer

// maxDatagram keeps datagrams below the usual 1500-byte MTU with room for
// IP, UDP and tunnel headers, so that they are not fragmented.
const maxDatagram = 1400

// udpSender sends each push from a fresh socket: UDP has no connection to
// keep, and a new socket also picks up a changed DNS name.
type udpSender struct{ addr string }

func (s *udpSender) send(ctx context.Context, lines []byte) error {
	c, err := dialer.DialContext(ctx, "udp", s.addr)
	if err != nil {
		return err
	}
	defer c.Close()
	defer bound(ctx, c)()
	for _, d := range datagrams(lines, maxDatagram) {
		if _, err := c.Write(d); err != nil {
			return err
		}
	}
	return nil
}

func (s *udpSender) close() error { return nil }

// datagrams splits lines into chunks of whole lines of at most max bytes.
// A line longer than max gets a chunk of its own.
func datagrams(lines []byte, max int) [][]byte {
	var out [][]byte
	for len(lines) > 0 {
		n := 0 // the end of the chunk
		for n < len(lines) {
			end := len(lines)
			if i := bytes.IndexByte(lines[n:], '\n'); i >= 0 {
				end = n + i + 1
			}
			if n > 0 && end > max {
				break
			}
			n = end
		}
		out = append(out, lines[:n])
		lines = lines[n:]
	}
	return out
}

// tcpSender keeps one connection open across pushes and opens a new one
// after a failure.
type tcpSender struct {
	addr string
	conn net.Conn
}

func (s *tcpSender) send(ctx context.Context, lines []byte) error {
	if s.conn != nil && closedByPeer(s.conn) {
		s.close()
	}
	if s.conn == nil {
		c, err := dialer.DialContext(ctx, "tcp", s.addr)
		if err != nil {
			return err
		}
		s.conn = c
	}
	defer bound(ctx, s.conn)()
	if _, err := s.conn.Write(lines); err != nil {
		s.close() // a partial line is on the wire: start afresh
		return err
	}
	return nil
}

// closedByPeer reports whether the server has closed c, say because it
// restarted. A write to such a connection succeeds but its data is lost,
// so look before writing: the server never sends anything, so a read that
// does not time out returns EOF or an error.
func closedByPeer(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(time.Millisecond))
	var b [1]byte
	_, err := c.Read(b[:])
	return !errors.Is(err, os.ErrDeadlineExceeded)
}

func (s *tcpSender) close() error {
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	return err
}

// httpSender posts to the InfluxDB 1.x write API.
type httpSender struct {
	url            string
	client         *http.Client
	auth           bool
	user, password string
}

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 4 << 10

func (s *httpSender) send(ctx context.Context, lines []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(lines))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	if s.auth {
		req.SetBasicAuth(s.user, s.password)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	if resp.StatusCode/100 == 2 {
		return nil
	}
	return &HTTPError{StatusCode: resp.StatusCode, Message: errorMessage(body)}
}

// errorMessage extracts the message of an error answer: InfluxDB sends
// {"error":"..."}, proxies plain text or HTML.
func errorMessage(body []byte) string {
	var v struct{ Error string }
	if json.Unmarshal(body, &v) == nil && v.Error != "" {
		return v.Error
	}
	msg := strings.TrimSpace(string(body))
	if msg == "" {
		return "(no message)"
	}
	return msg
}

func (s *httpSender) close() error {
	s.client.CloseIdleConnections()
	return nil
}
