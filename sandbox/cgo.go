package sandbox

import "runtime/debug"

// cgo is whether this binary was linked with cgo; its build settings say.
var cgo = func() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "CGO_ENABLED" {
			return s.Value == "1"
		}
	}
	return false
}()
