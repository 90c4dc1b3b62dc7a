package sandbox

// WithoutCgo runs f as if the binary were linked without cgo, as release
// binaries are, so that golden reports do not depend on -race.
func WithoutCgo(f func()) {
	saved := cgo
	cgo = false
	defer func() { cgo = saved }()
	f()
}
