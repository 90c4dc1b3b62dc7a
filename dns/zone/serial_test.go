package zone

import (
	"testing"
	"time"
)

func TestSerialLess(t *testing.T) {
	const half = 1 << 31
	tests := []struct {
		a, b uint32
		less bool // a < b
		more bool // b < a
	}{
		// RFC 1982 §5.2's examples for SERIAL_BITS = 8, scaled to 32 bits:
		// 0<1, 0<44, 0<100, 44<100, 100<200, 200<255, 255<0, 255<100,
		// 200<0, 200<44.
		{0, 1, true, false},
		{0, 44 << 24, true, false},
		{0, 100 << 24, true, false},
		{44 << 24, 100 << 24, true, false},
		{100 << 24, 200 << 24, true, false},
		{200 << 24, 255 << 24, true, false},
		{255 << 24, 0, true, false},
		{255 << 24, 100 << 24, true, false},
		{200 << 24, 0, true, false},
		{200 << 24, 44 << 24, true, false},
		// around the end of the number space
		{0xFFFFFFFF, 0, true, false},
		{0xFFFFFFFF, half - 2, true, false},
		{0, half - 1, true, false},
		// equal: neither
		{7, 7, false, false},
		// a+2^31: undefined, neither
		{0, half, false, false},
		{half, 0, false, false},
		{12345, 12345 + half, false, false},
		{0xFFFFFFFF, half - 1, false, false},
	}
	for _, tt := range tests {
		if got := SerialLess(tt.a, tt.b); got != tt.less {
			t.Errorf("SerialLess(%d, %d) = %v, want %v", tt.a, tt.b, got, tt.less)
		}
		if got := SerialLess(tt.b, tt.a); got != tt.more {
			t.Errorf("SerialLess(%d, %d) = %v, want %v", tt.b, tt.a, got, tt.more)
		}
	}
}

func TestSerialNext(t *testing.T) {
	day := time.Date(2024, 1, 2, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		old  uint32
		now  time.Time
		want uint32
	}{
		{"counter zone moves to a date", 7, day, 2024010200},
		{"earlier day", 2023123105, day, 2024010200},
		{"first change today", 2024010199, day, 2024010200},
		{"second change today", 2024010200, day, 2024010201},
		{"100th change today spills into tomorrow", 2024010299, day, 2024010300},
		{"serial ahead of the clock", 2024010305, day, 2024010306},
		{"date is a+2^31: undefined, so count", 2024010200 + 1<<31, day, 2024010200 + 1<<31 + 1},
		{"date more than 2^31 behind", 3000000000, day, 3000000001},
		{"wraparound", 0xFFFFFFFF, time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), 0},
		{"wraparound to a date", 0xFFFFFFFF, day, 2024010200},
		{"date from UTC", 2024010200, time.Date(2024, 1, 2, 23, 30, 0, 0, time.FixedZone("EST", -5*3600)), 2024010300},
		{"date does not fit 32 bits", 5, time.Date(4295, 1, 1, 0, 0, 0, 0, time.UTC), 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SerialNext(tt.old, tt.now)
			if got != tt.want {
				t.Errorf("SerialNext(%d, %v) = %d, want %d", tt.old, tt.now, got, tt.want)
			}
			if !SerialLess(tt.old, got) {
				t.Errorf("SerialNext(%d) = %d, not greater", tt.old, got)
			}
		})
	}
}
