package collmeta

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// File is the name of the meta file in a collection's folder; its
// presence makes the folder a collection (git keeps no empty folders).
const File = ".props.json"

// Meta is a collection's .props.json.
type Meta struct {
	// Calendar marks a calendar collection.
	Calendar bool `json:"calendar,omitempty"`
	// Components is the supported-calendar-component-set (calendars).
	Components []string `json:"components,omitempty"`
	// Props are the collection's dead properties: Clark name -> inner XML.
	Props map[string]string `json:"props,omitempty"`
	// Members holds the dead properties of member resources by name.
	Members map[string]map[string]string `json:"members,omitempty"`
	// Share grants other principals access to this collection: a
	// grantee ("user:NAME", "group:NAME", "user:*") -> Read or Write.
	Share map[string]string `json:"share,omitempty"`
}

// The access levels a share grants.
const (
	Read  = "read"
	Write = "write"
)

// Encode returns the file's content: indented JSON, keys in a fixed
// order, so that git diffs stay small.
func (m *Meta) Encode() []byte {
	b, _ := json.MarshalIndent(m, "", "  ")
	return append(b, '\n')
}

// Decode parses a meta file.
func Decode(b []byte) (*Meta, error) {
	m := &Meta{}
	if err := json.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("collmeta: %w", err)
	}
	return m, nil
}

// Clone returns a deep copy of m.
func (m *Meta) Clone() *Meta {
	c, _ := Decode(m.Encode())
	return c
}

// DefaultComponents are the components of a calendar that names none.
var DefaultComponents = []string{"VEVENT", "VTODO", "VJOURNAL"}

// CalendarComponents is the supported-calendar-component-set.
func (m *Meta) CalendarComponents() []string {
	if len(m.Components) == 0 {
		return DefaultComponents
	}
	return m.Components
}

// ErrGrantee is a grantee that ParseGrantee cannot read.
var ErrGrantee = errors.New(`a grantee is NAME or user:NAME (a user), @NAME or group:NAME (a group), or * (every user)`)

// ParseGrantee reads a grantee as an operator types it and returns its
// form in Share: "alice" and "user:alice" are "user:alice", "@staff"
// and "group:staff" are "group:staff", "*" is "user:*".
func ParseGrantee(s string) (string, error) {
	var kind, name string
	switch {
	case s == "*" || s == "user:*":
		return "user:*", nil
	case strings.HasPrefix(s, "@"):
		kind, name = "group", s[1:]
	case strings.HasPrefix(s, "group:"):
		kind, name = "group", s[len("group:"):]
	case strings.HasPrefix(s, "user:"):
		kind, name = "user", s[len("user:"):]
	default:
		kind, name = "user", s
	}
	if name == "" || strings.ContainsAny(name, ":@*/ ") {
		return "", fmt.Errorf("%q: %w", s, ErrGrantee)
	}
	return kind + ":" + name, nil
}

// Grant is one entry of a share, for listing.
type Grant struct {
	Grantee string // as in Share
	Access  string // Read or Write
}

// Grants lists m's shares sorted by grantee.
func (m *Meta) Grants() []Grant {
	var out []Grant
	for g, a := range m.Share {
		out = append(out, Grant{g, a})
	}
	slices.SortFunc(out, func(a, b Grant) int { return strings.Compare(a.Grantee, b.Grantee) })
	return out
}
