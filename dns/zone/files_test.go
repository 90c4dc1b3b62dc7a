package zone

import "testing"

func TestFileKinds(t *testing.T) {
	tests := []struct {
		name      string
		zone, key bool
	}{
		{"example.com", true, false},
		{"Example.COM", true, false},
		{"2.0.192.in-addr.arpa", true, false},
		{"_keys", false, true},
		{"example.com._keys", false, true},
		{"._keys", false, true},
		{"x_keys", true, false},
		{"_keys.example.com", true, false},
		{".gitignore", false, false},
		{"README", false, false},
		{"readme.md", false, false},
		{"LICENSE", false, false},
		{"docs/example.com", false, false},
		{"", false, false},
	}
	for _, tc := range tests {
		if got := IsZoneFile(tc.name); got != tc.zone {
			t.Errorf("IsZoneFile(%q) = %v, want %v", tc.name, got, tc.zone)
		}
		if got := IsKeyFile(tc.name); got != tc.key {
			t.Errorf("IsKeyFile(%q) = %v, want %v", tc.name, got, tc.key)
		}
	}
}
