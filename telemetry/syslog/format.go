package syslog

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

const (
	// sdID names our structured data element; 32473 is the enterprise
	// number RFC 5612 reserves for documentation.
	sdID = "quercus@32473"

	bom      = "\uFEFF"
	nilValue = "-"

	// Message size limits: 2048 is what RFC 5426 says every UDP receiver
	// should accept; 8192 is what RFC 5425 asks TLS receivers to accept, and
	// fits rsyslog's default maximum.
	maxUDP    = 2048
	maxStream = 8192

	// Field lengths from the ABNF of RFC 5424 §6.
	maxHostname  = 255
	maxAppName   = 48
	maxProcID    = 128
	maxParamName = 32

	timeFormat = "2006-01-02T15:04:05.000000Z07:00"
)

// header holds the fixed header fields, already sanitized.
type header struct {
	facility int
	hostname string
	appName  string
	procID   string
}

func newHeader(facility int, hostname, appName, procID string) header {
	return header{
		facility: facility,
		hostname: headerField(hostname, maxHostname),
		appName:  headerField(appName, maxAppName),
		procID:   headerField(procID, maxProcID),
	}
}

// field is an attribute flattened to its dotted key and rendered value.
type field struct{ key, value string }

// format appends one RFC 5424 message of at most max bytes to buf. If the
// structured data does not fit, it is left out (the attributes still appear
// in the text); then the text is cut at a UTF-8 boundary. max must leave
// room for the header (about 500 bytes at most).
func (h *header) format(buf []byte, t time.Time, level slog.Level, msg string, fields []field, max int) []byte {
	start := len(buf)
	buf = append(buf, '<')
	buf = strconv.AppendInt(buf, int64(h.facility*8+severity(level)), 10)
	buf = append(buf, ">1 "...)
	if t.IsZero() {
		// slog's zero time means "no time"; the receiver will use its own.
		buf = append(buf, nilValue...)
	} else {
		buf = t.UTC().AppendFormat(buf, timeFormat)
	}
	buf = append(buf, ' ')
	buf = append(buf, h.hostname...)
	buf = append(buf, ' ')
	buf = append(buf, h.appName...)
	buf = append(buf, ' ')
	buf = append(buf, h.procID...)
	buf = append(buf, " - "...) // MSGID
	sd := len(buf)
	buf = appendSD(buf, fields)
	if len(buf)-start > max {
		buf = append(buf[:sd], nilValue...)
	}
	if msg == "" && len(fields) == 0 {
		return buf
	}

	end := len(buf)
	buf = append(buf, ' ')
	buf = append(buf, bom...)
	text := len(buf)
	buf = appendText(buf, msg, fields)
	if len(buf)-start > max {
		cut := start + max
		for cut > text && !utf8.RuneStart(buf[cut]) {
			cut--
		}
		if cut <= text {
			cut = end // not even one character fits: no MSG at all
		}
		buf = buf[:cut]
	}
	return buf
}

// severity maps a slog level to a syslog severity; levels between slog's
// named ones round down.
func severity(l slog.Level) int {
	switch {
	case l >= slog.LevelError:
		return 3 // err
	case l >= slog.LevelWarn:
		return 4 // warning
	case l >= slog.LevelInfo:
		return 6 // info
	default:
		return 7 // debug
	}
}

// headerField makes s a valid header field: printable US-ASCII only (each
// other character becomes '_'), at most n bytes, and NILVALUE if empty.
func headerField(s string, n int) string {
	return sanitize(s, n, nilValue, func(r rune) bool { return r >= '!' && r <= '~' })
}

// paramName makes s a valid SD-PARAM name (RFC 5424 §6.3.3, SD-NAME).
func paramName(s string) string {
	return sanitize(s, maxParamName, "_", func(r rune) bool {
		return r >= '!' && r <= '~' && r != '=' && r != ']' && r != '"'
	})
}

func sanitize(s string, n int, empty string, ok func(rune) bool) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() == n {
			break
		}
		if !ok(r) {
			r = '_'
		}
		b.WriteRune(r)
	}
	if b.Len() == 0 {
		return empty
	}
	return b.String()
}

// appendSD appends the structured data: one element holding every field,
// or NILVALUE if there are none.
func appendSD(buf []byte, fields []field) []byte {
	if len(fields) == 0 {
		return append(buf, nilValue...)
	}
	buf = append(buf, '[')
	buf = append(buf, sdID...)
	for _, f := range fields {
		buf = append(buf, ' ')
		buf = append(buf, paramName(f.key)...)
		buf = append(buf, `="`...)
		v := strings.ToValidUTF8(f.value, "\uFFFD")
		for i := 0; i < len(v); i++ {
			// RFC 5424 §6.3.3: these three must be escaped, and only these.
			if c := v[i]; c == '"' || c == '\\' || c == ']' {
				buf = append(buf, '\\')
			}
			buf = append(buf, v[i])
		}
		buf = append(buf, '"')
	}
	return append(buf, ']')
}

// appendText appends the message followed by the fields as key=value, in
// the style of slog's TextHandler.
func appendText(buf []byte, msg string, fields []field) []byte {
	buf = append(buf, strings.ToValidUTF8(msg, "\uFFFD")...)
	for i, f := range fields {
		if i > 0 || msg != "" {
			buf = append(buf, ' ')
		}
		buf = appendTextString(buf, f.key)
		buf = append(buf, '=')
		buf = appendTextString(buf, f.value)
	}
	return buf
}

func appendTextString(buf []byte, s string) []byte {
	if needsQuoting(s) {
		return strconv.AppendQuote(buf, s)
	}
	return append(buf, s...)
}

// needsQuoting reports whether s would be ambiguous or unsafe unquoted in
// key=value text. Quoting also escapes newlines and invalid UTF-8.
func needsQuoting(s string) bool {
	if s == "" {
		return true
	}
	for _, r := range s {
		if r == '=' || r == '"' || r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return true
		}
	}
	return false
}

// appendAttr flattens a into fields as slog's own handlers do: values are
// resolved, empty attributes and empty groups are ignored, groups with an
// empty key are inlined, and group names prefix keys with dots.
func appendAttr(fields []field, prefix string, a slog.Attr) []field {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return fields
	}
	if a.Value.Kind() == slog.KindGroup {
		if a.Key != "" {
			prefix += a.Key + "."
		}
		for _, ga := range a.Value.Group() {
			fields = appendAttr(fields, prefix, ga)
		}
		return fields
	}
	return append(fields, field{key: prefix + a.Key, value: valueString(a.Value)})
}

func valueString(v slog.Value) string {
	switch v.Kind() {
	case slog.KindTime:
		return v.Time().Format(time.RFC3339Nano)
	case slog.KindAny:
		if b, ok := v.Any().([]byte); ok {
			return string(b)
		}
		// %+v uses Error and String methods, and survives their panics.
		return fmt.Sprintf("%+v", v.Any())
	default:
		return v.String()
	}
}
