package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quercus-dev/quercus/caldav/users"
)

// TestUserCommands: add, passwd and remove each push one commit to the
// repository, with hashes that verify.
func TestUserCommands(t *testing.T) {
	remote := filepath.Join(t.TempDir(), "cal.git")
	if out, err := exec.Command("git", "init", "-q", "--bare", "--initial-branch=main", remote).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v %s", err, out)
	}
	show := func(path string) string {
		out, _ := exec.Command("git", "-C", remote, "show", "main:"+path).CombinedOutput()
		return string(out)
	}
	r := quercus(t, nil, "user", "add", "--remote", remote, "--groups", "staff", "alice")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "password for alice: ") {
		t.Fatalf("user add: %+v", r)
	}
	generated := strings.TrimSpace(strings.TrimPrefix(r.stdout, "password for alice: "))
	u, err := users.Decode("alice", []byte(show("users/alice.json")))
	if err != nil || !users.Verify(u.Password, generated) {
		t.Errorf("the stored hash does not verify the printed password: %v %+v", err, u)
	}
	if !strings.Contains(show("groups/staff.json"), `"alice"`) {
		t.Errorf("alice is not in staff")
	}
	if r := quercus(t, nil, "user", "add", "--remote", remote, "alice"); r.code != exitFail {
		t.Errorf("adding alice twice: %+v", r)
	}
	if r := quercus(t, map[string]string{"QUERCUS_PASSWORD": "new"}, "user", "passwd", "--remote", remote, "alice"); r.code != 0 {
		t.Fatalf("user passwd: %+v", r)
	}
	if u, _ := users.Decode("alice", []byte(show("users/alice.json"))); !users.Verify(u.Password, "new") {
		t.Errorf("passwd did not set the new password")
	}
	if r := quercus(t, nil, "user", "remove", "--remote", remote, "alice"); r.code != 0 {
		t.Fatalf("user remove: %+v", r)
	}
	if exec.Command("git", "-C", remote, "cat-file", "-e", "main:users/alice.json").Run() == nil {
		t.Errorf("alice is still stored")
	}
	if exec.Command("git", "-C", remote, "cat-file", "-e", "main:groups/staff.json").Run() == nil {
		t.Errorf("the emptied group staff is still stored")
	}
	if r := quercus(t, nil, "user", "add", "--remote", remote, "../x"); r.code != exitUsage {
		t.Errorf("a bad name: %+v", r)
	}
	log, _ := exec.Command("git", "-C", remote, "log", "--format=%s").CombinedOutput()
	want := "quercus user remove alice\nquercus user passwd alice\nquercus user add alice\n"
	if string(log) != want {
		t.Errorf("history:\n%s\nwant:\n%s", log, want)
	}
}
