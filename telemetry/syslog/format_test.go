package syslog

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// testTime is the fixed clock of the formatter tests.
var testTime = time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)

const testPID = "4242"

// newTestHandler returns a handler with fixed header fields. It connects
// only if something is logged through it.
func newTestHandler(t testing.TB, cfg Config) *Handler {
	t.Helper()
	if cfg.URL == "" {
		cfg.URL = "udp://127.0.0.1:9"
	}
	if cfg.Hostname == "" {
		cfg.Hostname = "host.example"
	}
	if cfg.AppName == "" {
		cfg.AppName = "app"
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return testTime }
	}
	h, err := newHandler(cfg, testPID)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

type logValuer struct{ secret string }

func (v logValuer) LogValue() slog.Value { return slog.StringValue("redacted") }

type formatCase struct {
	name  string
	cfg   Config
	with  func(slog.Handler) slog.Handler
	time  time.Time // default testTime; set zero by zeroTime
	zero  bool
	level slog.Level
	msg   string
	attrs []any
}

var formatCases = []formatCase{
	{name: "plain", msg: "hello, world"},
	{name: "debug", level: slog.LevelDebug, msg: "details"},
	{name: "warn", level: slog.LevelWarn, msg: "careful"},
	{name: "error", level: slog.LevelError, msg: "failed"},
	{name: "between levels round down", level: slog.LevelWarn - 1, msg: "notice"},
	{name: "above error", level: slog.LevelError + 4, msg: "critical"},
	{name: "facility local7", cfg: Config{Facility: 23}, level: slog.LevelError, msg: "x"},
	{name: "zero time", zero: true, msg: "when?"},
	{name: "time not in UTC", time: time.Date(2024, 5, 6, 9, 8, 9, 5000, time.FixedZone("CEST", 2*3600)), msg: "local"},
	{name: "empty message", msg: "", attrs: []any{"k", "v"}},
	{name: "empty message no attrs", msg: ""},
	{name: "kinds", msg: "request", attrs: []any{
		"string", "text",
		"int", -42,
		"uint", uint64(42),
		"float", 1.5,
		"bool", true,
		"duration", 1500 * time.Millisecond,
		"time", time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC),
		"error", errors.New("boom"),
		"bytes", []byte("raw"),
		"nil", nil,
		"struct", struct{ A, B int }{1, 2},
		"valuer", logValuer{"password"},
		"quoted", "two words",
		"empty", "",
	}},
	{
		name: "groups",
		with: func(h slog.Handler) slog.Handler {
			return h.WithAttrs([]slog.Attr{slog.Int("a", 1)}).WithGroup("g").WithAttrs([]slog.Attr{slog.Int("b", 2)}).WithGroup("")
		},
		msg: "grouped",
		attrs: []any{
			"c", 3,
			slog.Group("h", "d", 4, slog.Group("i", "e", 5)),
			slog.Group("", "inline", 6),
			slog.Group("empty"),
			slog.Attr{},
		},
	},
	{
		name: "open group without attrs",
		with: func(h slog.Handler) slog.Handler { return h.WithAttrs([]slog.Attr{slog.Int("a", 1)}).WithGroup("g") },
		msg:  "no g",
	},
	{name: "escaping", msg: "line one\nline \"two\"\tbad \xff utf-8", attrs: []any{
		"quote", `say "hi"`,
		"backslash", `C:\dir`,
		"bracket", "[x]",
		"equals", "a=b",
		"newline", "a\nb",
		"bad utf-8", "\xffok",
		"key=with]odd\"chars", 1,
		"ключ", 2,
		"a-key-that-is-longer-than-thirty-two-characters", 3,
		"", "empty key",
	}},
	{name: "header sanitized", cfg: Config{
		Hostname: "bad host\tnamé",
		AppName:  "an app name that is far too long to be an APP-NAME of RFC 5424",
	}, msg: "x"},
	{name: "truncated for UDP", msg: strings.Repeat("é", 900), attrs: []any{"k", strings.Repeat("v", 200)}},
	{name: "structured data too long for UDP", msg: "big", attrs: []any{"k", strings.Repeat("v", 2100)}},
	{name: "TCP allows more", cfg: Config{URL: "tcp://127.0.0.1:9"}, msg: strings.Repeat("x", 3000)},
}

func (c formatCase) record() slog.Record {
	t := c.time
	if t.IsZero() {
		t = testTime
	}
	if c.zero {
		t = time.Time{}
	}
	r := slog.NewRecord(t, c.level, c.msg, 0)
	r.Add(c.attrs...)
	return r
}

func (c formatCase) handler(t testing.TB) *Handler {
	h := newTestHandler(t, c.cfg)
	if c.with != nil {
		return c.with(h).(*Handler)
	}
	return h
}

// TestFormatGolden compares formatted messages with testdata/format.golden;
// go test -run TestFormatGolden -update rewrites it. Each message follows a
// "-- name --" line, exactly as sent (the BOM is invisible in most editors).
func TestFormatGolden(t *testing.T) {
	var out bytes.Buffer
	for _, c := range formatCases {
		msg := c.handler(t).message(c.record())
		fmt.Fprintf(&out, "-- %s --\n%s\n", c.name, msg)
	}
	notice := newTestHandler(t, Config{}).s.notice(3)
	fmt.Fprintf(&out, "-- dropped notice --\n%s\n", notice)
	frame := newTestHandler(t, Config{URL: "tcp://127.0.0.1"}).s.frame([]byte("<30>1 - - - - - -"))
	fmt.Fprintf(&out, "-- octet-counting frame --\n%s\n", frame)

	golden := filepath.Join("testdata", "format.golden")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("output differs from %s (run with -update to accept):\n%s", golden, out.Bytes())
	}
}

// TestFormatValid checks every table case against the parser and the
// size limit, whatever the golden file says.
func TestFormatValid(t *testing.T) {
	for _, c := range formatCases {
		t.Run(c.name, func(t *testing.T) {
			h := c.handler(t)
			b := h.message(c.record())
			if len(b) > h.s.max {
				t.Errorf("%d bytes, limit %d", len(b), h.s.max)
			}
			m, err := parseMessage(b)
			if err != nil {
				t.Fatal(err)
			}
			if m.msg != "" && !m.bom {
				t.Errorf("MSG without BOM")
			}
			if want := 3*8 + severity(c.level); c.cfg.Facility == 0 && m.pri != want {
				t.Errorf("PRI %d, want %d", m.pri, want)
			}
			if m.procID != testPID || m.msgID != "-" {
				t.Errorf("PROCID %q MSGID %q", m.procID, m.msgID)
			}
			// The text starts with the message, unless it was truncated
			// within the message.
			text := strings.ToValidUTF8(c.msg, "\uFFFD")
			if !strings.HasPrefix(m.msg, text) && !strings.HasPrefix(text, m.msg) {
				t.Errorf("MSG %q does not start with the message %q", m.msg, c.msg)
			}
		})
	}
}

func TestSeverity(t *testing.T) {
	for _, tt := range []struct {
		level slog.Level
		want  int
	}{
		{slog.LevelDebug - 4, 7},
		{slog.LevelDebug, 7},
		{slog.LevelInfo - 1, 7},
		{slog.LevelInfo, 6},
		{slog.LevelInfo + 2, 6},
		{slog.LevelWarn, 4},
		{slog.LevelError - 1, 4},
		{slog.LevelError, 3},
		{slog.LevelError + 8, 3},
	} {
		if got := severity(tt.level); got != tt.want {
			t.Errorf("severity(%v) = %d, want %d", tt.level, got, tt.want)
		}
	}
}

func TestParseURL(t *testing.T) {
	for _, tt := range []struct {
		url, network, addr, host string
		err                      string // part of the error, if one is expected
	}{
		{url: "udp://logs.example", network: "udp", addr: "logs.example:514", host: "logs.example"},
		{url: "tcp://logs.example:1514", network: "tcp", addr: "logs.example:1514", host: "logs.example"},
		{url: "tls://logs.example", network: "tls", addr: "logs.example:6514", host: "logs.example"},
		{url: "TLS://[2001:db8::1]/", network: "tls", addr: "[2001:db8::1]:6514", host: "2001:db8::1"},
		{url: "udp://127.0.0.1:5514", network: "udp", addr: "127.0.0.1:5514", host: "127.0.0.1"},
		{url: "", err: "missing scheme"},
		{url: "logs.example", err: "missing scheme"},
		{url: "logs.example:514", err: `unknown scheme "logs.example"`},
		{url: "http://logs.example", err: `unknown scheme "http"`},
		{url: "udp://", err: "missing host"},
		{url: "udp://:514", err: "missing host"},
		{url: "udp:logs.example", err: "missing host"},
		{url: "tcp://logs.example:0", err: "bad port"},
		{url: "tcp://logs.example:65536", err: "bad port"},
		{url: "tcp://logs.example:x", err: "not a URL"},
		{url: "tcp://logs.example/path", err: "nothing more"},
		{url: "tcp://user@logs.example", err: "nothing more"},
	} {
		network, addr, host, err := parseURL(tt.url)
		if tt.err != "" {
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Field != "URL" || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parseURL(%q) error %v, want a ConfigError containing %q", tt.url, err, tt.err)
			}
			continue
		}
		if err != nil || network != tt.network || addr != tt.addr || host != tt.host {
			t.Errorf("parseURL(%q) = %q, %q, %q, %v; want %q, %q, %q", tt.url, network, addr, host, err, tt.network, tt.addr, tt.host)
		}
	}
}

func TestNewErrors(t *testing.T) {
	for _, cfg := range []Config{
		{URL: "udp://h", Facility: 24},
		{URL: "udp://h", Facility: -1},
		{URL: "udp://h", QueueSize: -1},
		{URL: "smtp://h"},
	} {
		h, err := New(cfg)
		var ce *ConfigError
		if !errors.As(err, &ce) {
			t.Errorf("New(%+v) = %v, %v; want a ConfigError", cfg, h, err)
		}
	}
}

func TestEnabled(t *testing.T) {
	var level slog.LevelVar
	level.Set(slog.LevelWarn)
	h := newTestHandler(t, Config{Level: &level})
	ctx := context.Background()
	if h.Enabled(ctx, slog.LevelInfo) || !h.Enabled(ctx, slog.LevelWarn) {
		t.Error("Enabled does not follow Level")
	}
	level.Set(slog.LevelDebug)
	if !h.Enabled(ctx, slog.LevelDebug) {
		t.Error("Enabled does not follow a changed LevelVar")
	}
	if d := newTestHandler(t, Config{}); d.Enabled(ctx, slog.LevelDebug) || !d.Enabled(ctx, slog.LevelInfo) {
		t.Error("default level is not Info")
	}
}
