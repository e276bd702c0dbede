package flow

import "testing"

func TestParseUID(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"CHhAvVGS1DHFjwGM9", true}, {"C", true}, {"C12345678901234567890AB", true},
		{"", false}, {"C-1", false}, {"C 1", false}, {"C12345678901234567890ABC", false}, {"Cé", false},
	} {
		u, ok := ParseUID([]byte(tt.in))
		if ok != tt.ok || ok && u.String() != tt.in {
			t.Errorf("ParseUID(%q) = %q, %v; want ok %v", tt.in, u.String(), ok, tt.ok)
		}
	}
}

// TestFirstUID: the first uid is the earliest record's, ties by uid,
// whatever order the records (or merged halves) come in.
func TestFirstUID(t *testing.T) {
	mk := func(s string) UID { u, _ := ParseUID([]byte(s)); return u }
	recs := []struct {
		uid   UID
		start int64
	}{{mk("Cz"), 5}, {mk("Cb"), 3}, {UID{}, 1}, {mk("Ca"), 3}, {mk("Cc"), 4}}
	for _, order := range [][]int{{0, 1, 2, 3, 4}, {4, 3, 2, 1, 0}, {2, 3, 0, 4, 1}} {
		var f, g, h FirstUID
		for i, j := range order {
			f.Add(&recs[j].uid, recs[j].start)
			if i%2 == 0 {
				g.Add(&recs[j].uid, recs[j].start)
			} else {
				h.Add(&recs[j].uid, recs[j].start)
			}
		}
		g.Merge(&h)
		for _, got := range []FirstUID{f, g} {
			if got.UID.String() != "Ca" || got.Start != 3 {
				t.Errorf("order %v: first uid %s at %d, want Ca at 3", order, got.UID, got.Start)
			}
		}
	}
	var none FirstUID
	none.Add(&UID{}, 0)
	if !none.UID.IsZero() {
		t.Error("a record without a uid gave a first uid")
	}
}
