package git

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
)

// Environment variables for secrets, which must never be flags that show
// in ps.
const (
	EnvToken         = "QUERCUS_GIT_TOKEN"          // https: token, sent as the password
	EnvUsername      = "QUERCUS_GIT_USERNAME"       // https: user name
	EnvPassword      = "QUERCUS_GIT_PASSWORD"       // https: password
	EnvKeyPassphrase = "QUERCUS_SSH_KEY_PASSPHRASE" // ssh: passphrase of the key file
)

// SSH names the files ssh remotes authenticate with.
type SSH struct {
	// KeyFile is the private key. Required for ssh remotes.
	KeyFile string
	// KnownHosts is the known_hosts file that pins the server's host key.
	// Default: $SSH_KNOWN_HOSTS, then ~/.ssh/known_hosts. Host keys are
	// always checked; there is no way to skip the check.
	KnownHosts string
}

// AuthFromEnv returns the authentication for remote: ssh keys from the
// files named in sshCfg, http credentials from the environment, nothing
// for local remotes. Credentials embedded in an http URL are refused.
func AuthFromEnv(remote string, sshCfg SSH, getenv func(string) string) (transport.AuthMethod, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	raw, _ := SplitRemote(remote)
	ep, err := transport.NewEndpoint(raw)
	if err != nil {
		return nil, fmt.Errorf("git: remote %q: %w", redact(raw), err)
	}
	switch ep.Protocol {
	case "file":
		return nil, nil
	case "http", "https":
		if ep.Password != "" {
			return nil, fmt.Errorf("git: remote %s carries a password; set %s or %s instead", redact(raw), EnvToken, EnvPassword)
		}
		user := getenv(EnvUsername)
		if user == "" {
			user = ep.User
		}
		if tok := getenv(EnvToken); tok != "" {
			if user == "" {
				user = "quercus" // forges ignore the name when a token is the password
			}
			return &githttp.BasicAuth{Username: user, Password: tok}, nil
		}
		if pw := getenv(EnvPassword); pw != "" {
			if user == "" {
				return nil, fmt.Errorf("git: %s is set but %s is not", EnvPassword, EnvUsername)
			}
			return &githttp.BasicAuth{Username: user, Password: pw}, nil
		}
		return nil, nil
	case "ssh":
		if sshCfg.KeyFile == "" {
			return nil, fmt.Errorf("git: ssh remote %s needs a private key file (--ssh-key)", redact(raw))
		}
		user := ep.User
		if user == "" {
			user = "git"
		}
		keys, err := gitssh.NewPublicKeysFromFile(user, sshCfg.KeyFile, getenv(EnvKeyPassphrase))
		if err != nil {
			return nil, fmt.Errorf("git: ssh key: %w", err)
		}
		known := sshCfg.KnownHosts
		if known == "" {
			known = getenv("SSH_KNOWN_HOSTS")
		}
		if known == "" {
			if home, err := os.UserHomeDir(); err == nil {
				known = filepath.Join(home, ".ssh", "known_hosts")
			}
		}
		if _, err := os.Stat(known); err != nil {
			return nil, fmt.Errorf("git: ssh remote %s: no known_hosts file to check the server's key (--ssh-known-hosts): %w", redact(raw), err)
		}
		db, err := gitssh.NewKnownHostsDb(known)
		if err != nil {
			return nil, fmt.Errorf("git: known_hosts %s: %w", known, err)
		}
		keys.HostKeyCallback = db.HostKeyCallback()
		// Ask for a host key type that known_hosts pins, as OpenSSH does:
		// left to itself x/crypto/ssh prefers ECDSA and RSA over Ed25519,
		// and a server key of a type not pinned fails the check.
		port := ep.Port
		if port <= 0 {
			port = 22
		}
		keys.HostKeyAlgorithms = db.HostKeyAlgorithms(net.JoinHostPort(ep.Host, strconv.Itoa(port)))
		return keys, nil
	}
	return nil, fmt.Errorf("git: remote %s: unsupported protocol %q", redact(raw), ep.Protocol)
}

// redact hides a password in a URL for logs and errors.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

var errNoRemote = errors.New("git: no remote given")
