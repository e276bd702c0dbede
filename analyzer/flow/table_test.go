package flow

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// TestConnTable runs random inserts and removals against a map and checks
// after each step that every live key is found, removed keys are not, and
// no entry sits behind a hole in its probe chain (which backward-shift
// deletion must prevent, including across the end of the slot array).
func TestConnTable(t *testing.T) {
	tests := []struct {
		name  string
		keys  int // distinct keys drawn from
		steps int
		grow  bool // let the table grow past its first size
	}{
		{"few keys, much churn", 40, 5000, false},
		{"near half full", 500, 20000, false},
		{"growing", 5000, 20000, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			keys := make([]connKey, tc.keys)
			for i := range keys {
				a := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
				b := netip.AddrFrom4([4]byte{10, 1, 0, 1})
				if i%7 == 0 { // an IPv4 address and its mapped IPv6 form are different keys
					a = netip.AddrFrom16(a.As16())
					b = netip.AddrFrom16(b.As16())
				}
				keys[i].set(&a, &b, uint16(40000+i%3), 443, 6, kindPorts, 0, 0)
			}
			var tab connTable
			tab.init()
			model := map[connKey]*conn{}
			for step := range tc.steps {
				k := keys[rng.IntN(len(keys))]
				if c, ok := model[k]; ok {
					tab.remove(c)
					delete(model, k)
				} else if tc.grow || (tab.n+1)*2 <= len(tab.slots) {
					c := &conn{key: k}
					tab.put(c)
					model[k] = c
				}
				if tab.n != len(model) {
					t.Fatalf("step %d: n = %d, want %d", step, tab.n, len(model))
				}
				if step%97 == 0 || step == tc.steps-1 {
					checkTable(t, &tab, keys, model)
				}
			}
			if !tc.grow && len(tab.slots) != minTableSlots {
				t.Errorf("table grew to %d slots", len(tab.slots))
			}
			if tc.grow && len(tab.slots) <= minTableSlots {
				t.Errorf("table did not grow: %d slots for %d keys", len(tab.slots), len(model))
			}
		})
	}
}

func checkTable(t *testing.T, tab *connTable, keys []connKey, model map[connKey]*conn) {
	t.Helper()
	for _, k := range keys {
		got := tab.get(&k)
		if want := model[k]; got != want {
			t.Fatalf("get(%v) = %p, want %p", k, got, want)
		}
	}
	n := 0
	for i, s := range tab.slots {
		if s.c == nil {
			continue
		}
		n++
		if s.h != tab.hash(&s.c.key) {
			t.Fatalf("slot %d: stale hash", i)
		}
		for j := s.h & tab.mask; j != uint64(i); j = (j + 1) & tab.mask {
			if tab.slots[j].c == nil {
				t.Fatalf("slot %d: hole at %d between it and its home slot %d", i, j, s.h&tab.mask)
			}
		}
	}
	if n != len(model) {
		t.Fatalf("%d occupied slots, want %d", n, len(model))
	}
	seen := 0
	tab.each(func(*conn) { seen++ })
	if seen != n {
		t.Fatalf("each visited %d, want %d", seen, n)
	}
}
