package syslog

import (
	"crypto/tls"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quercus-dev/quercus/internal/peer"
)

// rsyslogConf runs rsyslogd on loopback ports only, with its state in a
// temporary folder: no imuxsock or imklog, nothing under /var. Every message
// received is written with the RFC 5424 fields rsyslog parsed, '|'-separated.
const rsyslogConf = `
global(workDirectory="{dir}/work"
       defaultNetstreamDriverCAFile="{dir}/ca.pem"
       defaultNetstreamDriverCertFile="{dir}/cert.pem"
       defaultNetstreamDriverKeyFile="{dir}/key.pem")
module(load="imudp")
module(load="imtcp")
template(name="fields" type="string"
         string="%syslogseverity%|%syslogfacility%|%timereported:::date-rfc3339%|%hostname%|%app-name%|%procid%|%msgid%|%structured-data%|%msg%\n")
ruleset(name="quercus") {
	action(type="omfile" file="{dir}/out.log" template="fields")
}
input(type="imudp" address="127.0.0.1" port="{udp}" ruleset="quercus")
input(type="imtcp" address="127.0.0.1" port="{tcp}" ruleset="quercus")
input(type="imtcp" address="127.0.0.1" port="{tls}" ruleset="quercus"
      streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
`

// TestRsyslog sends messages over UDP, TCP and TLS to a real rsyslogd and
// checks how it parsed them. TLS needs rsyslog's gtls driver (Debian
// package rsyslog-gnutls).
func TestRsyslog(t *testing.T) {
	rsyslogd := peer.Require(t, "rsyslogd")[0]
	if gtls, _ := filepath.Glob("/usr/lib/*/rsyslog/lmnsd_gtls.so"); len(gtls) == 0 {
		if _, err := os.Stat("/usr/lib/rsyslog/lmnsd_gtls.so"); err != nil {
			t.Fatal("rsyslog's TLS driver lmnsd_gtls.so is missing: apt-get install rsyslog-gnutls")
		}
	}

	dir := t.TempDir()
	_, roots, certPEM, keyPEM := testCert(t)
	for name, b := range map[string][]byte{"ca.pem": certPEM, "cert.pem": certPEM, "key.pem": keyPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "work"), 0o700); err != nil {
		t.Fatal(err)
	}
	ports := freePorts(t, 3)
	conf := strings.NewReplacer(
		"{dir}", dir,
		"{udp}", strconv.Itoa(ports[0]),
		"{tcp}", strconv.Itoa(ports[1]),
		"{tls}", strconv.Itoa(ports[2]),
	).Replace(rsyslogConf)
	confPath := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	peer.Start(t, rsyslogd, "-n", "-f", confPath, "-i", filepath.Join(dir, "rsyslogd.pid"))
	addr := func(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }
	peer.WaitTCP(t, addr(ports[1]), 10*time.Second)
	peer.WaitTCP(t, addr(ports[2]), 10*time.Second)
	// UDP cannot be probed: it goes last, by when rsyslogd has long
	// started all its inputs.

	for _, tt := range []struct {
		name string
		url  string
		tls  *tls.Config
	}{
		{"tcp", "tcp://" + addr(ports[1]), nil},
		{"tls", "tls://" + addr(ports[2]), &tls.Config{RootCAs: roots}},
		{"udp", "udp://" + addr(ports[0]), nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			app := "quercus-" + tt.name
			h, err := New(Config{URL: tt.url, AppName: app, Hostname: "interop.example", TLS: tt.tls})
			if err != nil {
				t.Fatal(err)
			}
			at := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
			r := slog.NewRecord(at, slog.LevelWarn, "hello over "+tt.name, 0)
			r.Add("user", "alice", slog.Group("req", "id", 42, "path", `/a "b" ]c\d`))
			if err := h.Handle(t.Context(), r); err != nil {
				t.Fatal(err)
			}
			log := slog.New(h)
			log.Debug("below the level")
			log.Error("two\nlines")
			if err := h.Close(); err != nil {
				t.Fatal(err)
			}

			lines := waitLines(t, filepath.Join(dir, "out.log"), app, 2)
			pid := strconv.Itoa(os.Getpid())
			want := []string{"4", "3", "2024-05-06T07:08:09.123456Z", "interop.example", app, pid, "-",
				`[quercus@32473 user="alice" req.id="42" req.path="/a \"b\" \]c\\d"]`,
				bom + `hello over ` + tt.name + ` user=alice req.id=42 req.path="/a \"b\" ]c\\d"`}
			checkFields(t, lines[0], want)

			// A record at the current time, and a newline that rsyslog
			// escapes: the message was not split.
			want = []string{"3", "3", "", "interop.example", app, pid, "-", "-", bom + "two#012lines"}
			checkFields(t, lines[1], want)
			ts, err := time.Parse(time.RFC3339Nano, lines[1][2])
			if err != nil || time.Since(ts).Abs() > time.Minute || !strings.Contains(lines[1][2], ".") {
				t.Errorf("timestamp %q: %v", lines[1][2], err)
			}
		})
	}
}

func checkFields(t *testing.T, got, want []string) {
	t.Helper()
	names := []string{"severity", "facility", "timestamp", "hostname", "app-name", "procid", "msgid", "structured-data", "msg"}
	for i, w := range want {
		if w != "" && got[i] != w {
			t.Errorf("rsyslog's %s: got %q, want %q", names[i], got[i], w)
		}
	}
}

// waitLines polls rsyslog's output for n messages from app.
func waitLines(t *testing.T, path, app string, n int) [][]string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var lines [][]string
		b, _ := os.ReadFile(path)
		for line := range strings.Lines(string(b)) {
			fields := strings.SplitN(strings.TrimSuffix(line, "\n"), "|", 9)
			if len(fields) == 9 && fields[4] == app {
				lines = append(lines, fields)
			}
		}
		if len(lines) >= n {
			if len(lines) > n {
				t.Errorf("rsyslog got %d messages from %s, want %d:\n%s", len(lines), app, n, b)
			}
			return lines
		}
		if time.Now().After(deadline) {
			t.Fatalf("rsyslog got %d of %d messages from %s within 10s:\n%s", len(lines), n, app, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freePorts returns n different free loopback ports.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for len(ports) < n {
		p := peer.FreePort(t)
		if !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
	}
	return ports
}
