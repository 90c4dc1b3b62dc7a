package syslog

import (
	"bufio"
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzFormat checks that whatever the message, attribute and header
// strings, the output parses as RFC 5424 within the size limit, the header
// fields and structured data round-trip, and octet-counting frames hold.
func FuzzFormat(f *testing.F) {
	for _, c := range formatCases {
		key, value := "k", "v"
		if len(c.attrs) >= 2 {
			key, _ = c.attrs[0].(string)
			value, _ = c.attrs[1].(string)
		}
		f.Add(c.msg, "g", key, value, c.cfg.Hostname, c.cfg.AppName, int(c.level), uint16(0))
	}
	f.Add("x\n10 <30>1 - - - - - -", "", "k]\"=", "\\]\"\n", "h", "a", 8, uint16(1))
	f.Fuzz(func(t *testing.T, msg, group, key, value, hostname, appName string, level int, size uint16) {
		hdr := newHeader(3, hostname, appName, testPID)
		fields := appendAttr(nil, "", slog.Group(group, slog.String(key, value)))
		max := 512 + int(size)%(maxStream-512+1) // room for the longest header
		b := hdr.format(nil, testTime, slog.Level(level), msg, fields, max)

		if len(b) > max {
			t.Fatalf("%d bytes, limit %d", len(b), max)
		}
		m, err := parseMessage(b)
		if err != nil {
			t.Fatal(err)
		}
		if want := 3*8 + severity(slog.Level(level)); m.pri != want {
			t.Errorf("PRI %d, want %d", m.pri, want)
		}
		if m.timestamp != "2024-05-06T07:08:09.123456Z" {
			t.Errorf("TIMESTAMP %q", m.timestamp)
		}
		if m.hostname != headerField(hostname, maxHostname) || m.appName != headerField(appName, maxAppName) || m.procID != testPID || m.msgID != "-" {
			t.Errorf("header %q %q %q %q from %q %q", m.hostname, m.appName, m.procID, m.msgID, hostname, appName)
		}

		full := hdr.format(nil, testTime, slog.Level(level), msg, fields, 1<<30)
		fullText := appendText(nil, msg, fields)
		switch {
		case m.sd == nil:
			if len(full) <= max {
				t.Errorf("structured data left out of a message that fits")
			}
		case len(m.sd) != 1 || m.sd[0].id != sdID || len(m.sd[0].params) != 1:
			t.Errorf("structured data %+v", m.sd)
		default:
			p := m.sd[0].params[0]
			if p.key != paramName(fields[0].key) || p.value != strings.ToValidUTF8(value, "\uFFFD") {
				t.Errorf("SD-PARAM %q=%q, want %q=%q", p.key, p.value, fields[0].key, value)
			}
		}
		if !m.bom || !utf8.ValidString(m.msg) {
			t.Errorf("MSG without BOM or not UTF-8: %q", m.msg)
		}
		if !bytes.HasPrefix(fullText, []byte(m.msg)) || (len(full) <= max && m.msg != string(fullText)) {
			t.Errorf("MSG %q, want (a prefix of) %q", m.msg, fullText)
		}

		// Two frames in a row come back apart, whatever the message holds.
		s := &sender{network: "tcp"}
		r := bufio.NewReader(bytes.NewReader(append(s.frame(b), s.frame(b)...)))
		for range 2 {
			got, err := readFrame(r)
			if err != nil || !bytes.Equal(got, b) {
				t.Fatalf("frame: %q, %v", got, err)
			}
		}
		if _, err := r.ReadByte(); err == nil {
			t.Fatal("bytes left after the frames")
		}
	})
}

// BenchmarkFormat measures formatting a typical request log.
func BenchmarkFormat(b *testing.B) {
	hdr := newHeader(3, "host.example", "app", testPID)
	fields := appendAttr(nil, "", slog.Group("req", "method", "GET", "path", "/index.html", "status", 200, "took", 1234*time.Microsecond))
	for b.Loop() {
		hdr.format(nil, testTime, slog.LevelInfo, "request served", fields, maxUDP)
	}
}
