package ixfr_test

import (
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/quercus-dev/quercus/dns/authority"
	"github.com/quercus-dev/quercus/dns/ixfr"
	"github.com/quercus-dev/quercus/dns/server"
	"github.com/quercus-dev/quercus/dns/tsig"
	"github.com/quercus-dev/quercus/internal/dnstest"
	"github.com/quercus-dev/quercus/internal/peer"
)

// transferKey may transfer example.com.
func transferKey(t testing.TB) tsig.Key {
	t.Helper()
	k, err := tsig.Generate("127.0.0.1.127.0.0.1._transfer.example.com.", dns.HmacSHA256, strings.NewReader(strings.Repeat("s", 64)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// serve runs a wire server for z on a loopback port, with src for IXFR.
func serve(t testing.TB, z *authority.Zone, src server.IXFRSource, keys *tsig.Keyring) string {
	t.Helper()
	set := authority.NewSet(z)
	return dnstest.Serve(t, server.Config{
		Zones:    func() *authority.Set { return set },
		Keys:     func() *tsig.Keyring { return keys },
		Transfer: src,
	})
}

// transferIn runs an IXFR from serial with miekg's client and returns the
// records received.
func transferIn(t testing.TB, addr string, keys *tsig.Keyring, key tsig.Key, serial uint32) []dns.RR {
	t.Helper()
	m := new(dns.Msg)
	m.SetIxfr(origin, serial, "ns1.example.com.", "hostmaster.example.com.")
	p := &tsig.Provider{Keys: func() *tsig.Keyring { return keys }}
	if err := p.SignRequest(m, key.Name); err != nil {
		t.Fatal(err)
	}
	rrs, err := dnstest.Transfer(addr, m, p)
	if err != nil {
		t.Fatalf("IXFR from %d: %v", serial, err)
	}
	return rrs
}

func TestServerIXFR(t *testing.T) {
	commits := []string{v1, v2, v3, v4, c4, b5, v5, b6, v7}
	bases := map[uint32]string{1: v1, 2: v2, 3: v3, 4: v4, 5: v5}
	z := served(t, v7)
	key := transferKey(t)
	keys := tsig.NewKeyring(key)
	addr := serve(t, z, &ixfr.Source{Store: history(t, commits...)}, keys)

	for serial, base := range bases {
		t.Run(fmt.Sprint("from ", serial), func(t *testing.T) {
			got := transferIn(t, addr, keys, key, serial)
			if _, ok := got[1].(*dns.SOA); !ok {
				t.Fatalf("not incremental: second record %v", got[1])
			}
			same(t, apply(t, records(t, base), got), z.Records())
		})
	}
	t.Run("unknown serial", func(t *testing.T) {
		got := transferIn(t, addr, keys, key, 6)
		if _, ok := got[1].(*dns.SOA); ok {
			t.Fatalf("incremental answer for an unknown serial: %v", got)
		}
		same(t, got[:len(got)-1], z.Records()) // the whole zone (AXFR form)
	})
}

// kdig, Knot's client, understands our answers.
func TestKdigIXFR(t *testing.T) {
	kdig := peer.Require(t, "kdig")[0]
	z := served(t, v7)
	key := transferKey(t)
	addr := serve(t, z, &ixfr.Source{Store: history(t, v1, v2, v3, v4, c4, b5, v5, b6, v7)}, tsig.NewKeyring(key))
	host, port, _ := net.SplitHostPort(addr)

	for serial, base := range map[uint32]string{1: v1, 4: v4} {
		out, err := exec.Command(kdig, "-p", port, "@"+host, "+tcp", fmt.Sprintf("IXFR=%d", serial), "example.com",
			"-y", "hmac-sha256:"+strings.TrimSuffix(key.Name, ".")+":"+key.Secret).CombinedOutput()
		if err != nil {
			t.Fatalf("kdig: %v\n%s", err, out)
		}
		// Records in zone-file format, then our TSIG record, which
		// kdig has verified (it fails or warns otherwise).
		var got []dns.RR
		signed := false
		for line := range strings.Lines(string(out)) {
			line = strings.TrimSpace(line)
			switch {
			case strings.Contains(line, "WARNING"), strings.Contains(line, "failed"):
				t.Errorf("kdig: %s", line)
			case line == "", strings.HasPrefix(line, ";"):
			case strings.Contains(line, "\tTSIG\t"):
				signed = strings.HasSuffix(line, " NOERROR 0")
			default:
				rr, err := dns.NewRR(line)
				if err != nil {
					t.Fatalf("kdig printed %q: %v\n%s", line, err, out)
				}
				got = append(got, rr)
			}
		}
		if !signed {
			t.Errorf("answer not signed:\n%s", out)
		}
		same(t, apply(t, records(t, base), got), z.Records())
	}
}
