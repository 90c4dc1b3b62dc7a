package authority

import (
	"hash/maphash"
	"math/bits"
)

// index maps canonical names to node numbers. It is a hash table with
// open addressing and linear probing over a power-of-two slice kept at
// most half full. Its slots hold node numbers only, not names: the name is
// the node's, which shares its bytes with the records' owner names. That
// makes it about 8 bytes a name where a map[string]int32 takes about 40,
// for the same lookup speed.
type index struct {
	seed  maphash.Seed
	slots []int32 // node number + 1; 0 is an empty slot
}

// newIndex returns an index sized for about n names without growing.
func newIndex(n int) index {
	return index{seed: maphash.MakeSeed(), slots: make([]int32, slotsFor(n))}
}

// slotsFor returns the table size for n names: a power of two at least 2n.
func slotsFor(n int) int {
	return 1 << max(3, bits.Len(uint(2*n)))
}

// find returns the node of the canonical name, if any.
func (z *Zone) find(name string) (int32, bool) {
	pos, ok := z.probe(name)
	return z.index.slots[pos] - 1, ok
}

// probe returns the slot holding name, or the empty slot where it would go.
func (z *Zone) probe(name string) (pos int, found bool) {
	mask := len(z.index.slots) - 1
	pos = int(maphash.String(z.index.seed, name)) & mask
	for {
		s := z.index.slots[pos]
		if s == 0 {
			return pos, false
		}
		if z.nodes[s-1].name == name {
			return pos, true
		}
		pos = (pos + 1) & mask
	}
}

// intern returns the node of the canonical name, adding it and its
// missing ancestors (empty non-terminals) as needed. name must be in the
// zone.
func (z *Zone) intern(name string) int32 {
	pos, ok := z.probe(name)
	if ok {
		return z.index.slots[pos] - 1
	}
	n := int32(len(z.nodes))
	z.nodes = append(z.nodes, node{name: name})
	z.index.slots[pos] = n + 1
	if 2*len(z.nodes) > len(z.index.slots) {
		z.rehash()
	}
	if len(name) > len(z.origin) {
		z.intern(name[up(name, 0):])
	}
	return n
}

// rehash doubles the table.
func (z *Zone) rehash() {
	z.index.slots = make([]int32, 2*len(z.index.slots))
	for i := range z.nodes {
		pos, _ := z.probe(z.nodes[i].name)
		z.index.slots[pos] = int32(i) + 1
	}
}
