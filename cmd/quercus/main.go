// Command quercus is the operator's tool for Quercus DNS repositories: it
// checks and diffs zone files (a git pre-receive hook), sends signed
// NOTIFY messages (a git post-receive hook) and makes TSIG keys.
// Run `quercus --help` for the commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, os.Args[1:])
	stop()
	os.Exit(code)
}
