package git

// SetGC sets the thresholds of the local remotes' collection (objects,
// bytes; zero for never) and returns a function that restores them.
func SetGC(objects int, bytes int64) (restore func()) {
	autoGC.wait()
	old := gcConfig
	if objects == 0 {
		objects = 1 << 62
	}
	if bytes == 0 {
		bytes = 1 << 62
	}
	gcConfig.Objects, gcConfig.Bytes = objects, bytes
	return func() {
		autoGC.wait()
		gcConfig = old
	}
}

// WaitGC returns once no collection runs.
func WaitGC() { autoGC.wait() }

// GCDefaults are the thresholds a remote is collected past.
func GCDefaults() (objects int, bytes int64) { return gcConfig.Objects, gcConfig.Bytes }
