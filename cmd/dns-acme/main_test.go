package main

import (
	"flag"
	"testing"
)

// TestFlags: every flag the service needs, the common ones but the git
// remote's, which dns-acme has no use for.
func TestFlags(t *testing.T) {
	fs := flag.NewFlagSet("dns-acme", flag.ContinueOnError)
	define(fs)
	for _, name := range []string{
		"dns-key", "notify-key", "dns-server", "acme-directory", "production", "acme-ca",
		"email", "account-key", "account-key-seed", "check", "rescan",
		"listen", "http", "syslog", "influx", "log-level", "log-format",
	} {
		if fs.Lookup(name) == nil {
			t.Errorf("no --%s", name)
		}
	}
	for _, name := range []string{"remote", "ssh-key", "ssh-known-hosts"} {
		if fs.Lookup(name) != nil {
			t.Errorf("--%s is offered but means nothing to dns-acme", name)
		}
	}
}

func TestRunRefuses(t *testing.T) {
	key := "acme._update.example.com:hmac-sha256:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"
	for _, c := range []struct {
		name string
		c    config
	}{
		{"no key", config{dnsServer: "127.0.0.1"}},
		{"a key without update rights", config{dnsKey: "x._notify.example.com:hmac-sha256:c2VjcmV0", dnsServer: "127.0.0.1"}},
		{"no server", config{dnsKey: key}},
		{"a server by name", config{dnsKey: key, dnsServer: "ns1.example.com"}},
		{"production and a directory", config{dnsKey: key, dnsServer: "127.0.0.1", production: true, directory: "https://127.0.0.1/dir"}},
		{"two account keys", config{dnsKey: key, dnsServer: "127.0.0.1", directory: staging, accountKey: "k.pem", accountKeySeed: "a seed long enough!"}},
		{"a short seed", config{dnsKey: key, dnsServer: "127.0.0.1", directory: staging, accountKeySeed: "short"}},
		{"a missing CA file", config{dnsKey: key, dnsServer: "127.0.0.1", directory: staging, acmeCA: "/nonexistent.pem"}},
	} {
		if err := run(c.c); err == nil {
			t.Errorf("%s: run started", c.name)
		}
	}
}
