package prefault

import (
	"net/netip"
	"testing"
)

// TestSlice: the slice is left as it was (all zero), whatever its element
// size against the page, pointers included; empty slices are fine.
func TestSlice(t *testing.T) {
	type big struct {
		a    netip.Addr
		s    []string
		pad  [5000]byte
		last *int
	}
	for _, n := range []int{0, 1, 3, 1000} {
		b := make([]big, n)
		Slice(b)
		for i := range b {
			if b[i].a.IsValid() || b[i].s != nil || b[i].last != nil || b[i].pad != [5000]byte{} {
				t.Fatalf("%d elements: element %d changed", n, i)
			}
		}
		s := make([]uint16, n*3000)
		Slice(s)
		for i, v := range s {
			if v != 0 {
				t.Fatalf("%d uint16: element %d is %d", len(s), i, v)
			}
		}
	}
	Slice([]struct{}(nil))
	Slice(make([]struct{}, 10)) // no bytes: nothing to write
}
