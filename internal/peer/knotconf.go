package peer

import "fmt"

// KnotConfHead is the start every knot.conf here shares: a knotd
// listening on 127.0.0.1 at port, keeping its run files and zones in
// dir, logging to stderr, with the TSIG key keyName (hmac-sha256, secret
// in base64). The remote, acl and zone sections follow it.
func KnotConfHead(dir string, port int, keyName, secret string) string {
	return fmt.Sprintf(`server:
    rundir: "%[1]s"
    listen: 127.0.0.1@%[2]d
log:
  - target: stderr
    any: info
database:
    storage: "%[1]s"
key:
  - id: %[3]s
    algorithm: hmac-sha256
    secret: %[4]s
`, dir, port, keyName, secret)
}
