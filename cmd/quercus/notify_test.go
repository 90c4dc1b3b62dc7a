package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/tsig"
	"github.com/quercus-dev/quercus/internal/peer"
)

// notifyServer is a DNS server that takes NOTIFY messages as dns-primary
// does: it verifies their TSIG with tsig.Provider, answers REFUSED unless
// the key may notify for the zone, NOTAUTH for zones it does not serve,
// and records what it accepted.
type notifyServer struct {
	addr string // host:port, UDP and TCP

	mu  sync.Mutex
	got []string // "zone proto key" of each accepted NOTIFY
}

type serverOptions struct {
	zones    []string // served; default example.com. and example.org.
	dropUDP  bool     // read UDP messages but never answer them
	noTCP    bool     // listen on UDP only
	unsigned bool     // answer without TSIG
	forged   bool     // sign answers with other secrets than the keys'
}

// forger verifies with one provider and signs with another.
type forger struct{ verify, sign dns.TsigProvider }

func (f forger) Generate(msg []byte, t *dns.TSIG) ([]byte, error) { return f.sign.Generate(msg, t) }
func (f forger) Verify(msg []byte, t *dns.TSIG) error             { return f.verify.Verify(msg, t) }

func startNotifyServer(t *testing.T, keys []tsig.Key, opt serverOptions) *notifyServer {
	t.Helper()
	if opt.zones == nil {
		opt.zones = []string{"example.com.", "example.org."}
	}
	ring := tsig.NewKeyring(keys...)
	p := &tsig.Provider{Keys: func() *tsig.Keyring { return ring }}
	s := &notifyServer{}
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		key, err := p.Check(r, w.TsigStatus())
		if err != nil {
			m := p.Refuse(r, err)
			p.Sign(m, r, err)
			w.WriteMsg(m)
			return
		}
		m := new(dns.Msg).SetReply(r)
		switch q := r.Question; {
		case r.Opcode != dns.OpcodeNotify || len(q) != 1 || q[0].Qtype != dns.TypeSOA || !r.Authoritative:
			m.Rcode = dns.RcodeFormatError
		case !slices.Contains(opt.zones, dns.CanonicalName(q[0].Name)):
			m.Rcode = dns.RcodeNotAuth
		case key == nil || !key.Allows(tsig.Notify, q[0].Name):
			m.Rcode = dns.RcodeRefused
		default:
			m.Authoritative = true
			s.mu.Lock()
			s.got = append(s.got, fmt.Sprintf("%s %s %s", q[0].Name, w.LocalAddr().Network(), key.Name))
			s.mu.Unlock()
		}
		if !opt.unsigned {
			p.Sign(m, r, nil)
		}
		w.WriteMsg(m)
	})

	var signer dns.TsigProvider = p
	if opt.forged {
		var other []tsig.Key
		for _, k := range keys {
			k.Secret = "Zm9yZ2Vk"
			other = append(other, k)
		}
		otherRing := tsig.NewKeyring(other...)
		signer = forger{verify: p, sign: &tsig.Provider{Keys: func() *tsig.Keyring { return otherRing }}}
	}

	pc, ln := peer.ListenBoth(t)
	s.addr = pc.LocalAddr().String()
	if opt.dropUDP {
		go func() {
			buf := make([]byte, 512)
			for {
				if _, _, err := pc.ReadFrom(buf); err != nil {
					return
				}
			}
		}()
		t.Cleanup(func() { pc.Close() })
	} else {
		serve(t, &dns.Server{PacketConn: pc, Handler: handler, TsigProvider: signer})
	}
	if opt.noTCP {
		ln.Close()
	} else {
		serve(t, &dns.Server{Listener: ln, Handler: handler, TsigProvider: signer})
	}
	return s
}

// serve runs srv until the test ends.
func serve(t *testing.T, srv *dns.Server) {
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	done := make(chan struct{})
	go func() { srv.ActivateAndServe(); close(done) }()
	<-started
	t.Cleanup(func() { srv.Shutdown(); <-done })
}

// accepted returns what the server accepted so far, sorted.
func (s *notifyServer) accepted() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(slices.Values(s.got))
}

func mustKey(t *testing.T, name, secret string) tsig.Key {
	t.Helper()
	k, err := tsig.ParseFlag(name + ":hmac-sha256:" + secret)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestNotify(t *testing.T) {
	comKey := mustKey(t, "ops._notify.example.com", "c2VjcmV0")           // notify for example.com
	allKey := mustKey(t, "xfr._transfer.example.org", "b3RoZXIgc2VjcmV0") // notify for example.org
	serverKeys := []tsig.Key{comKey, allKey}
	wrongSecret := mustKey(t, "ops._notify.example.com", "d3Jvbmc=")
	unknownKey := mustKey(t, "who._notify.example.com", "c2VjcmV0")
	// for the servers that do not answer; the others get the default 2s
	// per try, so that a slow test machine does not cause a second NOTIFY
	fast := []string{"--timeout", "200ms", "--tries", "2"}

	tests := []struct {
		name     string
		opt      serverOptions
		flags    []string
		key      tsig.Key
		zones    []string
		code     int
		stdout   string   // exactly
		stderr   string   // a fragment; "" for none
		accepted []string // by the server
	}{
		{name: "accepted", key: comKey, zones: []string{"example.com"},
			stdout:   "example.com.: SERVER acknowledged the NOTIFY\n",
			accepted: []string{"example.com. udp ops._notify.example.com."}},
		{name: "several zones", key: allKey, zones: []string{"example.org", "sub.example.org."},
			opt:      serverOptions{zones: []string{"example.org.", "sub.example.org."}},
			stdout:   "example.org.: SERVER acknowledged the NOTIFY\nsub.example.org.: SERVER acknowledged the NOTIFY\n",
			accepted: []string{"example.org. udp xfr._transfer.example.org.", "sub.example.org. udp xfr._transfer.example.org."}},
		{name: "refused: key not for the zone", key: comKey, zones: []string{"example.org"}, code: 1,
			stderr: "example.org.: SERVER: REFUSED"},
		{name: "one of two refused", key: comKey, zones: []string{"example.org", "example.com"}, code: 1,
			stdout:   "example.com.: SERVER acknowledged the NOTIFY\n",
			stderr:   "example.org.: SERVER: REFUSED",
			accepted: []string{"example.com. udp ops._notify.example.com."}},
		{name: "wrong secret", key: wrongSecret, zones: []string{"example.com"}, code: 1,
			stderr: "NOTAUTH, TSIG error BADSIG: the server's secret for key ops._notify.example.com. differs"},
		{name: "unknown key", key: unknownKey, zones: []string{"example.com"}, code: 1,
			stderr: "NOTAUTH, TSIG error BADKEY: the server does not know key who._notify.example.com."},
		{name: "zone not served", key: comKey, zones: []string{"example.net"}, code: 1,
			stderr: "NOTAUTH: the server does not serve zone example.net."},
		{name: "answer not signed", key: comKey, zones: []string{"example.com"}, code: 1,
			opt:      serverOptions{unsigned: true},
			stderr:   "the answer is not signed",
			accepted: []string{"example.com. udp ops._notify.example.com."}},
		{name: "answer signed with another secret", key: comKey, zones: []string{"example.com"}, code: 1,
			opt:      serverOptions{forged: true},
			stderr:   "example.com.: SERVER: the answer's signature does not verify",
			accepted: []string{"example.com. udp ops._notify.example.com."}},
		{name: "UDP lost, TCP answers", key: comKey, zones: []string{"example.com"},
			opt:      serverOptions{dropUDP: true},
			flags:    fast,
			stdout:   "example.com.: SERVER acknowledged the NOTIFY\n",
			accepted: []string{"example.com. tcp ops._notify.example.com."}},
		{name: "no answer", key: comKey, zones: []string{"example.com"}, code: 1,
			opt:    serverOptions{dropUDP: true, noTCP: true},
			flags:  fast,
			stderr: "example.com.: SERVER: no answer after 2 tries over UDP and one over TCP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startNotifyServer(t, serverKeys, tt.opt)
			args := append([]string{"notify", "-v", "--server", s.addr}, tt.flags...)
			r := quercus(t, map[string]string{"QUERCUS_KEY": tt.key.Flag()}, append(args, tt.zones...)...)
			stdout := strings.ReplaceAll(tt.stdout, "SERVER", s.addr)
			stderr := strings.ReplaceAll(tt.stderr, "SERVER", s.addr)
			if r.code != tt.code || r.stdout != stdout || (stderr == "") != (r.stderr == "") || !strings.Contains(r.stderr, stderr) {
				t.Errorf("status %d, want %d\nstdout:\n%s\nwant:\n%s\nstderr:\n%s\nwant it to contain %q",
					r.code, tt.code, r.stdout, stdout, r.stderr, stderr)
			}
			if got := s.accepted(); !slices.Equal(got, tt.accepted) {
				t.Errorf("server accepted %q, want %q", got, tt.accepted)
			}
		})
	}
}

// TestNotifyKeySources: the key comes from --key-file, --key or the
// environment, and the command line wins.
func TestNotifyKeySources(t *testing.T) {
	good := mustKey(t, "ops._notify.example.com", "c2VjcmV0")
	bad := mustKey(t, "ops._notify.example.com", "d3Jvbmc=")
	s := startNotifyServer(t, []tsig.Key{good}, serverOptions{})
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	goodFlag := write("good.flag", "# for quercus notify\n"+good.Flag()+"\n")
	goodRecord := write("good.key", "; from tsig-keygen\n"+good.Record()+"\n")
	badFile := write("bad.flag", bad.Flag())

	tests := []struct {
		name string
		vars map[string]string
		args []string
		code int
	}{
		{"--key", nil, []string{"--key", good.Flag()}, 0},
		{"--key-file with NAME:ALG:SECRET", nil, []string{"--key-file", goodFlag}, 0},
		{"--key-file with a DNSKEY record", nil, []string{"--key-file", goodRecord}, 0},
		{"QUERCUS_KEY", map[string]string{"QUERCUS_KEY": good.Flag()}, nil, 0},
		{"QUERCUS_KEY_FILE", map[string]string{"QUERCUS_KEY_FILE": goodFlag}, nil, 0},
		{"QUERCUS_KEY_FILE over QUERCUS_KEY", map[string]string{"QUERCUS_KEY_FILE": goodFlag, "QUERCUS_KEY": bad.Flag()}, nil, 0},
		{"--key over QUERCUS_KEY_FILE", map[string]string{"QUERCUS_KEY_FILE": badFile}, []string{"--key", good.Flag()}, 0},
		{"--key-file over QUERCUS_KEY", map[string]string{"QUERCUS_KEY": bad.Flag()}, []string{"--key-file", goodFlag}, 0},
		{"--key-file over --key", nil, []string{"--key", bad.Flag(), "--key-file", goodFlag}, 0},
		{"wrong key from the environment", map[string]string{"QUERCUS_KEY": bad.Flag()}, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"notify", "--server", s.addr}, tt.args...)
			r := quercus(t, tt.vars, append(args, "example.com")...)
			if r.code != tt.code {
				t.Errorf("status %d, want %d; stderr:\n%s", r.code, tt.code, r.stderr)
			}
		})
	}
}

func TestNotifyErrors(t *testing.T) {
	dir := t.TempDir()
	twoKeys := filepath.Join(dir, "two")
	os.WriteFile(twoKeys, []byte("a._notify.example.com. DNSKEY 0 3 163 c2VjcmV0\nb._notify.example.com. DNSKEY 0 3 163 c2VjcmV0\n"), 0o600)
	key := "ops._notify.example.com:hmac-sha256:c2VjcmV0"
	tests := []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"--server", "127.0.0.1", "--key", key}, 2, "want at least one ZONE"},
		{[]string{"--key", key, "example.com"}, 2, "--server is required"},
		{[]string{"--server", "127.0.0.1", "example.com"}, 2, "give the key with --key-file, QUERCUS_KEY or --key"},
		{[]string{"--server", "127.0.0.1", "--key", "nonsense", "example.com"}, 1, "NAME:ALGORITHM:SECRET"},
		{[]string{"--server", "127.0.0.1", "--key-file", filepath.Join(dir, "missing"), "example.com"}, 1, "missing"},
		{[]string{"--server", "127.0.0.1", "--key-file", twoKeys, "example.com"}, 1, "want one NAME:ALG:SECRET line or one DNSKEY record"},
		{[]string{"--server", "127.0.0.1", "--key", key, "--tries", "0", "example.com"}, 2, "must be positive"},
		{[]string{"--server", "127.0.0.1", "--key", key, "--timeout", "soon", "example.com"}, 2, "invalid value"},
	}
	for _, tt := range tests {
		r := quercus(t, nil, append([]string{"notify"}, tt.args...)...)
		if r.code != tt.code || !strings.Contains(r.stderr, tt.stderr) {
			t.Errorf("notify %v: status %d, stderr %q; want %d and %q", tt.args, r.code, r.stderr, tt.code, tt.stderr)
		}
	}
}

func TestWithPort(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":           "192.0.2.1:53",
		"192.0.2.1:5353":      "192.0.2.1:5353",
		"2001:db8::1":         "[2001:db8::1]:53",
		"[2001:db8::1]":       "[2001:db8::1]:53",
		"[2001:db8::1]:5353":  "[2001:db8::1]:5353",
		"ns1.example.net":     "ns1.example.net:53",
		"ns1.example.net:853": "ns1.example.net:853",
	} {
		if got := withPort(in); got != want {
			t.Errorf("withPort(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestNotifyCancel: an interrupt ends the tries at once.
func TestNotifyCancel(t *testing.T) {
	s := startNotifyServer(t, nil, serverOptions{dropUDP: true})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	e := &env{stdout: &strings.Builder{}, stderr: &strings.Builder{}, getenv: func(string) string { return "" }}
	start := time.Now()
	code := run(ctx, e, []string{"notify", "--server", s.addr, "--timeout", "2m", "--key", "a._notify.example.com:hmac-sha256:c2VjcmV0", "example.com"})
	if code != 1 || time.Since(start) > 30*time.Second { // far below --timeout: the interrupt ended the tries

		t.Errorf("status %d after %v; stderr %s", code, time.Since(start), e.stderr)
	}
}

func FuzzParseKeyFile(f *testing.F) {
	f.Add([]byte("ops._notify.example.com:hmac-sha256:c2VjcmV0\n"))
	f.Add([]byte("# comment\nops._notify.example.com:SHA256:c2VjcmV0"))
	f.Add([]byte("ops._notify.example.com. DNSKEY 0 3 163 c2VjcmV0\n; quercus notify --key-file, QUERCUS_KEY: x\n"))
	f.Add([]byte("ops._notify.example.com.\tDNSKEY\t0 3 165 c2VjcmV0"))
	f.Add([]byte("a._notify.example.com. DNSKEY 0 3 163 c2VjcmV0\nb._notify.example.com. DNSKEY 0 3 163 c2VjcmV0\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		k, err := parseKeyFile(src)
		if err != nil {
			return
		}
		// a key read is one that can sign: its flag form reads back
		back, err := tsig.ParseFlag(k.Flag())
		if err != nil || back != k {
			t.Errorf("key %+v: flag %q reads back as %+v, %v", k, k.Flag(), back, err)
		}
	})
}
