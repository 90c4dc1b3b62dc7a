package syslog

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// A small, strict RFC 5424 parser, written from the ABNF of §6 and
// independent of the formatter, to check what the formatter writes.

type message struct {
	pri       int
	timestamp string // as written; "-" if none
	hostname  string
	appName   string
	procID    string
	msgID     string
	sd        []sdElement // nil for NILVALUE
	msg       string      // without the BOM
	bom       bool
}

type sdElement struct {
	id     string
	params []field // values unescaped
}

func parseMessage(b []byte) (*message, error) {
	p := &parser{b: b}
	m := &message{}
	if !p.eat('<') {
		return nil, p.errorf("want '<'")
	}
	digits := p.until('>')
	if len(digits) < 1 || len(digits) > 3 || (len(digits) > 1 && digits[0] == '0') {
		return nil, p.errorf("bad PRI %q", digits)
	}
	pri, err := strconv.Atoi(digits)
	if err != nil || pri > 191 {
		return nil, p.errorf("bad PRI %q", digits)
	}
	m.pri = pri
	if !p.eat('>') || !p.eat('1') || !p.eat(' ') {
		return nil, p.errorf("want '>1 '")
	}
	for _, f := range []struct {
		dst *string
		max int
	}{{&m.timestamp, 32}, {&m.hostname, 255}, {&m.appName, 48}, {&m.procID, 128}, {&m.msgID, 32}} {
		s := p.until(' ')
		if len(s) < 1 || len(s) > f.max {
			return nil, p.errorf("header field %q: bad length", s)
		}
		for i := 0; i < len(s); i++ {
			if s[i] < 33 || s[i] > 126 {
				return nil, p.errorf("header field %q: byte %#x", s, s[i])
			}
		}
		if !p.eat(' ') {
			return nil, p.errorf("want ' ' after header field %q", s)
		}
		*f.dst = s
	}
	if m.timestamp != "-" {
		t, err := time.Parse(time.RFC3339Nano, m.timestamp)
		if err != nil || t.Year() > 9999 {
			return nil, p.errorf("bad timestamp %q: %v", m.timestamp, err)
		}
		if i := strings.IndexByte(m.timestamp, '.'); i >= 0 {
			frac := m.timestamp[i+1:]
			if n := len(frac) - len(strings.TrimLeft(frac, "0123456789")); n < 1 || n > 6 {
				return nil, p.errorf("timestamp %q: TIME-SECFRAC needs 1 to 6 digits", m.timestamp)
			}
		}
	}

	if p.eat('-') {
		// NILVALUE
	} else {
		for p.peek() == '[' {
			e, err := p.element()
			if err != nil {
				return nil, err
			}
			m.sd = append(m.sd, e)
		}
		if m.sd == nil {
			return nil, p.errorf("want structured data")
		}
	}
	if p.done() {
		return m, nil
	}
	if !p.eat(' ') {
		return nil, p.errorf("want ' ' before MSG")
	}
	rest := p.b[p.i:]
	if bytes.HasPrefix(rest, []byte(bom)) {
		m.bom = true
		rest = rest[len(bom):]
		if !utf8.Valid(rest) {
			return nil, p.errorf("MSG after a BOM is not UTF-8")
		}
	}
	m.msg = string(rest)
	return m, nil
}

func (p *parser) element() (sdElement, error) {
	var e sdElement
	p.eat('[')
	if e.id = p.sdName(); e.id == "" {
		return e, p.errorf("bad SD-ID")
	}
	for p.eat(' ') {
		name := p.sdName()
		if name == "" {
			return e, p.errorf("bad PARAM-NAME")
		}
		if !p.eat('=') || !p.eat('"') {
			return e, p.errorf("want =\" after %q", name)
		}
		var v []byte
		for {
			if p.done() {
				return e, p.errorf("unterminated PARAM-VALUE")
			}
			c := p.b[p.i]
			p.i++
			if c == '"' {
				break
			}
			if c == ']' {
				return e, p.errorf("unescaped ] in PARAM-VALUE")
			}
			if c == '\\' && !p.done() {
				// Only these three are escapes (§6.3.3); any other
				// backslash stands for itself.
				if n := p.b[p.i]; n == '"' || n == '\\' || n == ']' {
					c = n
					p.i++
				}
			}
			v = append(v, c)
		}
		if !utf8.Valid(v) {
			return e, p.errorf("PARAM-VALUE is not UTF-8")
		}
		e.params = append(e.params, field{name, string(v)})
	}
	if !p.eat(']') {
		return e, p.errorf("want ]")
	}
	return e, nil
}

// sdName reads an SD-NAME: 1 to 32 printable US-ASCII, not '=', ' ', ']', '"'.
func (p *parser) sdName() string {
	start := p.i
	for !p.done() {
		c := p.b[p.i]
		if c < 33 || c > 126 || c == '=' || c == ']' || c == '"' {
			break
		}
		p.i++
	}
	if p.i-start > 32 {
		return ""
	}
	return string(p.b[start:p.i])
}

type parser struct {
	b []byte
	i int
}

func (p *parser) done() bool { return p.i >= len(p.b) }

func (p *parser) peek() byte {
	if p.done() {
		return 0
	}
	return p.b[p.i]
}

func (p *parser) eat(c byte) bool {
	if !p.done() && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *parser) until(c byte) string {
	start := p.i
	for !p.done() && p.b[p.i] != c {
		p.i++
	}
	return string(p.b[start:p.i])
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("offset %d: %s in %q", p.i, fmt.Sprintf(format, args...), p.b)
}

// readFrame reads one octet-counted frame (RFC 6587 §3.4.1).
func readFrame(r *bufio.Reader) ([]byte, error) {
	n := 0
	for digits := 0; ; digits++ {
		c, err := r.ReadByte()
		if err != nil {
			if digits > 0 && err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if c == ' ' && digits > 0 {
			break
		}
		if c < '0' || c > '9' || (digits == 0 && c == '0') || digits == 9 {
			return nil, errors.New("bad MSG-LEN")
		}
		n = n*10 + int(c-'0')
	}
	b := make([]byte, n)
	_, err := io.ReadFull(r, b)
	return b, err
}
