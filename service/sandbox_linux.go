package service

// DefaultSandbox is --sandbox's default: on where the kernel can filter
// system calls.
const DefaultSandbox = "on"
