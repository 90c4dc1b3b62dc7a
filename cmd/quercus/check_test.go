package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkOutput fails t unless r has the status code and one output line per
// want, each containing its fragment.
func checkOutput(t *testing.T, r result, code int, want []string) {
	t.Helper()
	got := lines(r.stdout)
	ok := r.code == code && len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = strings.Contains(got[i], want[i])
	}
	if !ok {
		t.Errorf("status %d, want %d; stdout:\n%s\nwant lines containing:\n%s\nstderr:\n%s",
			r.code, code, r.stdout, strings.Join(want, "\n"), r.stderr)
	}
}

func TestCheckDir(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		flags []string
		want  []string // a fragment of each output line
		code  int
	}{
		{name: "good", files: map[string]string{
			"example.com": goodZone, "example.org": goodOrg, "example.com._keys": goodKeys,
			// not zones: ignored
			"README.md": "# zones", ".gitignore": "*~", "LICENSE": "x", "docs/notes": "garbage",
		}},
		{name: "good verbose", flags: []string{"-v"},
			files: map[string]string{"example.com": goodZone, "example.com._keys": goodKeys},
			want:  []string{": 1 zone files, 1 key files, 0 problems"}},
		{name: "empty", files: map[string]string{}},
		{name: "syntax error", code: 1,
			files: map[string]string{"example.com": goodZone + "mail IN A not-an-address\n", "example.org": goodOrg},
			want:  []string{"example.com: line 8:"}},
		{name: "CNAME beside other data", code: 1,
			files: map[string]string{"example.com": goodZone + "www IN CNAME ns1\n"},
			want:  []string{"example.com: www.example.com. CNAME: CNAME beside other data (A)"}},
		{name: "no SOA", code: 1,
			files: map[string]string{"example.org": "@ IN NS ns.example.net.\n"},
			want:  []string{"example.org: example.org. SOA: no SOA record"}},
		{name: "forgotten trailing dot", code: 1,
			files: map[string]string{"example.com": goodZone + "ftp IN CNAME www.example.com\n"},
			want:  []string{"example.com: ftp.example.com. CNAME: www.example.com.example.com. ends in the origin twice"}},
		{name: "$INCLUDE", code: 1,
			files: map[string]string{"example.com": "$INCLUDE /etc/passwd\n" + goodZone},
			want:  []string{"example.com: line 1:1: $INCLUDE is not supported"}},
		{name: "verbose with problems", code: 1, flags: []string{"-v"},
			files: map[string]string{"example.org": "@ IN NS ns.example.net.\n"},
			want:  []string{"no SOA record", ": 1 zone files, 0 key files, 1 problems"}},
		{name: "bad keys", code: 1,
			files: map[string]string{"example.com._keys": "ops._notify.example.org. DNSKEY 0 3 163 c2VjcmV0\n" +
				"old._update.example.com. DNSKEY 0 3 157 c2VjcmV0\n" +
				"example.com. A 192.0.2.1\n"},
			want: []string{
				"example.com._keys: ops._notify.example.org.: key for zone example.org. does not belong in example.com._keys",
				"example.com._keys: old._update.example.com.: ",
				"example.com._keys: example.com.: A record: a key file holds only DNSKEY records",
			}},
		{name: "key defined twice", code: 1,
			files: map[string]string{"_keys": goodKeys, "example.com._keys": goodKeys},
			want:  []string{"example.com._keys: ops._notify.example.com.: key also defined in _keys"}},
		{name: "key file syntax error", code: 1,
			files: map[string]string{"_keys": "ops._notify.example.com. DNSKEY 0 3\n"},
			want:  []string{"_keys: "}},
		{name: "problems in file order", code: 1,
			files: map[string]string{
				"example.org": "@ IN NS ns.example.net.\n",
				"example.com": goodZone + "www IN CNAME ns1\n",
				"_keys":       "nonsense DNSKEY 0 3 163 c2VjcmV0\n",
			},
			want: []string{"_keys: nonsense.: ", "example.com: ", "example.org: "}},
		// A link is what git stores: its target's name. Following it would
		// put the file it points to into the output.
		{name: "symbolic link read as its target", code: 1,
			files: map[string]string{"example.com": "->/etc/passwd"},
			want:  []string{"example.com: line 1:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeDir(t, dir, tt.files)
			r := quercus(t, nil, append([]string{"zone", "check"}, append(tt.flags, dir)...)...)
			checkOutput(t, r, tt.code, tt.want)
			if strings.Contains(r.stdout, "root:") {
				t.Errorf("output shows a file outside the repository:\n%s", r.stdout)
			}
		})
	}
}

func TestCheckOld(t *testing.T) {
	bumped := change(t, goodZone, "2024010101", "2024010102")
	tests := []struct {
		name     string
		old, new map[string]string
		want     []string
	}{
		{name: "records changed, serial increased",
			old: map[string]string{"example.com": goodZone},
			new: map[string]string{"example.com": change(t, bumped, "192.0.2.1", "192.0.2.2")}},
		{name: "records changed, serial stayed",
			old:  map[string]string{"example.com": goodZone},
			new:  map[string]string{"example.com": change(t, goodZone, "192.0.2.1", "192.0.2.2")},
			want: []string{"example.com: records changed but the SOA serial stayed 2024010101"}},
		{name: "TTL changed, serial stayed",
			old:  map[string]string{"example.com": goodZone},
			new:  map[string]string{"example.com": change(t, goodZone, "$TTL 3600", "$TTL 600")},
			want: []string{"example.com: records changed but the SOA serial stayed"}},
		{name: "serial went back",
			old:  map[string]string{"example.com": bumped},
			new:  map[string]string{"example.com": change(t, goodZone, "192.0.2.1", "192.0.2.2")},
			want: []string{"example.com: SOA serial went from 2024010102 to 2024010101"}},
		{name: "serial wrapped around (RFC 1982)",
			old: map[string]string{"example.com": change(t, goodZone, "2024010101", "4294967295")},
			new: map[string]string{"example.com": change(t, change(t, goodZone, "2024010101", "1"), "192.0.2.1", "192.0.2.2")}},
		{name: "serial 2^31 ahead is undefined",
			old:  map[string]string{"example.com": change(t, goodZone, "2024010101", "1")},
			new:  map[string]string{"example.com": change(t, goodZone, "2024010101", "2147483649")},
			want: []string{"example.com: SOA serial went from 1 to 2147483649"}},
		{name: "only comments and layout changed",
			old: map[string]string{"example.com": goodZone},
			new: map[string]string{"example.com": "; edited\n" + strings.ReplaceAll(goodZone, "    ", "\t")}},
		{name: "only the case of names changed",
			old: map[string]string{"example.com": goodZone},
			new: map[string]string{"example.com": change(t, goodZone, "www ", "WWW ")}},
		{name: "new zone and removed zone",
			old: map[string]string{"example.com": goodZone},
			new: map[string]string{"example.org": goodOrg}},
		{name: "old version did not parse",
			old: map[string]string{"example.com": "garbage\n"},
			new: map[string]string{"example.com": goodZone}},
		{name: "serial problem sorted among the others",
			old: map[string]string{"example.com": goodZone},
			new: map[string]string{
				"example.com": change(t, goodZone, "192.0.2.1", "192.0.2.2") + "www IN CNAME ns1\n",
				"_keys":       "nonsense DNSKEY 0 3 163 c2VjcmV0\n",
				"example.org": "@ IN NS ns.example.net.\n",
			},
			want: []string{"_keys: ", "example.com: www.example.com. CNAME", "example.com: records changed", "example.org: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old, cur := filepath.Join(t.TempDir(), "old"), filepath.Join(t.TempDir(), "new")
			writeDir(t, old, tt.old)
			writeDir(t, cur, tt.new)
			code := 0
			if len(tt.want) > 0 {
				code = 1
			}
			checkOutput(t, quercus(t, nil, "zone", "check", "--old", old, cur), code, tt.want)
		})
	}
}

func TestCheckRevisions(t *testing.T) {
	dir := t.TempDir()
	ids := commitVersions(t, dir,
		map[string]string{"example.com": goodZone, "example.com._keys": goodKeys},
		map[string]string{"example.com": goodZone + "www IN CNAME ns1\n"},
		map[string]string{"example.com": change(t, goodZone, "192.0.2.1", "192.0.2.2")},
	)
	oldDir := t.TempDir()
	writeDir(t, oldDir, map[string]string{"example.com": goodZone})
	// what the working tree holds, not what HEAD does, must not count
	if err := os.WriteFile(filepath.Join(dir, "example.org"), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}

	const cname = "example.com: www.example.com. CNAME: CNAME beside other data"
	const serial = "example.com: records changed but the SOA serial stayed 2024010101"
	tests := []struct {
		args []string
		want []string
		code int
	}{
		{args: []string{dir}},
		{args: []string{dir, "HEAD"}},
		{args: []string{dir, "master"}},
		{args: []string{dir, ids[0]}},
		{args: []string{dir, ids[1]}, want: []string{cname}, code: 1},
		{args: []string{dir, "HEAD~1"}, want: []string{cname}, code: 1},
		{args: []string{"--old", "HEAD~2", dir}, want: []string{serial}, code: 1},
		{args: []string{dir, "--old", ids[0], ids[1]}, want: []string{cname, serial}, code: 1},
		{args: []string{"--old", oldDir, dir}, want: []string{serial}, code: 1},
		{args: []string{"--old", "HEAD~2", "-v", dir, "HEAD~2"}, want: []string{": 1 zone files, 1 key files, 0 problems"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			checkOutput(t, quercus(t, nil, append([]string{"zone", "check"}, tt.args...)...), tt.code, tt.want)
		})
	}
}

func TestCheckErrors(t *testing.T) {
	repo, plain := t.TempDir(), t.TempDir()
	commitVersions(t, repo, map[string]string{"example.com": goodZone})
	tests := []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{}, 2, "want REPO_OR_DIR"},
		{[]string{repo, "HEAD", "extra"}, 2, "want REPO_OR_DIR"},
		{[]string{plain, "HEAD"}, 2, "is no git repository"},
		{[]string{"--old", "HEAD", plain}, 2, "--old HEAD is no directory"},
		{[]string{repo, "no-such-branch"}, 1, "revision no-such-branch"},
		{[]string{"--old", "no-such-branch", repo}, 1, "revision no-such-branch"},
		{[]string{filepath.Join(plain, "missing")}, 1, "missing"},
		{[]string{"--frob", repo}, 2, "flag provided but not defined: -frob"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := quercus(t, nil, append([]string{"zone", "check"}, tt.args...)...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.stderr) || r.stdout != "" {
				t.Errorf("status %d, stderr %q, stdout %q; want %d and %q", r.code, r.stderr, r.stdout, tt.code, tt.stderr)
			}
		})
	}
}
