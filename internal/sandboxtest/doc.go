// Package sandboxtest checks that a service, once it has locked itself
// down, cannot open a file, run a program or make a socket of a family it
// does not use, from any goroutine. A sandbox cannot be undone, so each
// probe runs in a child: the test binary again, serving as the service.
package sandboxtest
