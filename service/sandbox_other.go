//go:build !linux

package service

// DefaultSandbox is --sandbox's default: off where there is no seccomp.
const DefaultSandbox = "off"
