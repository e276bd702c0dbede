package flow

import (
	"math/rand/v2"
	"unsafe"

	"github.com/flowaudit/flowaudit/analyzer/prefault"
	"github.com/flowaudit/flowaudit/analyzer/prefetch"
)

// The per-service tables (services, and the sweep counters of package
// sweep.go) are looked up once per finished connection: a Go map there
// costs a lookup, then an assignment of the same 56-byte key when the
// service is new, each hashing the key as memory; and a service allocated
// on its own. keyTable does both in one probe, hashing the key's fields
// (as connTable does), and keeps its entries in chunks allocated a few
// hundred at a time.

// tableKey is a key of a keyTable: hash returns its hash under seed.
type tableKey interface {
	comparable
	hash(seed *[4]uint64) uint64
}

// tableEntry is a pointer to a keyTable's entry type, which holds its key.
type tableEntry[K any, E any] interface {
	*E
	key() K
}

// keyTable is an open-addressing hash table with linear probing from keys
// K to entries E that hold them. Its slots hold only the entry number and
// 32 bits of the key's hash (no pointer: the collector does not scan
// them); the entries live in chunks of tableChunk, so an entry never
// moves and a pointer to it stays valid. The load factor stays at one half
// at most; removal shifts later slots back (Knuth's algorithm R), as in
// connTable. A removed entry is not reused (services are removed only
// when they are folded into a sweep, at the end): what was handed out of
// it stays as it was.
//
// The hash is seeded at random per table; nothing observable depends on
// it, since entries are never listed in table order.
type keyTable[K tableKey, E any, P tableEntry[K, E]] struct {
	slots  []tableSlot
	mask   uint32
	n      int // entries in the table
	seed   [4]uint64
	chunks [][]E    // each of tableChunk entries (slices, not array pointers: no nil check reads a chunk's first line)
	used   int      // entries handed out from the chunks
	dead   []uint64 // bit i: entry i was removed
}

// tableSlot is a slot of a keyTable: i is the entry number plus one (0: an
// empty slot), h the key's 32-bit hash.
type tableSlot struct{ h, i uint32 }

// tableChunk is how many entries a keyTable allocates at once.
const tableChunk = 128

// minKeySlots is a keyTable's first size.
const minKeySlots = 256

// tableAt is where a key not in the table goes (keyTable.add).
type tableAt struct{ pos, h uint32 }

// len is the number of entries in the table.
func (t *keyTable[K, E, P]) len() int { return t.n }

// entry returns entry number i.
func (t *keyTable[K, E, P]) entry(i uint32) *E { return &t.chunks[i/tableChunk][i%tableChunk] }

// hash32 folds k's hash to the 32 bits the slots keep.
func (t *keyTable[K, E, P]) hash32(k K) uint32 {
	h := k.hash(&t.seed)
	return uint32(h) ^ uint32(h>>32)
}

// get returns k's entry, or nil.
func (t *keyTable[K, E, P]) get(k K) *E {
	if t.n == 0 {
		return nil
	}
	h := t.hash32(k)
	for p := h & t.mask; ; p = (p + 1) & t.mask {
		s := t.slots[p]
		if s.i == 0 {
			return nil
		}
		if s.h == h {
			if e := t.entry(s.i - 1); P(e).key() == k {
				return e
			}
		}
	}
}

// prefetchHash starts bringing the slot where the probe of the key whose
// full hash (K.hash under the table's seed) is h64 starts into the caches,
// for a lookup a little later, and returns the hash prefetchEntry and
// lookupHash take. The caller works the hash out with the key's type at
// hand (a direct call, no copy of the key through generic code). The table
// must have slots.
func (t *keyTable[K, E, P]) prefetchHash(h64 uint64) uint32 {
	h := uint32(h64) ^ uint32(h64>>32)
	prefetch.Line(unsafe.Pointer(&t.slots[h&t.mask]))
	return h
}

// prefetchEntry starts bringing the entry of the key whose hash is h (from
// prefetch) into the caches, if one of the first slots of its probe holds
// it.
func (t *keyTable[K, E, P]) prefetchEntry(h uint32) {
	for p, n := h&t.mask, 0; n < 4; p, n = (p+1)&t.mask, n+1 {
		s := t.slots[p]
		if s.i == 0 {
			return
		}
		if s.h == h {
			prefetch.Lines(unsafe.Pointer(t.entry(s.i-1)), unsafe.Sizeof(*new(E)))
			return
		}
	}
}

// lookup returns k's entry, or nil and where k goes: add makes its entry
// there, provided the table was not changed in between.
func (t *keyTable[K, E, P]) lookup(k K) (*E, tableAt) { return t.lookupHash(k, 0, false) }

// lookupHash is lookup with k's hash h from prefetch when known.
func (t *keyTable[K, E, P]) lookupHash(k K, h uint32, known bool) (*E, tableAt) {
	if (t.n+1)*2 > len(t.slots) {
		t.grow()
	}
	if !known {
		h = t.hash32(k)
	}
	for p := h & t.mask; ; p = (p + 1) & t.mask {
		s := t.slots[p]
		if s.i == 0 {
			return nil, tableAt{p, h}
		}
		if s.h == h {
			if e := t.entry(s.i - 1); P(e).key() == k {
				return e, tableAt{}
			}
		}
	}
}

// add makes a zeroed entry at a (from lookup) and returns it; the caller
// sets its key, the one it looked up.
func (t *keyTable[K, E, P]) add(a tableAt) *E {
	if t.used == len(t.chunks)*tableChunk {
		c := make([]E, tableChunk)
		prefault.Slice(c)
		t.chunks = append(t.chunks, c)
	}
	i := uint32(t.used)
	t.used++
	t.slots[a.pos] = tableSlot{h: a.h, i: i + 1}
	t.n++
	return t.entry(i)
}

// grow doubles the slots (or makes the first ones).
func (t *keyTable[K, E, P]) grow() {
	if t.slots == nil {
		for i := range t.seed {
			t.seed[i] = rand.Uint64() | 1
		}
	}
	old := t.slots
	t.slots = make([]tableSlot, max(2*len(old), minKeySlots))
	prefault.Slice(t.slots) // the probes below read a slot before they write it
	t.mask = uint32(len(t.slots) - 1)
	for _, s := range old {
		if s.i != 0 {
			p := s.h & t.mask
			for t.slots[p].i != 0 {
				p = (p + 1) & t.mask
			}
			t.slots[p] = s
		}
	}
}

// remove deletes k's entry, if any.
func (t *keyTable[K, E, P]) remove(k K) {
	if t.n == 0 {
		return
	}
	h := t.hash32(k)
	i := h & t.mask
	for {
		s := t.slots[i]
		if s.i == 0 {
			return
		}
		if s.h == h && P(t.entry(s.i-1)).key() == k {
			break
		}
		i = (i + 1) & t.mask
	}
	e := t.slots[i].i - 1
	if need := int(e/64) + 1; len(t.dead) < need {
		t.dead = append(t.dead, make([]uint64, need-len(t.dead))...)
	}
	t.dead[e/64] |= 1 << (e % 64)
	// Shift back every later slot of the cluster whose home slot does not
	// lie cyclically in (i, j], so that lookups never meet a hole.
	for j := (i + 1) & t.mask; t.slots[j].i != 0; j = (j + 1) & t.mask {
		home := t.slots[j].h & t.mask
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = tableSlot{}
	t.n--
}

// all returns pointers to every entry, in the order they were added (the
// order they lie in memory, so that reading them goes through the chunks
// one after the other).
func (t *keyTable[K, E, P]) all() []*E {
	out := make([]*E, 0, t.n)
	for i := range uint32(t.used) {
		if int(i/64) < len(t.dead) && t.dead[i/64]&(1<<(i%64)) != 0 {
			continue
		}
		out = append(out, t.entry(i))
	}
	return out
}

// arena hands out the small slices of many services (their spans and
// names) from shared chunks, instead of one allocation per service and
// more as each grows. A slice handed out has its capacity set, so an
// append past it moves it rather than overwriting its neighbour.
type arena[T any] struct {
	chunk []T // what is left of the current chunk
	size  int // the current chunk's size
}

// maxArenaChunk bounds the elements an arena allocates at once; its first
// chunks are smaller, so a tracker with few services allocates little.
const maxArenaChunk = 4096

// grow returns s, moved into the arena with twice the room (at most
// limit) when it is full: room for one more element below limit.
func (a *arena[T]) grow(s []T, limit int) []T {
	if len(s) < cap(s) {
		return s
	}
	n := min(max(2*cap(s), 1), limit)
	if len(a.chunk) < n {
		a.size = max(min(2*a.size, maxArenaChunk), 64, n)
		a.chunk = make([]T, a.size)
	}
	out := a.chunk[:0:n]
	a.chunk = a.chunk[n:]
	return append(out, s...)
}
