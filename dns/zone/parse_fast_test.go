package zone

import (
	"bytes"
	"fmt"
	"net"
	"testing"

	"github.com/miekg/dns"
)

// emptyCases are records on the edge of having data, for empty's quick
// answers to be compared with emptyByText's.
func emptyCases() []dns.RR {
	h := func(t uint16) dns.RR_Header {
		return dns.RR_Header{Name: "x.example.com.", Rrtype: t, Class: dns.ClassINET, Ttl: 1}
	}
	return []dns.RR{
		&dns.A{Hdr: h(dns.TypeA)},
		&dns.A{Hdr: h(dns.TypeA), A: net.IP{}},
		&dns.A{Hdr: h(dns.TypeA), A: net.IP{1, 2, 3, 4}},
		&dns.A{Hdr: h(dns.TypeAAAA)}, // a type and a header that disagree
		&dns.AAAA{Hdr: h(dns.TypeAAAA)},
		&dns.AAAA{Hdr: h(dns.TypeAAAA), AAAA: net.IP{}},
		&dns.AAAA{Hdr: h(dns.TypeAAAA), AAAA: net.ParseIP("::ffff:1.2.3.4")},
		&dns.TXT{Hdr: h(dns.TypeTXT)},
		&dns.TXT{Hdr: h(dns.TypeTXT), Txt: []string{}},
		&dns.TXT{Hdr: h(dns.TypeTXT), Txt: []string{""}},
		&dns.TXT{Hdr: h(dns.TypeTXT), Txt: []string{"\\"}},
		&dns.CNAME{Hdr: h(dns.TypeCNAME)},
		&dns.CNAME{Hdr: h(dns.TypeCNAME), Target: "\\"},
		&dns.CNAME{Hdr: h(dns.TypeCNAME), Target: "."},
		&dns.CNAME{Hdr: h(dns.TypeCNAME), Target: "a\\"},
		&dns.CNAME{Hdr: h(dns.TypeCNAME), Target: ".\\"},
		&dns.CNAME{Hdr: h(dns.TypeCNAME), Target: "\\1"},
		&dns.CNAME{Hdr: h(dns.TypeMX), Target: "x."},
		&dns.NS{Hdr: h(dns.TypeNS)},
		&dns.NS{Hdr: h(dns.TypeNS), Ns: "ns."},
		&dns.PTR{Hdr: h(dns.TypePTR)},
		&dns.PTR{Hdr: h(dns.TypePTR), Ptr: "\\\\"},
		&dns.MX{Hdr: h(dns.TypeMX)},
		&dns.MX{Hdr: h(dns.TypeMX), Preference: 10},
		&dns.MX{Hdr: h(dns.TypeMX), Mx: "\\"},
		&dns.MX{Hdr: h(dns.TypeMX), Mx: "mail."},
		&dns.SRV{Hdr: h(dns.TypeSRV)},
	}
}

func TestEmptyMatchesText(t *testing.T) {
	rrs := emptyCases()
	for file, origin := range zoneFiles(t) {
		z, err := Parse(origin, mustRead(t, file))
		if err == nil {
			rrs = append(rrs, z.Records...)
		}
	}
	for _, rr := range rrs {
		if got, want := empty(rr), emptyByText(rr); got != want {
			t.Errorf("empty(%T %v) = %v, emptyByText = %v", rr, rr, got, want)
		}
	}
}

// badRecordReference is badRecord as it was before its quick paths:
// every record's data printed and encoded.
func badRecordReference(rr dns.RR, wire []byte) string {
	h := rr.Header()
	t := dns.Type(h.Rrtype)
	switch {
	case h.Name == "":
		return "no owner name: a line starting with a blank repeats the previous owner, and there is none"
	case !dns.IsFqdn(presentName(h.Name)):
		return fmt.Sprintf("bad owner name %s", presentName(h.Name))
	case h.Rrtype == dns.TypeNone || h.Rrtype == dns.TypeOPT || h.Rrtype >= 128 && h.Rrtype <= 255:
		return fmt.Sprintf("type %s is not zone data", t)
	case h.Rrtype == dns.TypeNULL:
		return "NULL records are not allowed in master files (RFC 1035 §3.3.10)"
	}
	if emptyByText(rr) {
		return fmt.Sprintf("%s record without data", t)
	}
	first, second := wire[:len(wire)/2], wire[len(wire)/2:]
	n, err := dns.PackRR(rr, first, 0, nil, false)
	if err != nil {
		return fmt.Sprintf("%s record cannot be encoded: %v", t, err)
	}
	back, _, err := dns.UnpackRR(first[:n], 0)
	if err != nil {
		return fmt.Sprintf("%s record cannot be decoded: %v", t, err)
	}
	if m, err := dns.PackRR(back, second, 0, nil, false); err != nil || !bytes.Equal(first[:n], second[:m]) {
		return fmt.Sprintf("%s record does not survive encoding", t)
	}
	if emptyByText(back) {
		return fmt.Sprintf("%s record without data", t)
	}
	return ""
}

// FuzzBadRecord compares badRecord with badRecordReference on records
// miekg parses and on records built with any name, address or string:
// its quick paths (empty's, the owner's trailing dot, plainRecord) must
// change no answer.
func FuzzBadRecord(f *testing.F) {
	f.Add("x.example. A 192.0.2.1", "x.example.", []byte{192, 0, 2, 1})
	f.Add("x.example. TXT a b", "a..b.", []byte{})
	f.Add("x.example. MX 0 mail.example.", "\\065.", make([]byte, 16))
	f.Add("x.example. AAAA ::ffff:1.2.3.4", "a b.", []byte{1, 2, 3, 4, 5})
	wire := make([]byte, 2*(256+dns.MaxMsgSize))
	f.Fuzz(func(t *testing.T, line, text string, ip []byte) {
		h := func(typ uint16) dns.RR_Header {
			return dns.RR_Header{Name: text, Rrtype: typ, Class: dns.ClassINET, Ttl: 1}
		}
		named := dns.RR_Header{Name: "x.example.", Class: dns.ClassINET, Ttl: 1}
		rrs := []dns.RR{
			&dns.A{Hdr: h(dns.TypeA), A: ip},
			&dns.AAAA{Hdr: h(dns.TypeAAAA), AAAA: ip},
			&dns.TXT{Hdr: h(dns.TypeTXT), Txt: []string{text}},
			&dns.TXT{Hdr: named, Txt: []string{text, line}},
			&dns.CNAME{Hdr: named, Target: text},
			&dns.MX{Hdr: named, Preference: 1, Mx: text},
			&dns.NS{Hdr: named, Ns: text},
			&dns.PTR{Hdr: named, Ptr: text},
		}
		for i, typ := range []uint16{dns.TypeTXT, dns.TypeTXT, dns.TypeCNAME, dns.TypeMX, dns.TypeNS, dns.TypePTR} {
			rrs[i+2].Header().Rrtype = typ
		}
		if rr, err := dns.NewRR(line); err == nil && rr != nil {
			rrs = append(rrs, rr)
		}
		for _, rr := range rrs {
			if got, want := badRecord(rr, wire), badRecordReference(rr, wire); got != want {
				t.Fatalf("badRecord(%T %q) = %q, want %q", rr, rr, got, want)
			}
		}
	})
}
