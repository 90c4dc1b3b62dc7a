package users

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/quercus-dev/quercus/kv"
)

// Folders in the repository.
const (
	UsersDir  = "users"
	GroupsDir = "groups"
)

// User is one users/NAME.json file.
type User struct {
	Name     string `json:"-"`
	Password string `json:"password"` // PHC argon2id string or bcrypt hash
	Email    string `json:"email,omitempty"`
}

// Group is one groups/NAME.json file.
type Group struct {
	Name    string   `json:"-"`
	Members []string `json:"members"`
}

var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// ErrInvalidName is returned for a user or group name that cannot be a
// path segment.
var ErrInvalidName = errors.New("users: a name is 1-64 of a-z 0-9 . _ - and starts with a letter or digit")

// CheckName reports whether name can name a user or group.
func CheckName(name string) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("%w: %q", ErrInvalidName, name)
	}
	return nil
}

// UserKey and GroupKey are where a user's and group's files live.
func UserKey(name string) string  { return UsersDir + "/" + name + ".json" }
func GroupKey(name string) string { return GroupsDir + "/" + name + ".json" }

// Argon2id parameters (OWASP's recommendation).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// Hash returns password's argon2id hash in PHC string form.
func Hash(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// Verify reports whether password matches hash (argon2id PHC or
// bcrypt), comparing in constant time.
func Verify(hash, password string) bool {
	if strings.HasPrefix(hash, "$2") {
		return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
	}
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var v int
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || m > 1<<21 || t == 0 || t > 16 || p == 0 {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := enc.DecodeString(parts[5])
	if err != nil || len(want) == 0 || len(want) > 128 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// Directory is the users and groups of one repository version.
type Directory struct {
	users  map[string]*User
	groups map[string][]string // user -> groups

	// Problems lists the files that could not be read; the users and
	// groups they hold are left out, the others still work.
	Problems []string

	mu       sync.Mutex
	verified map[string][32]byte // user -> sha256(hash, password) that passed Verify
}

// Load reads the users and groups at snap. A file that does not parse is
// left out and listed in Problems rather than failing every login.
func Load(ctx context.Context, snap kv.Snapshot) (*Directory, error) {
	d := &Directory{users: map[string]*User{}, groups: map[string][]string{}, verified: map[string][32]byte{}}
	entries, err := snap.List(ctx, UsersDir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		name, ok := fileName(e.Key, UsersDir)
		if !ok {
			continue
		}
		b, err := snap.Get(ctx, e.Key)
		if err != nil {
			return nil, err
		}
		u := &User{Name: name}
		if err := json.Unmarshal(b, u); err != nil {
			d.Problems = append(d.Problems, fmt.Sprintf("%s: %v (user ignored)", e.Key, err))
			continue
		}
		d.users[name] = u
	}
	entries, err = snap.List(ctx, GroupsDir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		name, ok := fileName(e.Key, GroupsDir)
		if !ok {
			continue
		}
		b, err := snap.Get(ctx, e.Key)
		if err != nil {
			return nil, err
		}
		var g Group
		if err := json.Unmarshal(b, &g); err != nil {
			d.Problems = append(d.Problems, fmt.Sprintf("%s: %v (group ignored)", e.Key, err))
			continue
		}
		for _, m := range g.Members {
			d.groups[m] = append(d.groups[m], name)
		}
	}
	return d, nil
}

func fileName(key, dir string) (string, bool) {
	name, ok := strings.CutPrefix(key, dir+"/")
	if !ok {
		return "", false
	}
	name, ok = strings.CutSuffix(name, ".json")
	return name, ok && CheckName(name) == nil
}

// User returns the named user, or nil.
func (d *Directory) User(name string) *User { return d.users[name] }

// Names lists the users, sorted.
func (d *Directory) Names() []string {
	var out []string
	for n := range d.users {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Groups lists the groups name belongs to.
func (d *Directory) Groups(name string) []string { return d.groups[name] }

// Authenticate reports whether password is name's. A password that
// passed once is remembered (as a hash bound to the stored hash), so
// that Basic auth on every request does not pay for argon2 each time.
func (d *Directory) Authenticate(name, password string) bool {
	u := d.users[name]
	if u == nil {
		// Spend comparable time on unknown users.
		Verify(dummyHash(), password)
		return false
	}
	sum := sha256.Sum256([]byte(u.Password + "\x00" + password))
	d.mu.Lock()
	known, ok := d.verified[name]
	d.mu.Unlock()
	if ok && subtle.ConstantTimeCompare(known[:], sum[:]) == 1 {
		return true
	}
	passed := Verify(u.Password, password)
	// argon2id just took 19 MiB; give it back to the system now rather
	// than holding it as idle heap (verifications are rare: cached).
	go debug.FreeOSMemory()
	if !passed {
		return false
	}
	d.mu.Lock()
	d.verified[name] = sum
	d.mu.Unlock()
	return true
}

var dummyHash = sync.OnceValue(func() string {
	h, _ := Hash("quercus-dummy")
	return h
})

// Put writes a user with a fresh hash of password in tx.
func Put(tx kv.Txn, name, password, email string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	h, err := Hash(password)
	if err != nil {
		return err
	}
	b, _ := json.MarshalIndent(User{Password: h, Email: email}, "", "  ")
	return tx.Put(UserKey(name), append(b, '\n'))
}

// SetGroups makes name a member of exactly groups in tx, creating
// groups as needed.
func SetGroups(tx kv.Txn, name string, groups []string) error {
	entries, err := tx.List(GroupsDir)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, e := range entries {
		g, ok := fileName(e.Key, GroupsDir)
		if ok {
			have[g] = true
		}
	}
	for _, g := range groups {
		if err := CheckName(g); err != nil {
			return err
		}
		have[g] = true
	}
	for g := range have {
		var grp Group
		if b, err := tx.Get(GroupKey(g)); err == nil {
			if err := json.Unmarshal(b, &grp); err != nil {
				return fmt.Errorf("%s: %w", GroupKey(g), err)
			}
		}
		members := slices.DeleteFunc(slices.Clone(grp.Members), func(m string) bool { return m == name })
		if slices.Contains(groups, g) {
			members = append(members, name)
			slices.Sort(members)
		}
		if slices.Equal(members, grp.Members) {
			continue
		}
		if len(members) == 0 {
			if err := tx.Delete(GroupKey(g)); err != nil {
				return err
			}
			continue
		}
		b, _ := json.MarshalIndent(Group{Members: members}, "", "  ")
		if err := tx.Put(GroupKey(g), append(b, '\n')); err != nil {
			return err
		}
	}
	return nil
}

// Decode reads a users/NAME.json file.
func Decode(name string, b []byte) (*User, error) {
	u := &User{Name: name}
	if err := json.Unmarshal(b, u); err != nil {
		return nil, fmt.Errorf("%s: %w", UserKey(name), err)
	}
	return u, nil
}
