package zone

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// SetSerial returns src with the SOA serial replaced by serial, changing
// only the bytes of that one number: comments, layout and every other
// record stay as the human wrote them, so people and the server can share
// the file in git. The result is parsed again to prove the edit; the
// parsed zone is returned with it, so callers need not parse it again.
func SetSerial(origin string, src []byte, serial uint32) ([]byte, *Zone, error) {
	before, err := Parse(origin, src)
	if err != nil {
		return nil, nil, err
	}
	if before.SOA() == nil {
		return nil, nil, errors.New("zone: no SOA to edit")
	}
	start, end, ok := soaSerialSpan(src)
	if !ok {
		return nil, nil, errors.New("zone: could not find the SOA serial in the text")
	}
	out := make([]byte, 0, len(src)+10)
	out = append(out, src[:start]...)
	out = strconv.AppendUint(out, uint64(serial), 10)
	out = append(out, src[end:]...)

	after, err := Parse(origin, out)
	if err != nil {
		return nil, nil, fmt.Errorf("zone: serial edit broke the file: %w", err)
	}
	// Every record but the SOA's serial must be as it was.
	want := before.SOA()
	saved := want.Serial
	want.Serial = serial
	defer func() { want.Serial = saved }()
	if len(after.Records) != len(before.Records) {
		return nil, nil, errors.New("zone: serial edit changed more than the serial")
	}
	for i, rr := range after.Records {
		if rr.String() != before.Records[i].String() {
			return nil, nil, fmt.Errorf("zone: serial edit changed %s", before.Records[i])
		}
	}
	return out, after, nil
}

// soaSerialSpan finds the byte range of the first SOA record's serial:
// the third token after the type token SOA, skipping comments,
// parentheses and quoted strings as the master-file syntax does.
func soaSerialSpan(src []byte) (start, end int, ok bool) {
	seen := -1 // tokens seen since SOA; -1 before it
	atLineStart := true
	directive := false
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\n':
			atLineStart, directive = true, false
			i++
			continue
		case c == ';':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			continue
		case c == ' ' || c == '\t' || c == '\r' || c == '(' || c == ')':
			atLineStart = false
			i++
			continue
		}
		// A token: quoted or bare.
		j := i
		if c == '"' {
			for j++; j < len(src) && src[j] != '"'; j++ {
				if src[j] == '\\' {
					j++
				}
			}
			j++
		} else {
			for j < len(src) && !bytes.ContainsRune([]byte(" \t\r\n;()\""), rune(src[j])) {
				if src[j] == '\\' {
					j++
				}
				j++
			}
		}
		if j > len(src) {
			j = len(src)
		}
		tok := src[i:j]
		if atLineStart && len(tok) > 0 && tok[0] == '$' {
			directive = true
		}
		atLineStart = false
		switch {
		case directive:
		case seen < 0 && bytes.EqualFold(tok, []byte("SOA")):
			seen = 0
		case seen >= 0:
			seen++
			if seen == 3 {
				return i, j, true
			}
		}
		i = j
	}
	return 0, 0, false
}
