package collmeta

import (
	"errors"
	"testing"
)

func TestParseGrantee(t *testing.T) {
	tests := []struct{ in, want string }{
		{"alice", "user:alice"},
		{"user:alice", "user:alice"},
		{"@staff", "group:staff"},
		{"group:staff", "group:staff"},
		{"*", "user:*"},
		{"user:*", "user:*"},
		{"", ""},
		{"@", ""},
		{"group:*", ""},
		{"a b", ""},
		{"user:@x", ""},
	}
	for _, tt := range tests {
		got, err := ParseGrantee(tt.in)
		if got != tt.want || (tt.want == "") != errors.Is(err, ErrGrantee) {
			t.Errorf("ParseGrantee(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// TestEncode: the file keeps its fields in one order and survives a
// round trip.
func TestEncode(t *testing.T) {
	m := &Meta{Calendar: true, Props: map[string]string{"{DAV:}displayname": "Work"}, Share: map[string]string{"group:staff": Write}}
	want := "{\n  \"calendar\": true,\n  \"props\": {\n    \"{DAV:}displayname\": \"Work\"\n  },\n  \"share\": {\n    \"group:staff\": \"write\"\n  }\n}\n"
	if got := string(m.Encode()); got != want {
		t.Errorf("Encode:\n%s\nwant:\n%s", got, want)
	}
	if got := string(m.Clone().Encode()); got != want {
		t.Errorf("Clone changed it:\n%s", got)
	}
}

func FuzzParseGrantee(f *testing.F) {
	for _, s := range []string{"alice", "@staff", "*", "group:x", "user:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g, err := ParseGrantee(s)
		if err != nil {
			return
		}
		if again, err := ParseGrantee(g); err != nil || again != g {
			t.Errorf("ParseGrantee(%q) = %q, which parses as %q, %v", s, g, again, err)
		}
	})
}
