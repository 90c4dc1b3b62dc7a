package gitstore

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/go-git/go-git/v5/plumbing/transport"

	kvgit "github.com/quercus-dev/quercus/kv/git"
	"github.com/quercus-dev/quercus/service"
)

// Open clones the remote named by --remote into memory, with the ssh key
// files from the flags and http credentials from the environment.
func Open(ctx context.Context, f service.Flags, logger *slog.Logger) (*kvgit.Store, error) {
	auth, err := kvgit.AuthFromEnv(f.Remote, kvgit.SSH{KeyFile: f.SSHKey, KnownHosts: f.SSHKnownHosts}, os.Getenv)
	if err != nil {
		return nil, err
	}
	s, err := kvgit.Open(ctx, kvgit.Config{Remote: f.Remote, Auth: auth, Logger: logger})
	if err != nil {
		return nil, err
	}
	logger.Info("remote cloned", "branch", s.Branch(), "version", s.Version())
	return s, nil
}

// defaultPorts are the TCP ports of the remote protocols that have one.
var defaultPorts = map[string]uint16{"ssh": 22, "http": 80, "https": 443, "git": 9418}

// Locate says where a remote ("URL#branch", as --remote takes it) lives,
// parsed as the git client will parse it: a local path or file:// URL is
// its absolute folder, anything else a host and TCP port. It is
// service.Config.Remote for services that use Open.
func Locate(remote string) (service.Endpoint, error) {
	raw, _ := kvgit.SplitRemote(remote)
	ep, err := transport.NewEndpoint(raw)
	if err != nil {
		return service.Endpoint{}, err
	}
	if ep.Protocol == "file" {
		dir, err := filepath.Abs(ep.Path)
		if err != nil {
			return service.Endpoint{}, err
		}
		return service.Endpoint{Dir: dir}, nil
	}
	port := uint16(ep.Port)
	if ep.Port == 0 {
		port = defaultPorts[ep.Protocol]
	}
	return service.Endpoint{Host: ep.Host, Port: port}, nil
}
