package zone

// quickKey returns nameKey(name), quickly for the names most zones are made
// of: labels of printable ASCII without escapes. Others go to nameKey,
// which encodes the name to read its labels.
func quickKey(name string) string {
	var buf [256]byte // a plain name's key is shorter
	if key, ok := appendPlainKey(buf[:0], name); ok {
		return string(key)
	}
	return nameKey(name)
}

// appendKey appends nameKey(name) to dst, without allocating for a plain
// name when dst has room.
func appendKey(dst []byte, name string) []byte {
	if key, ok := appendPlainKey(dst, name); ok {
		return key
	}
	return append(dst, nameKey(name)...)
}

// appendPlainKey appends nameKey's key for a name that plainLabels
// accepts, built straight from its text; ok is false for any other name.
func appendPlainKey(dst []byte, name string) (key []byte, ok bool) {
	if !plainLabels(name) {
		return dst, false
	}
	n := len(name)
	if name[n-1] == '.' {
		n--
	}
	// labels right to left, lower-cased, each ended by 0x00
	end := n
	for i := n - 1; i >= -1; i-- {
		if i >= 0 && name[i] != '.' {
			continue
		}
		for _, c := range []byte(name[i+1 : end]) {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
		}
		dst = append(dst, 0)
		end = i
	}
	return dst, true
}

// plainLabels reports whether name is one or more labels of 1 to 63
// printable ASCII octets other than '\' and '.', each ended by a dot (the
// last one's may be left out), short enough for the wire.
func plainLabels(name string) bool {
	n := len(name)
	if n > 0 && name[n-1] == '.' {
		n--
	}
	// n+2 octets on the wire: a length octet per label instead of its dot,
	// and the root's; nameKey encodes into 256.
	if n == 0 || n+2 > 255 {
		return false
	}
	label := 0
	for i := 0; i < n; i++ {
		c := name[i]
		switch {
		case c == '.':
			if label == 0 {
				return false
			}
			label = 0
		case c <= ' ' || c > '~' || c == '\\':
			return false
		default:
			label++
			if label > 63 {
				return false
			}
		}
	}
	return label > 0
}
