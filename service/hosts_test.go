package service

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/miekg/dns"
)

// TestHostsResolver: a resolver pinned with a hosts table answers the
// table's names itself, whatever their case, with the asked family
// only, over UDP and over TCP, and sends every other name to the name
// server.
func TestHostsResolver(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hosts")
	os.WriteFile(path, []byte(`# comment
127.0.0.1 localhost
::1 localhost ip6-localhost
192.0.2.10 git.lan gitea # the forge
fe80::1%eth0 linklocal.lan
not-an-address bogus.lan
`), 0o644)
	table := readHostsFile(path)

	addr := fakeNameServer(t)
	for _, network := range []string{"udp", "tcp"} {
		r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return withHosts(c, table), nil
		}}
		for _, tc := range []struct {
			name string
			want []string
		}{
			{"localhost.", []string{"127.0.0.1", "::1"}},
			{"GIT.lan.", []string{"192.0.2.10"}},
			{"gitea.", []string{"192.0.2.10"}},
			{"linklocal.lan.", []string{"fe80::1"}},
			{"elsewhere.example.", []string{"198.51.100.1"}}, // the name server's
		} {
			got, err := r.LookupHost(context.Background(), tc.name)
			slices.Sort(got)
			slices.Sort(tc.want)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("%s: LookupHost(%q) = %v, %v; want %v", network, tc.name, got, err, tc.want)
			}
		}
		if _, err := r.LookupHost(context.Background(), "bogus.lan."); err == nil {
			t.Errorf("%s: a line without an address made a name", network)
		}
	}
}

// fakeNameServer answers every A question with 198.51.100.1 and every
// other with no records, over UDP and TCP on one port, and refuses the
// hosts table's names, which must never reach it.
func fakeNameServer(t *testing.T) string {
	h := dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		switch name := q.Question[0].Name; {
		case name == "bogus.lan.":
			m.Rcode = dns.RcodeNameError
		case dns.IsSubDomain("lan.", name) || name == "localhost." || name == "gitea.":
			m.Rcode = dns.RcodeRefused
		case q.Question[0].Qtype == dns.TypeA:
			m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(198, 51, 100, 1)})
		}
		w.WriteMsg(m)
	})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}} {
		go s.ActivateAndServe()
		t.Cleanup(func() { s.Shutdown() })
	}
	return pc.LocalAddr().String()
}
