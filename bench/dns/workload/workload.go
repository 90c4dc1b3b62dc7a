// Package workload generates the DNS serving benchmark's data: a zone of
// n names and a file of queries against it mixing answers, CNAME chains,
// NODATA and NXDOMAIN. bench/dns serves it with each server; dns/server's
// tests check the fast path against the general path on every query of it.
package workload

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Origin is the benchmark zone's origin.
const Origin = "bench.example."

// Zone writes a deterministic zone of n names (n >= 1) below Origin in
// RFC 1035 master format: the SOA, one NS and its glue at ns1, then names
// h0 to h(n-1) cycling through A, AAAA, CNAME (to the A record two names
// back), MX (to the A record three names back) and TXT.
func Zone(w io.Writer, n int) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	fmt.Fprintf(bw, "$ORIGIN %s\n$TTL 3600\n", Origin)
	fmt.Fprintf(bw, "@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300\n@ IN NS ns1\nns1 IN A 192.0.2.1\n")
	for i := range n {
		switch i % 5 {
		case 0:
			fmt.Fprintf(bw, "h%d IN A 10.%d.%d.%d\n", i, i>>16&255, i>>8&255, i&255)
		case 1:
			fmt.Fprintf(bw, "h%d IN AAAA 2001:db8::%x:%x\n", i, i>>16, i&0xffff)
		case 2:
			fmt.Fprintf(bw, "h%d IN CNAME h%d\n", i, i-2)
		case 3:
			fmt.Fprintf(bw, "h%d IN MX 10 h%d\n", i, i-3)
		case 4:
			fmt.Fprintf(bw, "h%d IN TXT \"v=bench record %d\"\n", i, i)
		}
	}
	return bw.Flush()
}

// Query is one line of the query file: a name and a type mnemonic.
type Query struct {
	Name, Type string
}

// Queries returns the query mix for a zone of n names, each name asked
// about once in one of these ways, in the file's order:
//   - 6 in 10 ask for the data the name holds (for a CNAME name, its A
//     record: the answer follows the chain);
//   - 1 in 10 ask for a type the name lacks: NODATA;
//   - 2 in 10 ask for a name the zone lacks: NXDOMAIN;
//   - 1 in 10 ask for the data with the name in upper case, as a resolver
//     randomizing the case of its queries would.
func Queries(n int) []Query {
	types := []string{"A", "AAAA", "A", "MX", "TXT"}
	qs := make([]Query, 0, n)
	for i := range n {
		name := fmt.Sprintf("h%d.%s", i, Origin)
		q := Query{name, types[i%5]}
		switch i % 10 {
		case 3:
			q.Type = map[string]string{"A": "AAAA", "AAAA": "A", "MX": "TXT", "TXT": "MX"}[q.Type]
		case 5, 8:
			q.Name = fmt.Sprintf("nx%d.%s", i, Origin)
		case 7:
			q.Name = strings.ToUpper(name[:1]) + name[1:]
		}
		qs = append(qs, q)
	}
	return qs
}

// WriteQueries writes qs in dnsperf's format, one "name type" a line.
func WriteQueries(w io.Writer, qs []Query) error {
	bw := bufio.NewWriter(w)
	for _, q := range qs {
		fmt.Fprintf(bw, "%s %s\n", q.Name, q.Type)
	}
	return bw.Flush()
}
