package zone

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// prepareReference is prepare as it was before its quick path for plain
// lines, kept to compare the two on any input.
func prepareReference(src []byte) ([]byte, *ParseError) {
	out := make([]byte, 0, len(src)+len(src)/16)
	var (
		quote, escape, comment bool
		brace                  int
		line                   = 1
		// the first word of the line while it may still be a directive;
		// word is nil when not collecting
		word     []byte
		wordLine int
	)
	checkWord := func() *ParseError {
		w := strings.ToUpper(string(word))
		word = nil
		switch w {
		case "$INCLUDE":
			return &ParseError{Line: wordLine, Column: 1, Msg: ErrInclude.Error(), Err: ErrInclude}
		case "$GENERATE":
			return &ParseError{Line: wordLine, Column: 1, Msg: ErrGenerate.Error(), Err: ErrGenerate}
		}
		return nil
	}
	word, wordLine = []byte{}, 1

	for _, c := range src {
		if comment {
			if c != '\n' {
				continue
			}
			comment = false
		}
		if word != nil {
			switch c {
			case ' ', '\t', ';', '"', '\n':
				if err := checkWord(); err != nil {
					return nil, err
				}
			case '(', ')', '\r':
				// the lexer skips these inside a token
			default:
				if len(word) > len("$GENERATE") {
					word = nil // too long for a directive
				} else {
					word = append(word, c)
				}
			}
		}

		switch c {
		case '\\':
			escape = !escape
		case ';':
			if !escape && !quote {
				comment = true
				continue
			}
			escape = false
		case '"':
			if !escape {
				quote = !quote
			}
			escape = false
		case '(', ')':
			if !escape && !quote {
				if c == '(' {
					brace++
				} else if brace > 0 {
					brace--
				}
			}
			escape = false
		case '\n':
			if !quote {
				if brace > 0 && !escape {
					out = append(out, ' ')
				}
				if brace == 0 {
					word, wordLine = []byte{}, line+1
				}
			}
			escape = false
			line++
		default:
			escape = false
		}
		out = append(out, c)
	}
	if word != nil {
		if err := checkWord(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// FuzzPrepare compares prepare with prepareReference.
func FuzzPrepare(f *testing.F) {
	for _, s := range []string{
		base, "a A 1\n$INCLUDE x\n", "\r$INCLUDE x\n", ")$generate 1\n", "x (\n$INCLUDE y )\n",
		"a \"b\nc\" d\n$INCLUDE e\n", "a\\\n$INCLUDE b\n", "a ; c\n$GENERATE\nb\n", "x\ny",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		got, gotErr := prepare(src)
		want, wantErr := prepareReference(src)
		if !bytes.Equal(got, want) || !reflect.DeepEqual(gotErr, wantErr) {
			t.Fatalf("prepare(%q) = %q, %v; want %q, %v", src, got, gotErr, want, wantErr)
		}
	})
}
