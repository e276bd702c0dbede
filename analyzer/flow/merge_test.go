package flow

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/decode"
)

// TestFoldAllocatesNothing: a connection of a service already made costs
// no allocation, names, RST and ICMP evidence included, once the service
// keeps MaxServiceSpans spans; only a new service (and its first spans)
// does.
func TestFoldAllocatesNothing(t *testing.T) {
	tr := NewTracker(Config{})
	c := Connection{Orig: hostC, Resp: hostS, Proto: decode.ProtoTCP, OrigPort: 50000, RespPort: 443,
		OrigPkts: 3, RespPkts: 2, RespTTL: 64, RespRST: true, RSTTTL: 250, ICMPErrors: 1, ICMPFrom: hostS,
		Outcome: Rejected, ServerName: "vdi.example.com", NameSource: NameSNI, DNSName: "lb.example.com",
		Start: base, End: base.Add(time.Second)}
	for range MaxServiceSpans {
		c.OrigPort++
		tr.AddConnection(&c)
	}
	allocs := testing.AllocsPerRun(1000, func() {
		c.OrigPort++
		c.FirstPos.Frame++
		tr.AddConnection(&c)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per connection of an existing service", allocs)
	}
	if s := tr.Services(); len(s) != 1 || s[0].Connections != 1001+MaxServiceSpans || s[0].RSTs != 1001+MaxServiceSpans || len(s[0].Names) != 1 || s[0].Names[0].Connections != 1001+MaxServiceSpans || len(s[0].Spans) != MaxServiceSpans {
		t.Errorf("services %+v", s)
	}
}

// TestMergeAsOne: services, TTL ranges, first-of evidence (by position),
// names and counters of two trackers merged are those of one tracker fed
// the same connections, in either order.
func TestMergeAsOne(t *testing.T) {
	other := netip.MustParseAddr("10.0.0.9")
	conns := []Connection{
		{Orig: hostC, Resp: hostS, Proto: decode.ProtoTCP, OrigPort: 50000, RespPort: 443, RespTTL: 60, Outcome: Established,
			ServerName: "a.example", NameSource: NameSNI, FirstPos: Pos{File: 0, Frame: 5}},
		{Orig: hostC, Resp: hostS, Proto: decode.ProtoTCP, OrigPort: 50001, RespPort: 443, RespTTL: 64, RespRST: true, RSTTTL: 250,
			Outcome: Rejected, ServerName: "b.example", NameSource: NameSNI, FirstPos: Pos{File: 0, Frame: 9}},
		{Orig: hostC, Resp: hostS, Proto: decode.ProtoTCP, OrigPort: 50002, RespPort: 443, RespTTL: 62, RespRST: true, RSTTTL: 128,
			ICMPErrors: 1, ICMPFrom: other, ICMPType: 3, ICMPCode: 13, Outcome: Rejected, ServerName: "a.example", NameSource: NameSNI,
			FirstPos: Pos{File: 1, Frame: 1}},
		{Orig: other, Resp: hostS, Proto: decode.ProtoUDP, OrigPort: 5000, RespPort: 53, Outcome: Unanswered, FirstPos: Pos{File: 1, Frame: 2}},
	}
	for i := range conns {
		conns[i].Start = base.Add(time.Duration(i) * time.Second)
		conns[i].End = conns[i].Start.Add(time.Second)
		conns[i].OrigPkts, conns[i].RespPkts = uint64(i+1), uint64(i)
	}
	one := NewTracker(Config{})
	for i := range conns {
		c := conns[i]
		one.AddConnection(&c)
	}
	want := one.Services()
	for _, order := range [][2][]int{{{0, 1}, {2, 3}}, {{2, 3}, {0, 1}}, {{3, 2}, {1, 0}}} {
		a, b := NewTracker(Config{}), NewTracker(Config{})
		for k, tr := range []*Tracker{a, b} {
			for _, i := range order[k] {
				c := conns[i]
				tr.AddConnection(&c)
			}
		}
		a.Merge(b)
		got := a.Services()
		if len(got) != len(want) {
			t.Fatalf("order %v: %d services, want %d", order, len(got), len(want))
		}
		for i := range got {
			g, w := got[i], want[i]
			g.FirstID, w.FirstID = 0, 0
			g.Names, w.Names = nil, nil // compared below, as sets: their order is that of first appearance
			if g.ServiceKey != w.ServiceKey || g.Connections != w.Connections || g.RSTs != w.RSTs || g.RSTTTL != w.RSTTTL ||
				g.ServerTTLMin != w.ServerTTLMin || g.ServerTTLMax != w.ServerTTLMax || g.ICMPFrom != w.ICMPFrom ||
				g.ClientPackets != w.ClientPackets || g.First != w.First || g.Last != w.Last || g.FirstPos != w.FirstPos ||
				!slices.Equal(g.Spans, w.Spans) {
				t.Errorf("order %v: service %d\ngot  %+v\nwant %+v", order, i, g, w)
			}
			names := map[string]uint64{}
			for _, n := range got[i].Names {
				names[n.Name] += n.Connections
			}
			for _, n := range want[i].Names {
				names[n.Name] -= n.Connections
			}
			for n, d := range names {
				if d != 0 {
					t.Errorf("order %v: service %d: name %s off by %d", order, i, n, d)
				}
			}
		}
		if a.Stats().Connections != one.Stats().Connections {
			t.Errorf("order %v: %d connections, want %d", order, a.Stats().Connections, one.Stats().Connections)
		}
	}
	if want[0].RSTTTL != 250 || want[0].ServerTTLMin != 60 || want[0].ServerTTLMax != 64 {
		t.Errorf("one tracker: %+v", want[0])
	}
}

// TestServiceSpans: a service keeps the spans of its first MaxServiceSpans
// connections by start, whatever order they finish or trackers merge in.
func TestServiceSpans(t *testing.T) {
	const n = MaxServiceSpans + 5
	conns := make([]Connection, n)
	for i := range conns {
		start := base.Add(time.Duration(i) * time.Second)
		conns[i] = Connection{Orig: hostC, Resp: hostS, Proto: decode.ProtoTCP, OrigPort: uint16(50000 + i), RespPort: 443,
			Start: start, End: start.Add(time.Duration(n-i) * time.Second), Outcome: Outcome(i % 3), FirstPos: Pos{Frame: uint64(i)}}
	}
	var want []Span
	for i := range MaxServiceSpans {
		want = append(want, SpanOf(&conns[i]))
	}
	inOrder := make([]int, n)
	for i := range inOrder {
		inOrder[i] = i
	}
	reversed := slices.Clone(inOrder)
	slices.Reverse(reversed)
	shuffled := slices.Clone(inOrder)
	rand.New(rand.NewPCG(1, 2)).Shuffle(n, func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for _, c := range []struct {
		name  string
		order []int
		split int // connections from split on go to a second tracker, merged in
	}{
		{"in order", inOrder, n},
		{"reversed", reversed, n},
		{"shuffled", shuffled, n},
		{"merged", shuffled, n / 2},
		{"merged, first later", reversed, 3},
	} {
		a, b := NewTracker(Config{}), NewTracker(Config{})
		for k, i := range c.order {
			tr := a
			if k >= c.split {
				tr = b
			}
			cc := conns[i]
			tr.AddConnection(&cc)
		}
		if c.split < n {
			a.Merge(b)
		}
		s := a.Services()
		if len(s) != 1 {
			t.Fatalf("%s: %d services", c.name, len(s))
		}
		if !slices.Equal(s[0].Spans, want) {
			t.Errorf("%s: spans\ngot  %v\nwant %v", c.name, s[0].Spans, want)
		}
	}
}
