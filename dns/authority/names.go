package authority

import (
	"reflect"
	"strings"

	"github.com/miekg/dns"
)

// lower returns s with ASCII letters lowered: the canonical form used as a
// map key. DNS compares names case-insensitively for ASCII only (RFC 4343
// §3), and lowering byte by byte keeps every offset of s valid in the
// result, so a suffix of the lowered name maps back to the query's
// spelling. It does not allocate when s is already lower case.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			var b strings.Builder
			b.Grow(len(s))
			b.WriteString(s[:i])
			for ; i < len(s); i++ {
				c := s[i]
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				b.WriteByte(c)
			}
			return b.String()
		}
	}
	return s
}

// escaped reports whether the byte at s[i] is escaped by an odd number of
// backslashes before it (presentation format, RFC 1035 §5.1).
func escaped(s string, i int) bool {
	n := 0
	for i--; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// up returns the offset in s of the parent of the name s[off:], or -1 when
// s[off:] is the root. s must be fully qualified.
func up(s string, off int) int {
	if off >= len(s)-1 {
		return -1
	}
	for i := off; i < len(s)-1; i++ {
		if s[i] == '.' && !escaped(s, i) {
			return i + 1
		}
	}
	return len(s) - 1
}

// within reports whether the canonical name is at or below the canonical
// origin, comparing whole labels.
func within(name, origin string) bool {
	if origin == "." {
		return true
	}
	if !strings.HasSuffix(name, origin) {
		return false
	}
	i := len(name) - len(origin)
	return i == 0 || (name[i-1] == '.' && !escaped(name, i-1))
}

// suffix returns the spelling in name of its ancestor whose canonical form
// is canon. Lowering keeps lengths, so the ancestor is the tail of name.
func suffix(name, canon string) string {
	return name[len(name)-len(canon):]
}

// named returns rr with owner name owner. The zone's records are shared by
// every goroutine, so a record that needs another owner is copied; the copy
// is shallow (rdata is shared, and never modified).
func named(rr dns.RR, owner string) dns.RR {
	if rr.Header().Name == owner {
		return rr
	}
	var c dns.RR
	if v := reflect.ValueOf(rr); v.Kind() == reflect.Pointer {
		p := reflect.New(v.Type().Elem())
		p.Elem().Set(v.Elem())
		c = p.Interface().(dns.RR)
	} else {
		c = dns.Copy(rr)
	}
	c.Header().Name = owner
	return c
}

// appendNamed appends rrs to dst under owner name owner.
func appendNamed(dst, rrs []dns.RR, owner string) []dns.RR {
	if len(rrs) == 0 {
		return dst
	}
	if dst == nil {
		dst = make([]dns.RR, 0, len(rrs))
	}
	for _, rr := range rrs {
		dst = append(dst, named(rr, owner))
	}
	return dst
}
