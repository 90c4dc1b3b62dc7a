package kv

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors; implementations wrap them, so test with errors.Is.
var (
	// ErrNotFound: no file (or folder) at the key.
	ErrNotFound = errors.New("kv: not found")
	// ErrUnknownVersion: the version does not exist in the store.
	ErrUnknownVersion = errors.New("kv: unknown version")
	// ErrInvalidKey: the key is not a clean relative path.
	ErrInvalidKey = errors.New("kv: invalid key")
	// ErrConflict: other writers kept moving the head and the batch gave
	// up after its retries. Nothing was written.
	ErrConflict = errors.New("kv: too many concurrent writers")
	// ErrUnavailable: the backing remote could not be reached or refused
	// the operation. Nothing was written.
	ErrUnavailable = errors.New("kv: remote unavailable")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("kv: store closed")
)

// KeyError reports a rejected key.
type KeyError struct {
	Key    string
	Reason string
}

func (e *KeyError) Error() string {
	return fmt.Sprintf("kv: invalid key %q: %s", e.Key, e.Reason)
}

func (e *KeyError) Unwrap() error { return ErrInvalidKey }

// NotFound returns an error for a missing key that wraps ErrNotFound.
func NotFound(key string) error {
	return fmt.Errorf("%w: %q", ErrNotFound, key)
}

// CheckKey reports whether key names a file: a relative, clean,
// slash-separated path with no empty, "." or ".." segments and no ".git"
// segment (which git refuses to store).
func CheckKey(key string) error {
	if key == "" {
		return &KeyError{key, "empty"}
	}
	return checkPath(key)
}

// CheckPrefix is CheckKey for folder prefixes, where "" is the root.
func CheckPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	return checkPath(prefix)
}

func checkPath(p string) error {
	if len(p) > 4096 {
		return &KeyError{p[:32] + "...", "longer than 4096 bytes"}
	}
	for _, seg := range strings.Split(p, "/") {
		switch {
		case seg == "":
			return &KeyError{p, "empty path segment"}
		case seg == "." || seg == "..":
			return &KeyError{p, "relative path segment"}
		case strings.EqualFold(seg, ".git"):
			return &KeyError{p, "reserved segment .git"}
		case strings.ContainsAny(seg, "\x00\\"):
			return &KeyError{p, "NUL or backslash"}
		}
	}
	return nil
}

// Under reports whether key lies in the folder prefix ("" is the root).
func Under(key, prefix string) bool {
	return prefix == "" || strings.HasPrefix(key, prefix+"/")
}
