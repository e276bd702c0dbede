package flow

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"net/netip"

	"github.com/flowaudit/flowaudit/analyzer/prefault"
)

// connTable is the live-connection index: an open-addressing hash table
// with linear probing, keyed by connKey. It replaces a Go map on the
// per-packet path because it hashes the key's fields directly (a map hashes
// the 56-byte key as memory) and keeps each slot's full hash next to its
// pointer, so a probe compares keys only on a hash match. Deletion shifts
// later entries back (Knuth's algorithm R), so there are no tombstones and
// probe chains stay short at the load factor of one half at most.
//
// The hash is seeded at random per table, so a capture crafted to collide
// cannot make every lookup walk a long chain; nothing observable depends on
// the seed, since connections are never listed in table order.
type connTable struct {
	slots []slot
	mask  uint64
	n     int
	seed  [4]uint64
}

type slot struct {
	h uint64 // hash of c.key; meaningful only when c != nil
	c *conn
}

const minTableSlots = 1024

func (t *connTable) init() {
	t.slots = make([]slot, minTableSlots)
	t.mask = minTableSlots - 1
	t.n = 0
	for i := range t.seed {
		t.seed[i] = rand.Uint64() | 1
	}
}

// mix folds the 128-bit product of a and b, as wyhash does.
func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// words are the two halves of an address as 64-bit words. An IPv4 address
// is read with As4: copying the 16-byte array As16 returns costs a stalled
// load (two 8-byte stores read back as one 16-byte word) that made this the
// most expensive line of the hash.
func words(a netip.Addr) (hi, lo uint64) {
	if a.Is4() {
		v := a.As4()
		return 0, uint64(binary.BigEndian.Uint32(v[:]))
	}
	v := a.As16()
	return binary.BigEndian.Uint64(v[:8]), binary.BigEndian.Uint64(v[8:])
}

func (t *connTable) hash(k *connKey) uint64 {
	s := &t.seed
	// Ports, protocol, kind and outer VLAN fill one word.
	rest := uint64(k.pa)<<48 | uint64(k.pb)<<32 | uint64(k.proto)<<24 | uint64(k.kind)<<16 | uint64(k.vlan)
	var h uint64
	if k.a.Is4() && k.b.Is4() {
		// Both IPv4 addresses fit one word: one multiplication, as wyhash
		// finishes an input of 16 bytes.
		_, a := words(k.a)
		_, b := words(k.b)
		h = mix(a<<32|b^s[0], rest^s[1])
	} else {
		// An IPv4-mapped IPv6 address hashes here, as IPv6; its key
		// differs from the IPv4 one anyway.
		ah, al := words(k.a)
		bh, bl := words(k.b)
		h = mix(ah^s[0], al^s[1]) ^ mix(bh^s[2], bl^s[3])
		h = mix(h^rest, s[1])
	}
	if k.innerVLAN != 0 {
		h = mix(h^s[2], uint64(k.innerVLAN)^s[3])
	}
	return h
}

// get returns the connection with key k, or nil.
func (t *connTable) get(k *connKey) *conn {
	h := t.hash(k)
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.c == nil {
			return nil
		}
		if s.h == h && s.c.key == *k {
			return s.c
		}
	}
}

// put adds c, whose key is not in the table.
func (t *connTable) put(c *conn) {
	if (t.n+1)*2 > len(t.slots) {
		t.grow()
	}
	t.insert(t.hash(&c.key), c)
	t.n++
}

func (t *connTable) insert(h uint64, c *conn) {
	i := h & t.mask
	for t.slots[i].c != nil {
		i = (i + 1) & t.mask
	}
	t.slots[i] = slot{h: h, c: c}
}

func (t *connTable) grow() {
	old := t.slots
	t.slots = make([]slot, 2*len(old))
	prefault.Slice(t.slots) // insert reads a slot before it writes it
	t.mask = uint64(len(t.slots) - 1)
	for _, s := range old {
		if s.c != nil {
			t.insert(s.h, s.c)
		}
	}
}

// remove deletes c, which must be in the table.
func (t *connTable) remove(c *conn) {
	h := t.hash(&c.key)
	i := h & t.mask
	for t.slots[i].c != c {
		if t.slots[i].c == nil {
			return
		}
		i = (i + 1) & t.mask
	}
	// Shift back every later entry of the cluster whose home slot does not
	// lie cyclically in (i, j], so that lookups never meet a hole.
	for j := (i + 1) & t.mask; t.slots[j].c != nil; j = (j + 1) & t.mask {
		home := t.slots[j].h & t.mask
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = slot{}
	t.n--
}

// each calls fn for every connection, in no particular order.
func (t *connTable) each(fn func(*conn)) {
	for _, s := range t.slots {
		if s.c != nil {
			fn(s.c)
		}
	}
}
