package flow

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/decode"
)

// testKey hashes to few values (mod), so that clusters form and wrap
// around the slots, as a crafted capture or bad luck would make them.
type testKey struct {
	v   int
	mod uint64
}

func (k testKey) hash(*[4]uint64) uint64 { return uint64(k.v) % k.mod * 0x9e3779b97f4a7c15 }

type testEntry struct {
	k testKey
	n int
}

func (e *testEntry) key() testKey { return e.k }

// TestKeyTable checks the table against a Go map over random adds,
// lookups and removals, with hashes that collide more or less.
func TestKeyTable(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  uint64 // distinct hashes
		keys int    // distinct keys
		ops  int
	}{
		{"distinct hashes", 1 << 62, 5000, 40000},
		{"few hashes", 7, 300, 20000},
		{"one hash", 1, 60, 5000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(3, uint64(tc.keys)))
			var tab keyTable[testKey, testEntry, *testEntry]
			model := map[int]int{}
			adds := 0
			for op := range tc.ops {
				k := testKey{r.IntN(tc.keys), tc.mod}
				switch r.IntN(4) {
				case 0:
					tab.remove(k)
					delete(model, k.v)
				default:
					e, at := tab.lookup(k)
					if (e != nil) != (model[k.v] != 0) {
						t.Fatalf("op %d: key %d found %v, want %v", op, k.v, e != nil, model[k.v] != 0)
					}
					if e == nil {
						e = tab.add(at)
						adds++
						if e.n != 0 || e.k != (testKey{}) {
							t.Fatalf("op %d: new entry not zeroed: %+v", op, *e)
						}
						e.k = k
					}
					e.n++
					model[k.v]++
				}
				if tab.len() != len(model) {
					t.Fatalf("op %d: %d entries, want %d", op, tab.len(), len(model))
				}
			}
			for v, n := range model {
				if e := tab.get(testKey{v, tc.mod}); e == nil || e.n != n {
					t.Fatalf("key %d: %+v, want count %d", v, e, n)
				}
			}
			all := tab.all()
			if len(all) != len(model) {
				t.Fatalf("all: %d entries, want %d", len(all), len(model))
			}
			for _, e := range all {
				if model[e.k.v] != e.n {
					t.Fatalf("all: %+v, want count %d", *e, model[e.k.v])
				}
			}
			// An entry is handed out per key added.
			if tab.used != adds {
				t.Errorf("%d entries handed out for %d keys added", tab.used, adds)
			}
		})
	}
}

// TestKeyTableZones: addresses that differ only by zone (a conn.log's
// link-local addresses) hash alike and stay apart as keys.
func TestKeyTableZones(t *testing.T) {
	var tab serviceTable
	a := netip.MustParseAddr("fe80::1")
	keys := []ServiceKey{
		{Client: a, Server: a.WithZone("eth0"), Proto: 6, Port: 443},
		{Client: a, Server: a.WithZone("eth1"), Proto: 6, Port: 443},
		{Client: a, Server: a, Proto: 6, Port: 443},
	}
	for i, k := range keys {
		s, at := tab.lookup(k)
		if s != nil {
			t.Fatalf("key %d found before it was added", i)
		}
		s = tab.add(at)
		s.ServiceKey, s.Connections = k, uint64(i+1)
	}
	for i, k := range keys {
		if s := tab.get(k); s == nil || s.Connections != uint64(i+1) {
			t.Errorf("key %d: %v", i, s)
		}
	}
}

// TestArena: slices handed out keep their capacity, so growing one never
// writes into another's elements.
func TestArena(t *testing.T) {
	var a arena[int]
	lists := make([][]int, 50)
	for round := range 20 {
		for i := range lists {
			if len(lists[i]) == 8 {
				continue
			}
			lists[i] = append(a.grow(lists[i], 8), i*100+round)
		}
	}
	for i, l := range lists {
		want := []int{}
		for round := range 8 {
			want = append(want, i*100+round)
		}
		if !slices.Equal(l, want) || cap(l) != 8 {
			t.Errorf("list %d: %v (cap %d), want %v", i, l, cap(l), want)
		}
	}
}

// TestSortKeys: services sort by their words as ServiceKey.Compare orders
// them: IPv4 before IPv6 (an IPv4-mapped IPv6 address among the IPv6),
// zones apart, then protocol and port.
func TestSortKeys(t *testing.T) {
	addrs := []netip.Addr{{}, netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("255.255.255.255"),
		netip.MustParseAddr("::"), netip.MustParseAddr("::1"), netip.MustParseAddr("::ffff:10.0.0.1"), netip.MustParseAddr("fe80::1"),
		netip.MustParseAddr("fe80::1%eth0"), netip.MustParseAddr("fe80::1%eth1"), netip.MustParseAddr("ff02::1:3"), netip.MustParseAddr("8000::")}
	var svcs []svc
	for _, c := range addrs {
		for _, s := range addrs {
			for _, pp := range [][2]int{{6, 443}, {6, 80}, {17, 53}, {1, 8}} {
				svcs = append(svcs, svc{Service: Service{ServiceKey: ServiceKey{Client: c, Server: s, Proto: uint8(pp[0]), Port: uint16(pp[1])}}})
			}
		}
	}
	keys := make([]sortKey, len(svcs))
	for i := range svcs {
		keys[i] = sortKeyOf(&svcs[i])
	}
	for _, a := range keys {
		for _, b := range keys {
			if got, want := compareSortKeys(a, b), a.s.ServiceKey.Compare(b.s.ServiceKey); (got < 0) != (want < 0) || (got == 0) != (want == 0) {
				t.Fatalf("%+v vs %+v: %d, Compare says %d", a.s.ServiceKey, b.s.ServiceKey, got, want)
			}
		}
	}
}

// TestServicesCopied: what Services returns shares nothing with the
// tracker: connections folded afterwards (earlier spans inserted before
// the ones handed out, names counted again) change neither its spans nor
// its names.
func TestServicesCopied(t *testing.T) {
	tr := NewTracker(Config{})
	conn := func(i int) *Connection {
		return &Connection{Orig: hostC, Resp: hostS, OrigPort: uint16(40000 + i), RespPort: 443, Proto: decode.ProtoTCP,
			Start: base.Add(time.Duration(10-i) * time.Second), End: base.Add(time.Minute), FirstPos: Pos{Frame: uint64(100 - i)},
			ServerName: fmt.Sprintf("%d.example", i%3), NameSource: NameSNI, DNSName: fmt.Sprintf("%d.dns.example", i%3)}
	}
	for i := range 3 {
		tr.AddConnection(conn(i))
	}
	before := tr.Services()
	want := slices.Clone(before[0].Spans)
	wantNames, wantDNS := slices.Clone(before[0].Names), slices.Clone(before[0].DNSNames)
	for i := 3; i < 6; i++ {
		tr.AddConnection(conn(i))
	}
	if !slices.Equal(before[0].Spans, want) || !slices.Equal(before[0].Names, wantNames) || !slices.Equal(before[0].DNSNames, wantDNS) {
		t.Errorf("services handed out changed: spans %v names %v dns %v, want %v %v %v",
			before[0].Spans, before[0].Names, before[0].DNSNames, want, wantNames, wantDNS)
	}
	after := tr.Services()
	if len(after[0].Spans) != 6 || len(after[0].Names) != 3 || after[0].Names[0].Connections != 2 || after[0].Connections != 6 {
		t.Errorf("after: %d spans, names %v, %d connections; want 6 spans, 3 names of 2", len(after[0].Spans), after[0].Names, after[0].Connections)
	}
}

// TestPrefetchHashes: the hashes prefetchService works out for a finishing
// connection are the ones the tables' own lookups would, so that fold can
// take them (a wrong one would make a second service of the same key).
func TestPrefetchHashes(t *testing.T) {
	tr := NewTracker(Config{})
	for i, c := range []*Connection{
		{Orig: hostC, Resp: hostS, OrigPort: 40000, RespPort: 443, Proto: decode.ProtoTCP},
		{Orig: netip.MustParseAddr("fd00::1"), Resp: netip.MustParseAddr("fd00::2"), OrigPort: 5353, RespPort: 53, Proto: decode.ProtoUDP},
		{Orig: hostC, Resp: netip.MustParseAddr("::ffff:10.0.0.2"), OrigPort: 8, RespPort: 0, Proto: decode.ProtoICMP},
	} {
		tr.AddConnection(c) // the tables get their slots and seeds
		k := ServiceKeyOf(c)
		tr.prefetched = prefetched{k: k}
		cn := &conn{key: connKey{a: c.Orig, b: c.Resp}, proto: c.Proto, origPort: c.OrigPort, respPort: c.RespPort}
		tr.prefetchService(cn)
		p := tr.prefetched
		pk, sk := keysOf(k)
		if p.k != k || !p.valid {
			t.Fatalf("connection %d: prefetched %+v, want %+v", i, p.k, k)
		}
		want := [3]uint32{tr.services.hash32(k), tr.sweeps.byPort.hash32(pk), tr.sweeps.byServer.hash32(sk)}
		if p.hs.h != want || p.hs.ok != [3]bool{true, true, true} {
			t.Errorf("connection %d: hashes %v (%v), want %v", i, p.hs.h, p.hs.ok, want)
		}
	}
}

// TestSortedServicesOrder: Services and SortedServices give the services
// in ServiceKey.Compare order, the same services, whether every address
// is IPv4 (the two-word key), some are IPv6 (sorted apart, zones among
// them) or an IPv4 client has an IPv6 server (the general key for all),
// with many ties on client and server; SortedServices twice gives the
// same.
func TestSortedServicesOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 18))
	v4 := func() netip.Addr { return netip.AddrFrom4([4]byte{10, 0, byte(rng.IntN(3)), byte(rng.IntN(200))}) }
	v6 := func() netip.Addr {
		a := netip.AddrFrom16([16]byte{0: 0xfe, 1: 0x80, 15: byte(rng.IntN(4))})
		return a.WithZone([]string{"", "eth0", "eth1"}[rng.IntN(3)])
	}
	for _, mixed := range []int{0, 1, 2} {
		tr := NewTracker(Config{MaxServices: 1 << 20, SweepThreshold: -1})
		for range 3000 {
			c, s := v4(), v4()
			switch {
			case mixed > 0 && rng.IntN(5) == 0:
				c, s = v6(), v6()
			case mixed > 1 && rng.IntN(50) == 0:
				s = v6()
			}
			proto := []uint8{decode.ProtoTCP, decode.ProtoUDP}[rng.IntN(2)]
			tr.AddConnection(&Connection{Orig: c, Resp: s, OrigPort: 40000, RespPort: uint16([]int{53, 443, 80, 3389, 8443}[rng.IntN(5)]),
				Proto: proto, Start: base, End: base.Add(time.Second)})
		}
		copied := tr.Services()
		if len(copied) < 1000 {
			t.Fatalf("mixed %d: %d services, want many", mixed, len(copied))
		}
		if !slices.IsSortedFunc(copied, func(a, b Service) int { return a.ServiceKey.Compare(b.ServiceKey) }) {
			t.Errorf("mixed %d: Services not in key order", mixed)
		}
		for round := range 2 {
			own := tr.SortedServices()
			if len(own) != len(copied) {
				t.Fatalf("mixed %d: %d sorted services, %d copied", mixed, len(own), len(copied))
			}
			for i, s := range own {
				if s.ServiceKey != copied[i].ServiceKey || s.Connections != copied[i].Connections {
					t.Fatalf("mixed %d round %d: service %d is %+v, Services says %+v", mixed, round, i, s.ServiceKey, copied[i].ServiceKey)
				}
				if i > 0 && own[i-1].ServiceKey.Compare(s.ServiceKey) >= 0 {
					t.Fatalf("mixed %d: %+v before %+v", mixed, own[i-1].ServiceKey, s.ServiceKey)
				}
			}
		}
	}
}
