package zone

import (
	"math"
	"time"
)

// SerialLess reports whether serial a is less than b in RFC 1982 serial
// number arithmetic: b lies less than 2^31 ahead of a, counting around
// 2^32. When b is exactly a+2^31 the order is undefined and both
// SerialLess(a, b) and SerialLess(b, a) are false.
func SerialLess(a, b uint32) bool {
	d := b - a // wraps around
	return d != 0 && d < 1<<31
}

// SerialNext returns a serial greater than old (RFC 1982), for a zone
// changed at now. It prefers the date form YYYYMMDDnn: the first serial of
// today (in UTC) if old is less than it, else old+1.
func SerialNext(old uint32, now time.Time) uint32 {
	y, m, d := now.UTC().Date()
	date := (int64(y)*10000 + int64(m)*100 + int64(d)) * 100
	if y >= 0 && date <= math.MaxUint32 && SerialLess(old, uint32(date)) {
		return uint32(date)
	}
	return old + 1
}
