package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"

	"github.com/quercus-dev/quercus/dns/zone"
)

// files are the zone and key files of one version of a zone repository,
// by name, as dns-primary would read them.
type files map[string][]byte

// wanted reports whether dns-primary reads the top-level file name.
func wanted(name string) bool { return zone.IsZoneFile(name) || zone.IsKeyFile(name) }

// maxFile bounds what is read of one file: one byte more than a zone may
// have, so that zone.Parse still reports it as too large.
const maxFile = zone.MaxSize + 1

// openRepo opens the git repository at path (a bare repository, or a
// working tree's top folder). It returns nil, nil if path is no git
// repository.
func openRepo(path string) (*git.Repository, error) {
	r, err := git.PlainOpen(path)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// readRevision reads the files of the commit rev names in r: a commit id,
// branch, tag, HEAD~1 and the like.
func readRevision(r *git.Repository, rev string) (files, error) {
	h, err := r.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		return nil, fmt.Errorf("revision %s: %w", rev, err)
	}
	c, err := r.CommitObject(*h)
	if err != nil {
		return nil, fmt.Errorf("revision %s: %w", rev, err)
	}
	tree, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("revision %s: %w", rev, err)
	}
	out := files{}
	for _, e := range tree.Entries {
		// kv/git serves a symbolic link as a file holding its target;
		// submodules and folders are not files.
		switch e.Mode {
		case filemode.Regular, filemode.Executable, filemode.Deprecated, filemode.Symlink:
		default:
			continue
		}
		if !wanted(e.Name) {
			continue
		}
		b, err := r.BlobObject(e.Hash)
		if err != nil {
			return nil, fmt.Errorf("revision %s: %s: %w", rev, e.Name, err)
		}
		rd, err := b.Reader()
		if err != nil {
			return nil, fmt.Errorf("revision %s: %s: %w", rev, e.Name, err)
		}
		data, err := io.ReadAll(io.LimitReader(rd, maxFile))
		rd.Close()
		if err != nil {
			return nil, fmt.Errorf("revision %s: %s: %w", rev, e.Name, err)
		}
		out[e.Name] = data
	}
	return out, nil
}

// readDir reads the files at the top of dir. A symbolic link is read as
// the text of its target, as git stores it and kv/git serves it; following
// it could read any file of the machine into error messages.
func readDir(dir string) (files, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := files{}
	for _, e := range entries {
		name := e.Name()
		if !wanted(name) {
			continue
		}
		path := filepath.Join(dir, name)
		switch {
		case e.Type().IsRegular():
			data, err := readFile(path)
			if err != nil {
				return nil, err
			}
			out[name] = data
		case e.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return nil, err
			}
			out[name] = []byte(target)
		}
	}
	return out, nil
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxFile))
}

// isDir reports whether path is a directory.
func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// readVersion reads arg as a version: a directory's files if arg is a
// directory, else a revision of the repository at repoPath.
func readVersion(arg, repoPath string) (files, error) {
	if isDir(arg) {
		return readDir(arg)
	}
	r, err := openRepo(repoPath)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, fmt.Errorf("%s is no directory, and %s no git repository to find it in", arg, repoPath)
	}
	return readRevision(r, arg)
}
