package service

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/quercus-dev/quercus/internal/peer"
	"golang.org/x/net/dns/dnsmessage"
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
::ffff:192.0.2.20 mapped.lan
not-an-address bogus.lan
`), 0o644)
	table := readHostsFile(path)

	addr := fakeNameServer(t)
	for _, network := range []string{"udp", "tcp"} {
		r := hostsResolver(addr, network, table)
		for _, tc := range []struct {
			name string
			want []string
		}{
			{"localhost.", []string{"127.0.0.1", "::1"}},
			{"GIT.lan.", []string{"192.0.2.10"}},
			{"gitea.", []string{"192.0.2.10"}},
			{"linklocal.lan.", []string{"fe80::1"}},
			{"mapped.lan.", []string{"192.0.2.20"}},          // an IPv4 address, as Go reads it
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
		// The hosts file has addresses only: other types of its names
		// are the name server's, as they are for Go's own resolver.
		if mx, err := r.LookupMX(context.Background(), "git.lan."); err != nil || len(mx) != 1 || mx[0].Host != "mail.example." {
			t.Errorf("%s: LookupMX(git.lan.) = %v, %v; want the name server's mail.example.", network, mx, err)
		}
		if txt, err := r.LookupTXT(context.Background(), "localhost."); err != nil || !slices.Equal(txt, []string{"from the server"}) {
			t.Errorf("%s: LookupTXT(localhost.) = %q, %v; want the name server's", network, txt, err)
		}
		// A reverse lookup of a file's address gives all its names, in
		// file order, as Go's resolver reads the file; other addresses
		// are the name server's.
		for addr, want := range map[string][]string{
			"192.0.2.10": {"git.lan.", "gitea."},
			"::1":        {"localhost.", "ip6-localhost."},
			"192.0.2.20": {"mapped.lan."},
		} {
			if got, err := r.LookupAddr(context.Background(), addr); err != nil || !slices.Equal(got, want) {
				t.Errorf("%s: LookupAddr(%s) = %q, %v; want %q", network, addr, got, err, want)
			}
		}
		if got, err := r.LookupAddr(context.Background(), "192.0.2.99"); err == nil {
			t.Errorf("%s: LookupAddr(192.0.2.99) = %q from the table; the name server has no PTR", network, got)
		}
		// An alias is a CNAME of the line's first name, as Go's resolver
		// reads the file.
		for name, want := range map[string]string{"gitea.": "git.lan.", "GIT.lan.": "git.lan.", "ip6-localhost.": "localhost."} {
			if got, err := r.LookupCNAME(context.Background(), name); err != nil || got != want {
				t.Errorf("%s: LookupCNAME(%q) = %q, %v; want %q", network, name, got, err, want)
			}
		}
	}
}

// fakeNameServer answers every MX and TXT question, every other A
// question with 198.51.100.1 and every other with no records, over UDP
// and TCP on one port, and refuses the hosts table's names for other
// types, which must never reach it.
func fakeNameServer(t *testing.T) string {
	h := dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		switch name := q.Question[0].Name; {
		case q.Question[0].Qtype == dns.TypeMX:
			m.Answer = append(m.Answer, &dns.MX{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeMX, Class: dns.ClassINET, Ttl: 60}, Preference: 10, Mx: "mail.example."})
		case q.Question[0].Qtype == dns.TypeTXT:
			m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: []string{"from the server"}})
		case name == "bogus.lan.":
			m.Rcode = dns.RcodeNameError
		case dns.IsSubDomain("lan.", name) || name == "localhost." || name == "gitea." ||
			name == "10.2.0.192.in-addr.arpa." || name == "20.2.0.192.in-addr.arpa.":
			m.Rcode = dns.RcodeRefused
		case q.Question[0].Qtype == dns.TypeA:
			m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(198, 51, 100, 1)})
		}
		w.WriteMsg(m)
	})
	pc, ln := peer.ListenBoth(t)
	for _, s := range []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}} {
		go s.ActivateAndServe()
		t.Cleanup(func() { s.Shutdown() })
	}
	return pc.LocalAddr().String()
}

// hostsResolver is a Go resolver that asks the name server at addr
// through table, over network or, if it is "", the network the resolver
// picks.
func hostsResolver(addr, network string, table hostsTable) *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, picked, _ string) (net.Conn, error) {
		if network != "" {
			picked = network
		}
		var d net.Dialer
		c, err := d.DialContext(ctx, picked, addr)
		if err != nil {
			return nil, err
		}
		return withHosts(c, table), nil
	}}
}

// TestHostsSearchDomains: a hosts name short enough to be asked with
// the search domains first keeps the hosts file's addresses in those
// forms, as Go's resolver answers it from the file before it tries any
// of them, even where the name server has the longer name; a longer
// hosts name, asked alone first, does not.
func TestHostsSearchDomains(t *testing.T) {
	dir := t.TempDir()
	hosts, conf := filepath.Join(dir, "hosts"), filepath.Join(dir, "resolv.conf")
	os.WriteFile(hosts, []byte("192.0.2.10 git\n192.0.2.11 two.part\n"), 0o644)
	os.WriteFile(conf, []byte("nameserver 192.0.2.53\ndomain ignored.example\nsearch Corp.Example. other.example\noptions ndots:2 edns0\n"), 0o644)
	table := readHostsFile(hosts)
	rc := readResolvConf(conf)
	table.search, table.ndots = rc.search, rc.ndots
	if len(table.search) < 2 || table.search[0] != "corp.example" || table.search[1] != "other.example" || table.ndots != 2 {
		t.Fatalf("searchList = %q, %d; want corp.example, other.example (then the host name's domain), 2", table.search, table.ndots)
	}
	table.ndots = 1

	addr := fakeNameServer(t)
	r := hostsResolver(addr, "", table)
	for name, want := range map[string]string{
		"git.corp.example.":      "192.0.2.10",
		"GIT.other.example.":     "192.0.2.10",
		"git.elsewhere.example.": "198.51.100.1", // not a search domain
		"two.part.corp.example.": "198.51.100.1", // asked alone first
	} {
		got, err := r.LookupHost(context.Background(), name)
		if err != nil || !slices.Equal(got, []string{want}) {
			t.Errorf("LookupHost(%q) = %v, %v; want [%s]", name, got, err, want)
		}
	}
}

func TestReverseAddr(t *testing.T) {
	for _, tc := range []struct {
		name string
		want string // "": not a reverse name
	}{
		{"10.2.0.192.in-addr.arpa.", "192.0.2.10"},
		{"10.2.0.192.IN-ADDR.ARPA", "192.0.2.10"},
		{"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.", "::1"},
		{"B.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.ip6.arpa.", "2001:db8::b"},
		{"2.0.192.in-addr.arpa.", ""},
		{"010.2.0.192.in-addr.arpa.", ""},
		{"1..0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.", ""},
		{"10.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.", ""},
		{"g.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.", ""},
		{"example.org.", ""},
	} {
		a, ok := reverseAddr(tc.name)
		if got := a.String(); ok != (tc.want != "") || ok && got != tc.want {
			t.Errorf("reverseAddr(%q) = %s, %v; want %q", tc.name, got, ok, tc.want)
		}
	}
}

// TestHostsPTRSkipsUnencodable: a name of the file that cannot be put in
// a DNS message (a label longer than 63 bytes, an empty label) is left
// out of the reverse answer, which still comes from the table with the
// other names; it is not sent to the name servers instead.
func TestHostsPTRSkipsUnencodable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hosts")
	long := strings.Repeat("a", 64) + ".lan"
	os.WriteFile(path, []byte("192.0.2.30 ok.lan "+long+" empty..label also.lan\n192.0.2.31 "+long+"\n"), 0o644)
	table := readHostsFile(path)
	ptrs := func(addr string) ([]string, bool) {
		name, err := dnsmessage.NewName(addr)
		if err != nil {
			t.Fatal(err)
		}
		b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: 7, RecursionDesired: true})
		b.StartQuestions()
		b.Question(dnsmessage.Question{Name: name, Type: dnsmessage.TypePTR, Class: dnsmessage.ClassINET})
		q, err := b.Finish()
		if err != nil {
			t.Fatal(err)
		}
		a := table.answer(q)
		if a == nil {
			return nil, false
		}
		var m dnsmessage.Message
		if err := m.Unpack(a); err != nil {
			t.Fatalf("answer for %s: %v", addr, err)
		}
		var got []string
		for _, rr := range m.Answers {
			got = append(got, rr.Body.(*dnsmessage.PTRResource).PTR.String())
		}
		return got, true
	}
	if got, ok := ptrs("30.2.0.192.in-addr.arpa."); !ok || !slices.Equal(got, []string{"ok.lan.", "also.lan."}) {
		t.Errorf("PTR 192.0.2.30 = %q (from the table: %v); want ok.lan. and also.lan. from the table", got, ok)
	}
	// No name left: the table has nothing to say, the name servers may.
	if got, ok := ptrs("31.2.0.192.in-addr.arpa."); ok {
		t.Errorf("PTR 192.0.2.31 = %q from the table, which has no name it can send", got)
	}
}

// TestHostsLargeAnswer: an answer from the table too large for the
// query's UDP payload size comes back truncated (TC), as a name server's
// would, so that Go's resolver asks again over TCP and gets it whole; a
// datagram cut at the resolver's buffer failed to parse.
func TestHostsLargeAnswer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hosts")
	var line strings.Builder
	var want []string
	line.WriteString("192.0.2.40")
	for i := range 60 {
		name := fmt.Sprintf("host-%02d.many-names.lan", i)
		line.WriteString(" " + name)
		want = append(want, name+".")
	}
	os.WriteFile(path, []byte(line.String()+"\n"), 0o644)
	table := readHostsFile(path)
	addr := fakeNameServer(t)
	r := hostsResolver(addr, "", table)
	if got, err := r.LookupAddr(context.Background(), "192.0.2.40"); err != nil || !slices.Equal(got, want) {
		t.Errorf("LookupAddr(192.0.2.40) = %d names, %v; want the file's %d", len(got), err, len(want))
	}
}
