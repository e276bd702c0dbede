package audit

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"sort"
	"testing"
)

// TestSortFlows: sortFlows's short cuts (services already sorted, one
// status) order flows as the stable sort they stand for, equal services
// (from two captures) kept in their order.
func TestSortFlows(t *testing.T) {
	rank := map[Status]int{Undocumented: 0, Documented: 1, Waived: 2}
	reference := func(fs []*Flow) {
		sort.SliceStable(fs, func(i, j int) bool {
			if a, b := fs[i], fs[j]; a.Status != b.Status {
				return rank[a.Status] < rank[b.Status]
			}
			return compareServices(fs[i], fs[j]) < 0
		})
	}
	r := rand.New(rand.NewPCG(5, 6))
	gen := func(n int, statuses []Status) []*Flow {
		fs := make([]*Flow, n)
		for i := range fs {
			fs[i] = &Flow{Service: &Service{Client: netip.AddrFrom4([4]byte{10, 0, 0, byte(r.IntN(4))}), Server: netip.AddrFrom4([4]byte{10, 1, 0, byte(r.IntN(3))}),
				Proto: []uint8{6, 17}[r.IntN(2)], Port: uint16(r.IntN(3)), Connections: i}, Status: statuses[r.IntN(len(statuses))]}
		}
		return fs
	}
	all := []Status{Undocumented, Documented, Waived}
	tests := []struct {
		name     string
		statuses []Status
		presort  func([]*Flow)
	}{
		{"random", all, func([]*Flow) {}},
		{"services sorted", all, func(fs []*Flow) { slices.SortStableFunc(fs, compareServices) }},
		{"services sorted, one status", []Status{Documented}, func(fs []*Flow) { slices.SortStableFunc(fs, compareServices) }},
		{"sorted", all, func(fs []*Flow) { slices.SortStableFunc(fs, compareFlows) }},
		{"one status", []Status{Undocumented}, func([]*Flow) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, n := range []int{0, 1, 2, 7, 100} {
				fs := gen(n, tt.statuses)
				tt.presort(fs)
				want := slices.Clone(fs)
				reference(want)
				sortFlows(fs)
				if !slices.Equal(fs, want) { // the same pointers: equal services in the same order
					t.Errorf("%d flows: sortFlows differs from the stable sort", n)
				}
			}
		})
	}
}
