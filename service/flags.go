package service

import (
	"flag"
	"fmt"
	"log/slog"
	"strings"
)

// EnvPrefix starts the environment variable of every flag:
// --log-level is also QUERCUS_LOG_LEVEL.
const EnvPrefix = "QUERCUS_"

// EnvName returns the environment variable that sets flag name.
func EnvName(name string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// Flags are the flags every service shares. Register them with Register,
// with the service's own defaults.
type Flags struct {
	Listen        string
	HTTP          string
	Remote        string
	SSHKey        string
	SSHKnownHosts string
	Syslog        string
	Influx        string
	LogLevel      string
	LogFormat     string
	// Sandbox is on, log or off (see package sandbox); default on on
	// Linux. SandboxReport prints the policy and exits.
	Sandbox       string
	SandboxReport bool
	// User is who a service started as root runs as once its ports are
	// bound; empty picks nobody, or the owner of a local remote.
	User string
}

// Register defines the common flags on fs, with defaults from d.
func (f *Flags) Register(fs *flag.FlagSet, d Flags) {
	fs.StringVar(&f.Listen, "listen", d.Listen, "address the service listens on")
	fs.StringVar(&f.HTTP, "http", d.HTTP, "address of the HTTP side port serving /metrics, /healthz and /readyz (empty: off)")
	fs.StringVar(&f.Remote, "remote", d.Remote, "git remote holding the data: path, file://, ssh://, http(s):// URL, optionally #branch")
	fs.StringVar(&f.SSHKey, "ssh-key", d.SSHKey, "private key file for ssh remotes (passphrase from QUERCUS_SSH_KEY_PASSPHRASE)")
	fs.StringVar(&f.SSHKnownHosts, "ssh-known-hosts", d.SSHKnownHosts, "known_hosts file pinning the ssh remote's host key (default ~/.ssh/known_hosts)")
	fs.StringVar(&f.Syslog, "syslog", d.Syslog, "send logs as RFC 5424 syslog to udp://, tcp:// or tls://host:port instead of stderr")
	fs.StringVar(&f.Influx, "influx", d.Influx, "push metrics every 10s as Influx line protocol to udp://, tcp://host:port or http(s)://host/write?db=NAME")
	if d.LogLevel == "" {
		d.LogLevel = "info"
	}
	if d.LogFormat == "" {
		d.LogFormat = "text"
	}
	fs.StringVar(&f.LogLevel, "log-level", d.LogLevel, "least severe log level: debug, info, warn or error")
	fs.StringVar(&f.LogFormat, "log-format", d.LogFormat, "format of logs on stderr: text or json")
	if d.Sandbox == "" {
		d.Sandbox = DefaultSandbox
	}
	fs.StringVar(&f.Sandbox, "sandbox", d.Sandbox, "after start-up restrict the process to its system call allowlist and no files: on, log (allow and record what is outside the list, in the kernel's log) or off (for debugging)")
	fs.BoolVar(&f.SandboxReport, "sandbox-report", false, "print the sandbox policy (each allowed system call and why, ports, paths) and exit")
	fs.StringVar(&f.User, "user", d.User, "when started as root, run as this user once the ports are bound (empty: nobody, or the owner of a local --remote)")
}

// Level parses LogLevel.
func (f *Flags) Level() (slog.Level, error) {
	var l slog.Level
	if f.LogLevel == "" {
		return slog.LevelInfo, nil
	}
	if err := l.UnmarshalText([]byte(f.LogLevel)); err != nil {
		return 0, fmt.Errorf("--log-level %q: want debug, info, warn or error", f.LogLevel)
	}
	return l, nil
}

// Secrets are never flags, which show in ps; these variables carry them.
var secretEnv = [][2]string{
	{"QUERCUS_GIT_TOKEN", "https remotes: a token, sent as the password"},
	{"QUERCUS_GIT_USERNAME, _PASSWORD", "https remotes: user name and password"},
	{"QUERCUS_SSH_KEY_PASSPHRASE", "ssh remotes: the passphrase of --ssh-key"},
	{"QUERCUS_INFLUX_USERNAME, _PASSWORD", "--influx over http(s): basic authentication"},
}

// Parse parses args into fs after taking defaults from the environment:
// a flag given on the command line wins over its QUERCUS_ variable, which
// wins over the built-in default. Usage lists every flag with its default
// and its variable, the secrets read from the environment, and notes, the
// service's own lines for the end of --help.
func Parse(fs *flag.FlagSet, args []string, getenv func(string) string, notes ...string) error {
	var bad error
	fs.VisitAll(func(f *flag.Flag) {
		if v := getenv(EnvName(f.Name)); v != "" && bad == nil {
			if err := f.Value.Set(v); err != nil {
				bad = fmt.Errorf("%s=%q: %v", EnvName(f.Name), v, err)
			}
		}
	})
	if bad != nil {
		return bad
	}
	fs.Usage = func() { usage(fs, notes) }
	return fs.Parse(args)
}

func usage(fs *flag.FlagSet, notes []string) {
	w := fs.Output()
	fmt.Fprintf(w, "Usage of %s:\n", fs.Name())
	fs.VisitAll(func(f *flag.Flag) {
		name, help := flag.UnquoteUsage(f)
		fmt.Fprintf(w, "  --%s", f.Name)
		if name != "" {
			fmt.Fprintf(w, " %s", name)
		}
		fmt.Fprintf(w, "\n    \t%s\n    \t(default %q; env %s)\n", help, f.DefValue, EnvName(f.Name))
	})
	if fs.Lookup("remote") != nil {
		fmt.Fprintf(w, "\nSecrets come only from the environment:\n")
		for _, l := range secretEnv {
			fmt.Fprintf(w, "  %-36s %s\n", l[0], l[1])
		}
	}
	if len(notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range notes {
			fmt.Fprintln(w, n)
		}
	}
}
