package peer

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// SSHD is an OpenSSH server on 127.0.0.1 that lets root in with Key, for
// git remotes over ssh.
type SSHD struct {
	Port       int
	Key        string // the client's private key file
	KnownHosts string // a known_hosts file pinning the server's key
}

// URL is the ssh:// remote of the repository at the absolute path bare.
func (d SSHD) URL(bare string) string {
	return fmt.Sprintf("ssh://root@127.0.0.1:%d%s", d.Port, bare)
}

// KnownHostsFor writes a known_hosts file that pins the host key whose
// public half is pubFile for the server's address, and returns its path.
func (d SSHD) KnownHostsFor(t testing.TB, pubFile string) string {
	t.Helper()
	pub, err := os.ReadFile(pubFile)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(f, fmt.Appendf(nil, "[127.0.0.1]:%d %s", d.Port, pub), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// StartSSHD starts sshd with fresh host and client keys; it stops with t.
// Its host key is ed25519, which KnownHosts pins; extraHostKeys adds host
// keys of other types (e.g. "ecdsa").
func StartSSHD(t testing.TB, extraHostKeys ...string) SSHD {
	t.Helper()
	paths := Require(t, "git", "sshd", "ssh-keygen")
	sshd, keygen := paths[1], paths[2]
	// sshd refuses to start without its privilege separation folder.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	genKey := func(name, typ string) string {
		f := filepath.Join(dir, name)
		Run(t, "", keygen, "-q", "-t", typ, "-N", "", "-C", name, "-f", f)
		return f
	}
	d := SSHD{Port: FreePort(t), Key: genKey("client", "ed25519")}
	hostKeys := []string{genKey("host", "ed25519")}
	for _, typ := range extraHostKeys {
		hostKeys = append(hostKeys, genKey("host_"+typ, typ))
	}
	write := func(name, content string) string {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	read := func(f string) string {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	authorized := write("authorized_keys", read(d.Key+".pub"))
	d.KnownHosts = d.KnownHostsFor(t, hostKeys[0]+".pub")
	var hostLines strings.Builder
	for _, k := range hostKeys {
		fmt.Fprintf(&hostLines, "HostKey %s\n", k)
	}
	// SetEnv SHLVL=1: bash reads ~/.bashrc for commands sshd runs only at
	// shell level 1, and a developer's .bashrc can slow every git command.
	// MaxStartups 100: tests open many connections at once.
	config := write("sshd_config", fmt.Sprintf(`ListenAddress 127.0.0.1
Port %d
%sAuthorizedKeysFile %s
PidFile %s
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
MaxStartups 100
LogLevel VERBOSE
SetEnv SHLVL=1
`, d.Port, hostLines.String(), authorized, filepath.Join(dir, "sshd.pid")))
	Run(t, "", sshd, "-t", "-f", config) // a clear error for a bad config
	// sshd re-executes itself, so it needs its absolute path.
	Start(t, sshd, "-D", "-e", "-f", config)
	WaitTCP(t, fmt.Sprintf("127.0.0.1:%d", d.Port), 10*time.Second)
	return d
}
