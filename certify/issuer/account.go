package issuer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
)

// NewAccountKey makes a new ECDSA P-256 account key.
func NewAccountKey() (crypto.Signer, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

// SeedAccountKey derives an ECDSA P-256 account key from a secret seed, so
// that a service without local state keeps its account across restarts
// (robur's --account-key-seed). The same seed always gives the same key.
func SeedAccountKey(seed string) (crypto.Signer, error) {
	if len(seed) < 16 {
		return nil, errors.New("the account key seed must be at least 16 characters")
	}
	// The scalar is SHA-256(label, counter, seed); a digest that is not a
	// valid scalar (about 2^-32 likely) moves on to the next counter.
	for ctr := uint32(0); ctr < 64; ctr++ {
		h := sha256.New()
		h.Write([]byte("quercus dns-acme account key\x00"))
		binary.Write(h, binary.BigEndian, ctr)
		h.Write([]byte(seed))
		if k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), h.Sum(nil)); err == nil {
			return k, nil
		}
	}
	return nil, errors.New("no key from this seed")
}
