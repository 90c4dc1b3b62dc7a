package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/quercus-dev/quercus/dns/tsig"
)

var keygenCommand = &command{
	name:    "tsig-keygen",
	args:    "NAME",
	summary: "make a TSIG key for a _keys file and its clients",
	help: `Makes a TSIG key (RFC 8945) called NAME with a random secret as long as
the hash output, as BIND's tsig-keygen does, and prints it:

  - the DNSKEY line that stores it in a key file of the zone repository
    (_keys for keys of any zone, or <zone>._keys), in robur's
    dns-primary-git format;
  - as comments, the NAME:ALGORITHM:SECRET form that quercus notify reads
    from --key-file or QUERCUS_KEY, and the ALGORITHM:NAME:SECRET form of
    nsupdate -y and kdig -y.

The output is itself a valid key file, and 'quercus notify --key-file' reads
it too. Keep it secret: store it in a file, not on command lines, which ps
shows.

The name says what the key may do, on its zone and every zone below:
  <name>._update.<zone>          update, transfer and notify
  <ip1>.<ip2>._transfer.<zone>   transfer and notify; ip1 is the primary's
                                 IPv4 address, ip2 the secondary's
  <name>._transfer.<zone>        transfer and notify
  <name>._notify.<zone>          notify only
A name without <zone> (ops._notify.) holds for every zone. Labels may hold
letters, digits, '-' and '_'.

Example:
  quercus tsig-keygen ops._notify.example.com > ops.key
  grep -v '^;' ops.key >> example.com._keys
`,
	setup: func(fs *flag.FlagSet) runFunc {
		alg := fs.String("algorithm", "hmac-sha256", "the HMAC: hmac-sha1, hmac-sha224, hmac-sha256, hmac-sha384 or hmac-sha512")
		return func(ctx context.Context, e *env, c *command, args []string) int {
			if len(args) != 1 {
				return e.usageError(c, "want one key NAME")
			}
			k, err := tsig.Generate(args[0], *alg, e.rand)
			if err != nil {
				return e.fail(c, "%v", err)
			}
			where, file := "every zone", "_keys"
			if k.Zone != "." {
				where = k.Zone + " and below"
				file = strings.TrimSuffix(k.Zone, ".") + "._keys or _keys"
			}
			fmt.Fprintf(e.stdout, "%s\n", k.Record())
			fmt.Fprintf(e.stdout, "; %s key %s: %s on %s; the line above goes in %s\n",
				k.AlgorithmName(), k.Name, k.Rights, where, file)
			fmt.Fprintf(e.stdout, "; quercus notify --key-file, QUERCUS_KEY: %s\n", k.Flag())
			fmt.Fprintf(e.stdout, "; nsupdate -y, kdig -y: %s\n", k.DigFlag())
			return exitOK
		}
	},
}
