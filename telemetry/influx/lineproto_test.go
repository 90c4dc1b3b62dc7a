package influx

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// point is one parsed line.
type point struct {
	measurement string
	tags        []tag
	fields      []field
	ns          int64
}

// parseLine is a strict line protocol parser for tests. It accepts only
// what InfluxDB 1.x, 2.x and Telegraf all read the same way: it refuses a
// backslash before a backslash, or before a comma, equals sign or space
// that needs no escaping where it is, on which they disagree.
func parseLine(line string) (point, error) {
	var p point
	rest, ok := strings.CutSuffix(line, "\n")
	if !ok || strings.ContainsAny(rest, "\n\r") {
		return p, fmt.Errorf("not one line: %q", line)
	}
	var err error
	var sep byte
	if p.measurement, sep, rest, err = token(rest, ", ", ", "); err != nil {
		return p, fmt.Errorf("measurement: %v", err)
	}
	if p.measurement == "" || p.measurement[0] == '#' {
		return p, fmt.Errorf("bad measurement %q", p.measurement)
	}
	for sep == ',' {
		var k, v string
		if k, sep, rest, err = token(rest, "=", ",= "); err != nil || sep != '=' {
			return p, fmt.Errorf("tag key: %v (separator %q)", err, sep)
		}
		if v, sep, rest, err = token(rest, ", ", ",= "); err != nil {
			return p, fmt.Errorf("tag value: %v", err)
		}
		if k == "" || v == "" {
			return p, fmt.Errorf("empty tag key or value in %q", line)
		}
		p.tags = append(p.tags, tag{k, v})
	}
	for sep != ' ' || len(p.fields) == 0 {
		var k, v string
		if k, sep, rest, err = token(rest, "=", ",= "); err != nil || sep != '=' || k == "" {
			return p, fmt.Errorf("field key %q: %v (separator %q)", k, err, sep)
		}
		if v, sep, rest, err = token(rest, ", ", ""); err != nil || sep == 0 {
			return p, fmt.Errorf("field value %q: %v (separator %q)", v, err, sep)
		}
		f, err := parseFloat(v)
		if err != nil {
			return p, err
		}
		p.fields = append(p.fields, field{k, f})
	}
	if p.ns, err = strconv.ParseInt(rest, 10, 64); err != nil {
		return p, fmt.Errorf("timestamp: %v", err)
	}
	return p, nil
}

// token reads s up to the first unescaped byte of ends, and returns the
// unescaped token, that separator (0 at the end of s) and what follows.
// escapable are the bytes a backslash escapes here.
func token(s, ends, escapable string) (tok string, sep byte, rest string, err error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 == len(s) {
				return "", 0, "", fmt.Errorf("backslash at the end")
			}
			next := s[i+1]
			switch {
			case strings.IndexByte(escapable, next) >= 0:
				b.WriteByte(next)
				i++
			case strings.IndexByte("\\,= ", next) >= 0:
				return "", 0, "", fmt.Errorf("ambiguous escape \\%c", next)
			default:
				b.WriteByte(c) // a literal backslash
			}
		case strings.IndexByte(ends, c) >= 0:
			return b.String(), c, s[i+1:], nil
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), 0, "", nil
}

var floatSyntax = regexp.MustCompile(`^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?$`)

// parseFloat accepts the float syntax of line protocol: no NaN or Inf,
// no hexadecimal, no underscores.
func parseFloat(s string) (float64, error) {
	if !floatSyntax.MatchString(s) {
		return 0, fmt.Errorf("bad float %q", s)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, fmt.Errorf("bad float %q: %v", s, err)
	}
	return f, nil
}
