package zone

import "strings"

// prepare readies src for miekg's ZoneParser, following its lexer's rules
// for quotes, escapes, comments and parentheses:
//
//   - it removes comments, because the lexer copies the comments gathered so
//     far at every line break inside parentheses, which is quadratic: 1 MiB
//     of comment lines inside one record takes minutes;
//   - it puts a blank before line breaks inside parentheses, because the
//     lexer joins the last token of a line with the first of the next
//     ("b\n1" would become "b1");
//   - it refuses $INCLUDE and $GENERATE, before the lexer expands either.
//
// Line and column numbers of what remains are unchanged.
func prepare(src []byte) ([]byte, *ParseError) {
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

	for i := 0; i < len(src); i++ {
		// Most lines hold no quote, escape, comment or parenthesis, and
		// start with an owner or a blank: at such a line's start, in no
		// quote, comment or parentheses, copy it whole.
		if len(word) == 0 && word != nil && !quote && !escape && !comment && brace == 0 {
			if n := plainLine(src[i:]); n > 0 {
				out = append(out, src[i:i+n]...)
				i += n - 1
				line++
				word, wordLine = []byte{}, line
				continue
			}
		}
		c := src[i]
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

// plainLine returns the length of the line src starts with, its newline
// included, if prepare would copy it as it is and expect a directive on
// the next: a line of none of ; " \ ( ) whose first octet is not $ or \r
// (which a directive's word skips). It returns 0 for any other line, and
// for the last if it has no newline.
func plainLine(src []byte) int {
	if len(src) == 0 || src[0] == '$' || src[0] == '\r' {
		return 0
	}
	for i, c := range src {
		switch c {
		case '\n':
			return i + 1
		case ';', '"', '\\', '(', ')':
			return 0
		}
	}
	return 0
}
