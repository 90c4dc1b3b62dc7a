package users

import (
	"context"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/quercus-dev/quercus/kv"
	"github.com/quercus-dev/quercus/kv/mem"
)

func TestVerify(t *testing.T) {
	argon, err := Hash("secret")
	if err != nil {
		t.Fatal(err)
	}
	bc, err := bcrypt.GenerateFromPassword([]byte("secret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, hash, password string
		want                 bool
	}{
		{"argon2id", argon, "secret", true},
		{"argon2id wrong", argon, "Secret", false},
		{"bcrypt", string(bc), "secret", true},
		{"bcrypt wrong", string(bc), "secret ", false},
		{"empty hash", "", "", false},
		{"plain text is no hash", "secret", "secret", false},
		{"absurd memory", "$argon2id$v=19$m=99999999,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g", "x", false},
		{"bad base64", "$argon2id$v=19$m=19456,t=2,p=1$!!$!!", "x", false},
	}
	for _, tt := range tests {
		if got := Verify(tt.hash, tt.password); got != tt.want {
			t.Errorf("%s: Verify = %v", tt.name, got)
		}
	}
}

func TestDirectory(t *testing.T) {
	ctx := context.Background()
	s := mem.New()
	_, err := s.Batch(ctx, kv.Commit{}, func(tx kv.Txn) error {
		if err := Put(tx, "alice", "pw", "alice@example.org"); err != nil {
			return err
		}
		if err := Put(tx, "bob", "pw2", ""); err != nil {
			return err
		}
		if err := SetGroups(tx, "alice", []string{"staff", "ops"}); err != nil {
			return err
		}
		if err := SetGroups(tx, "bob", []string{"staff"}); err != nil {
			return err
		}
		if err := tx.Put(UserKey("broken"), []byte("{not json")); err != nil {
			return err
		}
		return SetGroups(tx, "alice", []string{"staff"}) // leaves ops, which empties it
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, GroupKey("ops")); err == nil {
		t.Errorf("the emptied group ops is still stored")
	}
	d, err := Load(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Authenticate("alice", "pw") || !d.Authenticate("bob", "pw2") || d.Authenticate("alice", "pw2") || d.Authenticate("carol", "pw") {
		t.Errorf("Authenticate gives wrong answers")
	}
	if len(d.Problems) != 1 || d.User("broken") != nil {
		t.Errorf("a broken user file: problems %q", d.Problems)
	}
	if g := d.Groups("bob"); len(g) != 1 || g[0] != "staff" {
		t.Errorf("bob's groups: %v", g)
	}
	if u := d.User("alice"); u == nil || u.Email != "alice@example.org" {
		t.Errorf("alice: %+v", u)
	}
	if err := CheckName("../x"); err == nil {
		t.Errorf("CheckName accepts ../x")
	}
}

func TestLimiter(t *testing.T) {
	now := time.Unix(0, 0)
	l := &Limiter{Max: 3, Window: time.Minute, Now: func() time.Time { return now }}
	for i := 0; i < 3; i++ {
		if !l.Allow("a") {
			t.Fatalf("refused after %d failures", i)
		}
		l.Fail("a")
	}
	if l.Allow("a") {
		t.Errorf("allowed after 3 failures")
	}
	if !l.Allow("b") {
		t.Errorf("another client is refused")
	}
	now = now.Add(time.Minute)
	if !l.Allow("a") {
		t.Errorf("still refused after the window")
	}
}
