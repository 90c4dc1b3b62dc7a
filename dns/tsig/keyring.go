package tsig

import (
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// Keyring is an immutable set of keys by name. Build a new one when the
// keys change and swap it in (an atomic.Pointer), so readers never lock.
type Keyring struct {
	byName map[string]Key
	sorted []Key
}

// NewKeyring returns a keyring of keys; of two keys with one name, the
// later wins, as when ocaml-dns inserts keys into its trie.
func NewKeyring(keys ...Key) *Keyring {
	k := &Keyring{byName: make(map[string]Key, len(keys))}
	for _, key := range keys {
		k.byName[key.Name] = key
	}
	for _, key := range k.byName {
		k.sorted = append(k.sorted, key)
	}
	slices.SortFunc(k.sorted, func(a, b Key) int { return strings.Compare(a.Name, b.Name) })
	return k
}

// Key returns the key called name, in any case, with or without the
// final dot. A nil Keyring has no keys.
func (k *Keyring) Key(name string) (Key, bool) {
	if k == nil {
		return Key{}, false
	}
	key, ok := k.byName[dns.CanonicalName(name)]
	return key, ok
}

// Keys returns every key, sorted by name.
func (k *Keyring) Keys() []Key {
	if k == nil {
		return nil
	}
	return slices.Clone(k.sorted)
}

// ForZone returns the keys valid for zone: those for zone itself or a
// zone above it, sorted by name.
func (k *Keyring) ForZone(zone string) []Key {
	if k == nil {
		return nil
	}
	zone = dns.CanonicalName(zone)
	var out []Key
	for _, key := range k.sorted {
		if dns.IsSubDomain(key.Zone, zone) {
			out = append(out, key)
		}
	}
	return out
}

// NameOf names the key that signed a message for logs: "(none)" for an
// unsigned one.
func NameOf(k *Key) string {
	if k == nil {
		return "(none)"
	}
	return k.Name
}
