package main

import (
	"fmt"
	"io"
	"net"

	"github.com/quercus-dev/quercus/dns/tsig"
)

// printDemo tells a newcomer what to try against the demo repository.
func printDemo(w io.Writer, addr, remote string, key tsig.Key) {
	host, port, _ := net.SplitHostPort(addr)
	fmt.Fprintf(w, `
dns-primary serves a demo repository: %[3]s
(two zones, example.com and example.org, and an update key for example.com)

Ask it:
  dig @%[1]s -p %[2]s www.example.com A
  dig @%[1]s -p %[2]s nothing.example.com A          # NXDOMAIN, SOA in authority
  dig @%[1]s -p %[2]s host.lab.example.com A         # a referral with glue
  dig @%[1]s -p %[2]s example.com AXFR -y %[4]s

Change a record with a dynamic update; it becomes a commit in the repository:
  nsupdate -y %[4]s <<EOF
  server %[1]s %[2]s
  update add hello.example.com. 300 A 192.0.2.99
  send
  EOF
  git -C %[3]s log -1 -p

Change a zone with git; the server fetches every 2s in demo mode:
  git clone %[3]s zones && cd zones
  $EDITOR example.com      # add a record, raise the serial
  git commit -am "add a record" && git push

`, host, port, remote, key.DigFlag())
}
