package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// zoneName is the name of the i-th generated zone.
func zoneName(i int) string { return fmt.Sprintf("bench%d.example.", i) }

// writeZone writes a deterministic zone origin of exactly n records (n >= 4) in
// RFC 1035 master format: the SOA, one NS and its glue, then n-3 records
// cycling through A, AAAA, CNAME, MX and TXT, each at its own name so that
// no CNAME shares a name with other data. It returns the text of one record
// near the end of the file (the last A record) to query for.
func writeZone(w io.Writer, origin string, n int) (probe string, err error) {
	if n < 4 {
		return "", fmt.Errorf("zone of %d records: want at least 4", n)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	fmt.Fprintf(bw, "$ORIGIN %s\n$TTL 3600\n", origin)
	fmt.Fprintf(bw, "@ IN SOA ns1 hostmaster 1 7200 3600 1209600 3600\n")
	fmt.Fprintf(bw, "@ IN NS ns1\n")
	fmt.Fprintf(bw, "ns1 IN A 192.0.2.1\n")
	body := n - 3
	for i := range body {
		switch i % 5 {
		case 0:
			a := fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
			fmt.Fprintf(bw, "h%d IN A %s\n", i, a)
			probe = fmt.Sprintf("h%d.%s 3600 IN A %s", i, origin, a)
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
	if err := bw.Flush(); err != nil {
		return "", err
	}
	return probe, nil
}

// zoneFixture is a set of generated zones holding records records in all,
// as files for the peers and as one bare git repository for dns-primary.
type zoneFixture struct {
	records int
	zones   []zoneFile
	repo    string // bare repository holding each zone as a top-level file named by it
	bytes   int    // of all zone files
}

type zoneFile struct {
	origin string // with the trailing dot
	file   string
	probe  string // a record in the zone, in master format, to query
}

// makeZones generates records records in zones zones of equal size under
// dir and imports them into a fresh bare repository with git fast-import,
// independent of the code under test.
func makeZones(dir string, records, zones int) (*zoneFixture, error) {
	if zones < 1 || records%zones != 0 {
		return nil, fmt.Errorf("%d records do not split into %d zones", records, zones)
	}
	z := &zoneFixture{records: records, repo: filepath.Join(dir, fmt.Sprintf("zones-%d.git", records))}
	if err := gitInitBare(z.repo); err != nil {
		return nil, err
	}
	var in bytes.Buffer
	msg := fmt.Sprintf("%d records in %d zones\n", records, zones)
	fmt.Fprintf(&in, "commit refs/heads/main\ncommitter Bench <bench@example.org> 1700000000 +0000\ndata %d\n%s", len(msg), msg)
	for i := range zones {
		origin := zoneName(i)
		var buf bytes.Buffer
		probe, err := writeZone(&buf, origin, records/zones)
		if err != nil {
			return nil, err
		}
		zf := zoneFile{origin: origin, file: filepath.Join(dir, fmt.Sprintf("zone-%d-%s", records, origin)), probe: probe}
		if err := os.WriteFile(zf.file, buf.Bytes(), 0o644); err != nil {
			return nil, err
		}
		z.zones = append(z.zones, zf)
		z.bytes += buf.Len()
		fmt.Fprintf(&in, "M 100644 inline %s\ndata %d\n", strings.TrimSuffix(origin, "."), buf.Len())
		in.Write(buf.Bytes())
		in.WriteString("\n")
	}
	if err := gitImport(z.repo, &in); err != nil {
		return nil, err
	}
	return z, nil
}

// remove deletes the fixture's files.
func (z *zoneFixture) remove() {
	for _, zf := range z.zones {
		os.Remove(zf.file)
	}
	os.RemoveAll(z.repo)
}

// gitInitBare creates an empty bare repository whose HEAD is main.
func gitInitBare(dir string) error {
	return runCmd("", "git", "init", "--bare", "--quiet", "--initial-branch=main", dir)
}

// gitImport feeds a fast-import stream to the repository at dir.
func gitImport(dir string, stream io.Reader) error {
	cmd := exec.Command("git", "fast-import", "--quiet")
	cmd.Dir, cmd.Stdin = dir, stream
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git fast-import: %v\n%s", err, out)
	}
	return nil
}

// runCmd runs a command to completion in dir.
func runCmd(dir, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %v: %v\n%s", name, args, err, out)
	}
	return nil
}
