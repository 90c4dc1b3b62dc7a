package zone

import "strings"

// IsKeyFile reports whether a top-level repository file holds TSIG keys:
// _keys, or <zone>._keys.
func IsKeyFile(name string) bool { return name == "_keys" || strings.HasSuffix(name, "._keys") }

// IsZoneFile reports whether a top-level repository file is a zone, named
// by the zone: everything but key files, dotfiles and the README or
// LICENSE a repository may carry.
func IsZoneFile(name string) bool {
	if name == "" || IsKeyFile(name) || strings.HasPrefix(name, ".") || strings.Contains(name, "/") {
		return false
	}
	up := strings.ToUpper(name)
	return !strings.HasPrefix(up, "README") && !strings.HasPrefix(up, "LICENSE")
}
