package zone

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// records parses records written in full, for tests.
func records(t testing.TB, lines ...string) []dns.RR {
	t.Helper()
	var out []dns.RR
	for _, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil || rr == nil {
			t.Fatalf("dns.NewRR(%q): %v", l, err)
		}
		out = append(out, rr)
	}
	return out
}

// checkEdited checks independently of EditRecords that out holds the
// records of src, minus every one matching del, plus add.
func checkEdited(t testing.TB, origin string, src, out []byte, add, del []dns.RR) {
	t.Helper()
	before, err := Parse(origin, src)
	if err != nil {
		t.Fatalf("Parse before: %v", err)
	}
	after, err := Parse(origin, out)
	if err != nil {
		t.Fatalf("Parse after: %v\n%s", err, out)
	}
	want := &Zone{Origin: before.Origin}
	for _, rr := range before.Records {
		gone := false
		for _, d := range del {
			gone = gone || dns.IsDuplicate(rr, d)
		}
		if !gone {
			want.Records = append(want.Records, rr)
		}
	}
	want.Records = append(want.Records, add...)
	if added, removed := Diff(want, after); len(added) > 0 || len(removed) > 0 {
		t.Fatalf("records wrongly added %v, wrongly removed %v, in\n%s", added, removed, out)
	}
}

func TestEditRecords(t *testing.T) {
	tests := []struct {
		name      string
		src, want string
		add, del  []string
	}{
		{
			name: "delete an explicit owner that the next lines inherit",
			src: "$TTL 300\n@ SOA ns1 host 1 2 3 4 5\n  NS ns1\n" +
				"www A 192.0.2.1 ; the web\n  A 192.0.2.2\n  AAAA 2001:db8::1\nmail A 192.0.2.3\n",
			del: []string{"www.example.com. 0 IN A 192.0.2.1"},
			want: "$TTL 300\n@ SOA ns1 host 1 2 3 4 5\n  NS ns1\n" +
				"www  A 192.0.2.2\n  AAAA 2001:db8::1\nmail A 192.0.2.3\n",
		},
		{
			name: "delete a line inheriting its owner",
			src:  "$TTL 300\n@ SOA ns1 host 1 2 3 4 5\n  NS ns1\n  NS ns2 ; second\n  MX 10 mail\n",
			del:  []string{"example.com. 0 IN NS ns2.example.com."},
			want: "$TTL 300\n@ SOA ns1 host 1 2 3 4 5\n  NS ns1\n  MX 10 mail\n",
		},
		{
			name: "delete a record over several lines",
			src: "$TTL 300\n@ SOA ns1 host ( 1 ; serial\n  2 3 4 5 )\n" +
				"txt TXT ( \"one\" ; first\n  \"two\" ) ; end\n  A 192.0.2.1\n; after\n",
			del: []string{`txt.example.com. 0 IN TXT "one" "two"`},
			want: "$TTL 300\n@ SOA ns1 host ( 1 ; serial\n  2 3 4 5 )\n" +
				"txt  A 192.0.2.1\n; after\n",
		},
		{
			name: "add next to records of the same owner",
			src:  "$TTL 300\n@ SOA ns1 host 1 2 3 4 5\nwww A 192.0.2.1\nmail A 192.0.2.3\n",
			add:  []string{"www.example.com. 60 IN AAAA 2001:db8::1"},
			want: "$TTL 300\n@ SOA ns1 host 1 2 3 4 5\nwww A 192.0.2.1\nwww\t60\tIN\tAAAA\t2001:db8::1\nmail A 192.0.2.3\n",
		},
		{
			name: "add next to records with a blank owner, in their style",
			src:  "$TTL 300\n@ SOA ns1 host 1 2 3 4 5\n\tNS ns1\n\tNS ns2\nns1 A 192.0.2.53\n",
			add:  []string{"example.com. 300 IN MX 10 mail.example.com."},
			want: "$TTL 300\n@ SOA ns1 host 1 2 3 4 5\n\tNS ns1\n\tNS ns2\n\t300\tIN\tMX\t10 mail\nns1 A 192.0.2.53\n",
		},
		{
			name: "add a new name at the end",
			src:  "$TTL 300\n@ SOA ns1 host 1 2 3 4 5\n; the end\n",
			add:  []string{"new.example.com. 300 IN CNAME www.example.net."},
			want: "$TTL 300\n@ SOA ns1 host 1 2 3 4 5\n; the end\nnew\t300\tIN\tCNAME\twww.example.net.\n",
		},
		{
			name: "add at the apex",
			src:  "$TTL 300\n@ SOA ns1 host 1 2 3 4 5\nwww A 192.0.2.1\n",
			add:  []string{"example.com. 300 IN TXT \"v=spf1 -all\""},
			want: "$TTL 300\n@ SOA ns1 host 1 2 3 4 5\n@\t300\tIN\tTXT\t\"v=spf1 -all\"\nwww A 192.0.2.1\n",
		},
		{
			name: "add to a file without a final line break",
			src:  "$TTL 300\n@ SOA ns1 host 1 2 3 4 5 ; no end",
			add:  []string{"a.example.com. 300 IN A 192.0.2.1"},
			want: "$TTL 300\n@ SOA ns1 host 1 2 3 4 5 ; no end\na\t300\tIN\tA\t192.0.2.1\n",
		},
		{
			name: "a replacement changes only that line",
			src:  "$TTL 300\n@ SOA ns1 host 1 2 3 4 5\nwww A 192.0.2.1 ; old\n  A 192.0.2.2\nmail A 192.0.2.3\n",
			del:  []string{"www.example.com. 0 IN A 192.0.2.1"},
			add:  []string{"www.example.com. 300 IN A 192.0.2.9"},
			want: "$TTL 300\n@ SOA ns1 host 1 2 3 4 5\nwww\t300\tIN\tA\t192.0.2.9\n  A 192.0.2.2\nmail A 192.0.2.3\n",
		},
		{
			name: "a replacement of a line with a blank owner",
			src:  "$TTL 300\n@ SOA ns1 host 1 2 3 4 5\n\tMX 10 mail\n\tMX 20 mail2\nmail A 192.0.2.3\n",
			del:  []string{"example.com. 0 IN MX 10 mail.example.com."},
			add:  []string{"example.com. 300 IN MX 5 mail.example.com."},
			want: "$TTL 300\n@ SOA ns1 host 1 2 3 4 5\n\t300\tIN\tMX\t5 mail\n\tMX 20 mail2\nmail A 192.0.2.3\n",
		},
		{
			name: "$ORIGIN and $TTL changes mid-file",
			src: "$TTL 300\n@ SOA ns1 host 1 2 3 4 5\n$ORIGIN sub.example.com.\n$TTL 60\n" +
				"a A 192.0.2.1\nb A 192.0.2.2\n$ORIGIN example.com.\nc A 192.0.2.3\n",
			del: []string{"b.sub.example.com. 0 IN A 192.0.2.2"},
			add: []string{"a.sub.example.com. 60 IN MX 10 c.example.com.", "d.sub.example.com. 60 IN A 192.0.2.4"},
			want: "$TTL 300\n@ SOA ns1 host 1 2 3 4 5\n$ORIGIN sub.example.com.\n$TTL 60\n" +
				"a A 192.0.2.1\na\t60\tIN\tMX\t10 c.example.com.\n$ORIGIN example.com.\nc A 192.0.2.3\nd.sub\t60\tIN\tA\t192.0.2.4\n",
		},
		{
			name: "an inherited owner written out under another $ORIGIN",
			src:  "$TTL 300\n@ SOA ns1 host 1 2 3 4 5\nwww A 192.0.2.1\n$ORIGIN sub.example.com.\n  A 192.0.2.2\n",
			del:  []string{"www.example.com. 0 IN A 192.0.2.1"},
			want: "$TTL 300\n@ SOA ns1 host 1 2 3 4 5\n$ORIGIN sub.example.com.\nwww.example.com.  A 192.0.2.2\n",
		},
		{
			name: "comments and blank lines survive",
			src:  "; head\n\n$TTL 300 ; ttl\n\n@ SOA ns1 host 1 2 3 4 5\n\n; www\nwww A 192.0.2.1\n\n; mail\nmail A 192.0.2.3 ; here\n\n",
			del:  []string{"mail.example.com. 0 IN A 192.0.2.3"},
			add:  []string{"www.example.com. 300 IN AAAA 2001:db8::1"},
			want: "; head\n\n$TTL 300 ; ttl\n\n@ SOA ns1 host 1 2 3 4 5\n\n; www\nwww A 192.0.2.1\nwww\t300\tIN\tAAAA\t2001:db8::1\n\n; mail\n\n",
		},
		{
			name: "delete the owner line and the next one",
			src:  "$TTL 300\n@ SOA ns1 host 1 2 3 4 5\nwww A 192.0.2.1\n  A 192.0.2.2\n  AAAA 2001:db8::1\n",
			del:  []string{"www.example.com. 0 IN A 192.0.2.1", "www.example.com. 0 IN A 192.0.2.2"},
			want: "$TTL 300\n@ SOA ns1 host 1 2 3 4 5\nwww  AAAA 2001:db8::1\n",
		},
		{
			name: "duplicates all go, TTL and case ignored",
			src:  "$TTL 300\n@ SOA ns1 host 1 2 3 4 5\nwww A 192.0.2.1\nWWW 60 A 192.0.2.1\nmail A 192.0.2.3\n",
			del:  []string{"Www.Example.COM. 1 IN A 192.0.2.1"},
			want: "$TTL 300\n@ SOA ns1 host 1 2 3 4 5\nmail A 192.0.2.3\n",
		},
		{
			// Without $TTL a record's TTL is the default for those after it.
			name: "TTLs carried without $TTL",
			src:  "@ 600 SOA ns1 host 1 2 3 4 5\n  NS ns1\nwww 60 A 192.0.2.1\n  AAAA 2001:db8::1\nmail IN A 192.0.2.3\n",
			del:  []string{"www.example.com. 0 IN A 192.0.2.1"},
			add:  []string{"example.com. 30 IN MX 10 mail.example.com."},
			want: "@ 600 SOA ns1 host 1 2 3 4 5\n  NS ns1\n  30\tIN\tMX\t10 mail\nwww  60  AAAA 2001:db8::1\nmail IN A 192.0.2.3\n",
		},
		{
			name: "class before TTL, and a record starting with a parenthesis",
			src:  "@ 600 SOA ns1 host 1 2 3 4 5\nwww IN 60 A 192.0.2.1\n(  A 192.0.2.2 )\nmail A 192.0.2.3\n",
			del:  []string{"www.example.com. 0 IN A 192.0.2.1"},
			want: "@ 600 SOA ns1 host 1 2 3 4 5\nwww (  60  A 192.0.2.2 )\nmail A 192.0.2.3\n",
		},
		{
			// miekg's parser reads the line after an IPSECKEY as part of it.
			name: "a blank line after an IPSECKEY",
			src:  "$TTL 300\n@ SOA ns1 host 1 2 3 4 5\nk IPSECKEY 10 1 2 192.0.2.38 AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==",
			add:  []string{"k.example.com. 300 IN A 192.0.2.1"},
			want: "$TTL 300\n@ SOA ns1 host 1 2 3 4 5\nk IPSECKEY 10 1 2 192.0.2.38 AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==\n\nk\t300\tIN\tA\t192.0.2.1\n",
		},
		{
			name: "no change",
			src:  "$TTL 300\n@ SOA ns1 host 1 2 3 4 5 ; as it was\n",
			want: "$TTL 300\n@ SOA ns1 host 1 2 3 4 5 ; as it was\n",
		},
	}
	for _, tc := range tests {
		for _, crlf := range []bool{false, true} {
			name, src, want := tc.name, tc.src, tc.want
			if crlf {
				name += " CRLF"
				src = strings.ReplaceAll(src, "\n", "\r\n")
				want = strings.ReplaceAll(want, "\n", "\r\n")
			}
			t.Run(name, func(t *testing.T) {
				add, del := records(t, tc.add...), records(t, tc.del...)
				got, err := EditRecords("example.com.", []byte(src), add, del)
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != want {
					t.Errorf("got\n%s\nwant\n%s", got, want)
				}
				checkEdited(t, "example.com.", []byte(src), got, add, del)
			})
		}
	}
}

func TestEditRecordsErrors(t *testing.T) {
	const base = "$TTL 300\n@ SOA ns1 host 1 2 3 4 5\nwww A 192.0.2.1\n"
	tests := []struct {
		name     string
		src      string
		add, del []string
		is       error  // if not nil, the error must wrap it
		msg      string // else the error must contain it
	}{
		{name: "missing record", src: base, del: []string{"www.example.com. 300 IN A 192.0.2.2"}, is: ErrNoSuchRecord},
		{name: "missing owner", src: base, del: []string{"ftp.example.com. 300 IN A 192.0.2.1"}, is: ErrNoSuchRecord},
		{name: "$GENERATE", src: base + "$GENERATE 1-3 h$ A 192.0.2.$\n", del: []string{"h1.example.com. 300 IN A 192.0.2.1"}, is: ErrGenerate},
		{name: "$INCLUDE", src: base + "$INCLUDE other\n", add: []string{"x.example.com. 300 IN A 192.0.2.1"}, is: ErrInclude},
		{name: "bad file", src: base + "www A\n", msg: "zone example.com."},
		{name: "record without data", src: base, add: []string{"x.example.com. 300 IN A"}, msg: "cannot add"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := EditRecords("example.com.", []byte(tc.src), records(t, tc.add...), records(t, tc.del...))
			switch {
			case err == nil:
				t.Fatalf("no error; got\n%s", out)
			case out != nil:
				t.Errorf("text returned with error %v", err)
			case tc.is != nil && !errors.Is(err, tc.is):
				t.Errorf("error %v does not wrap %v", err, tc.is)
			case tc.is == nil && !strings.Contains(err.Error(), tc.msg):
				t.Errorf("error %v does not say %q", err, tc.msg)
			}
		})
	}
	if _, err := EditRecords("example.com.", []byte(base), []dns.RR{nil}, nil); err == nil {
		t.Error("nil record added without error")
	}
}

// The golden files show edits of a zone as a person writes it; compare
// each with example.com.zone to see how little changes.
var editGolden = []struct {
	name     string
	add, del []string
}{
	{name: "delete-apex-a", del: []string{"example.com. 0 IN A 192.0.2.1"}},
	{name: "delete-tlsa", del: []string{"_letsencrypt._tcp.www.example.com. 0 IN TLSA 3 1 1 8d02536c887482bc34ff54e41d2ba659bf85b341a0a20afadb5813dcfbcf286d"}},
	{name: "replace-mail", del: []string{"mail.example.com. 0 IN A 192.0.2.25"}, add: []string{"mail.example.com. 300 IN A 192.0.2.26"}},
	{name: "add-tlsa-and-host", add: []string{
		"_letsencrypt._tcp.www.example.com. 3600 IN TLSA 3 1 1 0011223344556677889900112233445566778899001122334455667788990011",
		"host.sub.example.com. 3600 IN A 192.0.2.55",
		"new.example.com. 3600 IN A 192.0.2.56",
	}},
}

func TestEditRecordsGolden(t *testing.T) {
	dir := filepath.Join("testdata", "recedit")
	src, err := os.ReadFile(filepath.Join(dir, "example.com.zone"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range editGolden {
		t.Run(tc.name, func(t *testing.T) {
			add, del := records(t, tc.add...), records(t, tc.del...)
			got, err := EditRecords("example.com.", src, add, del)
			if err != nil {
				t.Fatal(err)
			}
			checkEdited(t, "example.com.", src, got, add, del)
			golden := filepath.Join(dir, tc.name+".golden")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("EditRecords differs from %s (go test -update rewrites it):\n%s", golden, got)
			}
		})
	}
}

// newLines returns the lines of b not in a, counting repeats.
func newLines(a, b []byte) []string {
	have := map[string]int{}
	for _, l := range strings.SplitAfter(string(a), "\n") {
		have[l]++
	}
	var out []string
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if have[l] > 0 {
			have[l]--
		} else if l != "" {
			out = append(out, l)
		}
	}
	return out
}

type editZone struct {
	name, origin string
	src          []byte
}

// editZones returns the test zones, and example.com.zone also with CRLF
// line breaks and without $TTL (so that records take the TTL of the one
// before).
func editZones(t testing.TB) []editZone {
	var zones []editZone
	for file, origin := range zoneFiles(t) {
		zones = append(zones, editZone{file, origin, mustRead(t, file)})
	}
	file := filepath.Join("testdata", "recedit", "example.com.zone")
	src := mustRead(t, file)
	return append(zones,
		editZone{file, "example.com", src},
		editZone{file + " with CRLF", "example.com", bytes.ReplaceAll(src, []byte("\n"), []byte("\r\n"))},
		editZone{file + " without $TTL", "example.com", bytes.Replace(src, []byte("$TTL 3600\n"), nil, 1)},
	)
}

// Every record of the test zones can be deleted, changed, and given a
// neighbour, each touching a line or two.
func TestEditRecordsEveryRecord(t *testing.T) {
	for _, zf := range editZones(t) {
		file, origin, src := zf.name, zf.origin, zf.src
		z := mustParse(t, origin, string(src))
		for _, rr := range z.Records {
			changed := dns.Copy(rr)
			changed.Header().Ttl++
			neighbour := &dns.A{Hdr: dns.RR_Header{Name: rr.Header().Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 42}, A: []byte{192, 0, 2, 99}}
			for _, edit := range []struct {
				add, del []dns.RR
				lines    int // at most this many new lines
			}{
				{del: []dns.RR{rr}, lines: 1}, // a line that inherited from rr
				{add: []dns.RR{changed}, del: []dns.RR{rr}, lines: 2},
				{add: []dns.RR{neighbour}, lines: 2},
			} {
				out, err := EditRecords(origin, src, edit.add, edit.del)
				if err != nil {
					t.Errorf("%s: add %v, delete %v: %v", file, edit.add, edit.del, err)
					continue
				}
				checkEdited(t, origin, src, out, edit.add, edit.del)
				if n := newLines(src, out); len(n) > edit.lines {
					t.Errorf("%s: add %v, delete %v: new lines %q", file, edit.add, edit.del, n)
				}
			}
		}
	}
}

// Many edits in one call: random records deleted, records added at old
// and new names with random TTLs.
func TestEditRecordsMany(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, zf := range editZones(t) {
		file, origin, src := zf.name, zf.origin, zf.src
		z := mustParse(t, origin, string(src))
		for range 30 {
			var add, del []dns.RR
			for _, rr := range z.Records {
				if r.IntN(4) == 0 {
					del = append(del, rr)
				}
			}
			for range r.IntN(4) {
				name := z.Records[r.IntN(len(z.Records))].Header().Name
				if r.IntN(3) == 0 {
					name = "new" + strconv.Itoa(r.IntN(3)) + "." + name
				}
				add = append(add, &dns.TXT{
					Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: uint32(r.IntN(3) * 60)},
					Txt: []string{"added"},
				})
			}
			out, err := EditRecords(origin, src, add, del)
			if err != nil {
				t.Errorf("%s: add %v, delete %v: %v", file, add, del, err)
				continue
			}
			checkEdited(t, origin, src, out, add, del)
		}
	}
}

func FuzzEditRecords(f *testing.F) {
	seed, err := os.ReadFile(filepath.Join("testdata", "recedit", "example.com.zone"))
	if err != nil {
		f.Fatal(err)
	}
	for i, add := range []string{
		"www 300 IN A 192.0.2.80",
		"@ 60 MX 10 mail",
		"new.sub 3600 IN TXT \"a b\" c",
		"x.example.net. 1 IN AAAA 2001:db8::2",
		"",
	} {
		f.Add(seed, uint16(i*7), add)
	}
	for file := range zoneFiles(f) {
		f.Add(mustRead(f, file), uint16(3), "new 300 IN A 192.0.2.1")
	}
	f.Add([]byte("@ 600 SOA ns1 host 1 2 3 4 5\n  NS ns1\nwww 60 A 192.0.2.1\n  AAAA 2001:db8::1\nmail IN A 192.0.2.3\n"), uint16(2), "www 5 A 192.0.2.4")
	f.Add([]byte("$TTL 300\r\n@ SOA ns1 host ( 1\r\n 2 3 4 5 )\r\nwww A 192.0.2.1\r\n$ORIGIN sub\r\n  A 192.0.2.2"), uint16(2), "@ A 192.0.2.5")
	f.Fuzz(func(t *testing.T, src []byte, pick uint16, addText string) {
		const origin = "example.com."
		before, err := Parse(origin, src)
		if err != nil {
			return
		}
		// Delete one record, or none when pick says so.
		var add, del []dns.RR
		if n := len(before.Records); int(pick)%(n+1) < n {
			del = append(del, before.Records[int(pick)%(n+1)])
		}
		zp := dns.NewZoneParser(strings.NewReader(addText), origin, "")
		if rr, ok := zp.Next(); ok {
			add = append(add, rr)
		}
		out, err := EditRecords(origin, src, add, del)
		if err != nil {
			if errors.Is(err, ErrNoSuchRecord) {
				t.Fatalf("existing record not found: %v", err)
			}
			return
		}
		checkEdited(t, origin, src, out, add, del)
		if len(add) == 0 && len(del) == 0 && !bytes.Equal(out, src) {
			t.Fatalf("no edit, but the text changed:\n%s", out)
		}
	})
}
