package service

import (
	"context"
	"log/slog"
	"os"

	kvgit "github.com/quercus-dev/quercus/kv/git"
)

// OpenStore clones the remote named by --remote into memory, with the ssh
// key files from the flags and http credentials from the environment.
func OpenStore(ctx context.Context, f Flags, logger *slog.Logger) (*kvgit.Store, error) {
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
