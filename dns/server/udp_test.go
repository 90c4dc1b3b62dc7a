package server

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/authority"
)

// TestFastConnDeadlines: the socket miekg reads from keeps the deadlines
// that wake a reader, a past one (how miekg's Shutdown stops reading)
// and the zero one, and a message for the general path still arrives
// after a future deadline, which the batched loop does not arm.
func TestFastConnDeadlines(t *testing.T) {
	set := fastSet(t)
	s, err := New(Config{Zones: func() *authority.Set { return set }})
	if err != nil {
		t.Fatal(err)
	}
	pc, ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	c := s.fastConn(pc)
	defer c.Close()
	buf := make([]byte, dns.MaxMsgSize)

	c.SetReadDeadline(time.Now().Add(-time.Second))
	if _, _, err := c.ReadFrom(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("ReadFrom after a past deadline: %v, want %v", err, os.ErrDeadlineExceeded)
	}

	c.SetReadDeadline(time.Time{})
	c.SetReadDeadline(time.Now().Add(time.Hour))
	chaos := new(dns.Msg)
	chaos.SetQuestion("version.bind.", dns.TypeTXT)
	chaos.Question[0].Qclass = dns.ClassCHAOS
	q, _ := chaos.Pack()
	conn, err := net.Dial("udp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write(q); err != nil {
		t.Fatal(err)
	}
	n, _, err := c.ReadFrom(buf)
	if err != nil || string(buf[:n]) != string(q) {
		t.Fatalf("ReadFrom = %x, %v; want the query %x", buf[:n], err, q)
	}
}
