package main

import (
	"fmt"
	"io"

	"github.com/quercus-dev/quercus/caldav"
)

// printDemo tells a newcomer how to connect to the demo server.
func printDemo(w io.Writer, url, remote, password string) {
	fmt.Fprintf(w, `
caldav serves a demo repository: %[3]s
User %[4]q, password %[5]s

Point a calendar client (DAVx5, Thunderbird, Apple Calendar) at %[1]s
or try:
  curl -u %[4]s:%[5]s -X PROPFIND -H 'Depth: 1' %[1]scalendars/%[4]s/
  git -C %[3]s log --stat     # every change a client makes is a commit

`, url, "", remote, caldav.DemoUser, password)
}
