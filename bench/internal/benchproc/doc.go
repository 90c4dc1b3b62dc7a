// Package benchproc reads what the benchmark programs measure of the servers
// they start, from Linux's /proc: resident memory over a process tree,
// and free loopback ports to start them on.
package benchproc
