package pcapgen

import (
	"bytes"
	"crypto/sha256"
	"flag"
	"io"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

var update = flag.Bool("update", false, "regenerate the committed captures under testdata/")

// testdataDir is the repository's testdata directory.
var testdataDir = filepath.Join("..", "..", "testdata")

func allCases() []Case { return append(append(LinkTypeCases(), FlowCases()...), NameCases()...) }

func findCase(t *testing.T, name string) Case {
	t.Helper()
	for _, c := range allCases() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no case %s", name)
	return Case{}
}

// TestCasesDecode reads every committed case back with pcapgo, decodes
// every frame with gopacket, and checks that the flows found are exactly
// the flows the scenario describes (and README.md lists), and that each
// case contains the encapsulation it is named for.
func TestCasesDecode(t *testing.T) {
	L := func(ts ...gopacket.LayerType) []gopacket.LayerType { return ts }
	tests := map[string]struct {
		links  []LinkType
		layers []gopacket.LayerType
		vlans  []uint16
		labels []uint32
		frags  int // reassembled datagrams
	}{
		"pcap-le-usec.pcap":          {links: []LinkType{LinkEthernet}, layers: L(layers.LayerTypeARP, layers.LayerTypeDNS, layers.LayerTypeICMPv4, layers.LayerTypeIPv6, layers.LayerTypeTCP)},
		"pcapng-multi-iface.pcapng":  {links: []LinkType{LinkEthernet, LinkRaw, LinkNull, LinkSLL}, layers: L(layers.LayerTypeLoopback, layers.LayerTypeLinuxSLL, layers.LayerTypeDot1Q), vlans: []uint16{30}},
		"link-null.pcap":             {links: []LinkType{LinkNull}, layers: L(layers.LayerTypeLoopback, layers.LayerTypeIPv4, layers.LayerTypeIPv6)},
		"link-raw.pcap":              {links: []LinkType{LinkRaw}, layers: L(layers.LayerTypeIPv4, layers.LayerTypeIPv6)},
		"link-ipv4.pcap":             {links: []LinkType{LinkIPv4}, layers: L(layers.LayerTypeIPv4, layers.LayerTypeICMPv4)},
		"link-ipv6.pcap":             {links: []LinkType{LinkIPv6}, layers: L(layers.LayerTypeIPv6, layers.LayerTypeICMPv6)},
		"link-sll.pcap":              {links: []LinkType{LinkSLL}, layers: L(layers.LayerTypeLinuxSLL, layers.LayerTypeARP)},
		"link-sll2.pcap":             {links: []LinkType{LinkSLL2}, layers: L(layers.LayerTypeARP, layers.LayerTypeIPv6)},
		"vlan-8021q.pcap":            {layers: L(layers.LayerTypeDot1Q), vlans: []uint16{100, 200}},
		"vlan-qinq.pcap":             {layers: L(layers.LayerTypeDot1Q), vlans: []uint16{10, 100, 20, 200}},
		"mpls.pcap":                  {layers: L(layers.LayerTypeMPLS, layers.LayerTypeDot1Q), labels: []uint32{100, 200, 300, 400}, vlans: []uint16{50}},
		"pppoe.pcap":                 {layers: L(layers.LayerTypePPPoE, layers.LayerTypePPP, layers.LayerTypeIPv6), vlans: []uint16{7}},
		"tunnel-vxlan.pcap":          {layers: L(layers.LayerTypeVXLAN, layers.LayerTypeARP, layers.LayerTypeICMPv6)},
		"tunnel-geneve.pcap":         {layers: L(layers.LayerTypeGeneve, layers.LayerTypeARP)},
		"tunnel-gre.pcap":            {layers: L(layers.LayerTypeGRE, layers.LayerTypeIPv6)},
		"tunnel-erspan.pcap":         {layers: L(layers.LayerTypeGRE, layers.LayerTypeERSPANII, layers.LayerTypeARP)},
		"tunnel-ipip.pcap":           {layers: L(layers.LayerTypeIPv4, layers.LayerTypeTCP)},
		"tunnel-6in4.pcap":           {layers: L(layers.LayerTypeIPv4, layers.LayerTypeIPv6)},
		"ipv6-exthdr.pcap":           {layers: L(layers.LayerTypeIPv6HopByHop, layers.LayerTypeIPv6Destination, layers.LayerTypeIPv6Fragment, layers.LayerTypeICMPv6NeighborSolicitation), frags: 1},
		"ipv4-fragments.pcap":        {layers: L(gopacket.LayerTypeFragment), frags: 3},
		"noise.pcap":                 {layers: L(layers.LayerTypeARP, layers.LayerTypeVRRP, layers.LayerTypeUDP, layers.LayerTypeICMPv6NeighborAdvertisement)},
		"icmp-unreach-udp.pcap":      {layers: L(layers.LayerTypeICMPv4, layers.LayerTypeICMPv6)},
		"midstream-40000-49752.pcap": {layers: L(layers.LayerTypeTCP)},
	}
	for _, c := range allCases() {
		t.Run(c.Name, func(t *testing.T) {
			data, s, st, err := c.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			recs := readBack(t, data)
			if len(recs) != st.Packets {
				t.Fatalf("read %d packets, writer reported %d", len(recs), st.Packets)
			}
			got := classify(t, recs)
			if want := expectedKeys(s); !maps.Equal(got.perKey, want) {
				t.Errorf("frames per flow differ from the scenario\n got: %v\nwant: %v", got.perKey, want)
			}
			tc := tests[c.Name]
			if tc.links != nil {
				var seen []LinkType
				for _, r := range recs {
					if !slices.Contains(seen, r.link) {
						seen = append(seen, r.link)
					}
				}
				slices.Sort(seen)
				want := slices.Sorted(slices.Values(tc.links))
				if !slices.Equal(seen, want) {
					t.Errorf("link types %v, want %v", seen, want)
				}
			}
			for _, l := range tc.layers {
				if got.layers[l] == 0 {
					t.Errorf("no %v layer decoded", l)
				}
			}
			if tc.vlans != nil && !slices.Equal(slices.Sorted(maps.Keys(got.vlans)), slices.Sorted(slices.Values(tc.vlans))) {
				t.Errorf("VLAN ids %v, want %v", slices.Sorted(maps.Keys(got.vlans)), tc.vlans)
			}
			if tc.vlans == nil && len(got.vlans) > 0 {
				t.Errorf("unexpected VLAN ids %v", slices.Sorted(maps.Keys(got.vlans)))
			}
			if tc.labels != nil && !slices.Equal(slices.Sorted(maps.Keys(got.labels)), slices.Sorted(slices.Values(tc.labels))) {
				t.Errorf("MPLS labels %v, want %v", slices.Sorted(maps.Keys(got.labels)), tc.labels)
			}
			if got.datagrams != tc.frags {
				t.Errorf("%d datagrams reassembled from fragments, want %d", got.datagrams, tc.frags)
			}
			for i := 1; i < len(recs); i++ {
				if recs[i].ts.Before(recs[i-1].ts) {
					t.Fatalf("frame %d goes back in time", i+1)
				}
			}
		})
	}
}

// TestFormats checks that every format variant of the basic scenario holds
// the same frames, with the timestamp resolution the format promises.
func TestFormats(t *testing.T) {
	ref, _, _, err := findCase(t, "pcap-le-usec.pcap").Bytes()
	if err != nil {
		t.Fatal(err)
	}
	refRecs := readBack(t, ref)
	nsRef, _, _, err := findCase(t, "pcap-le-nsec.pcap").Bytes()
	if err != nil {
		t.Fatal(err)
	}
	nsRecs := readBack(t, nsRef)
	tests := []struct {
		name  string
		magic []byte
		nanos bool // sub-microsecond digits survive
		snap  int
	}{
		{"pcap-le-usec.pcap", []byte{0xd4, 0xc3, 0xb2, 0xa1}, false, 0},
		{"pcap-le-nsec.pcap", []byte{0x4d, 0x3c, 0xb2, 0xa1}, true, 0},
		{"pcap-be-usec.pcap", []byte{0xa1, 0xb2, 0xc3, 0xd4}, false, 0},
		{"pcap-be-nsec.pcap", []byte{0xa1, 0xb2, 0x3c, 0x4d}, true, 0},
		{"pcapng-le.pcapng", []byte{0x0a, 0x0d, 0x0d, 0x0a}, true, 0},
		{"pcapng-be-usec.pcapng", []byte{0x0a, 0x0d, 0x0d, 0x0a}, false, 0},
		{"pcapng-be-nsec.pcapng", []byte{0x0a, 0x0d, 0x0d, 0x0a}, true, 0},
		{"pcap-le-usec.pcap.gz", []byte{0x1f, 0x8b}, false, 0},
		{"pcapng-le.pcapng.gz", []byte{0x1f, 0x8b}, true, 0},
		{"snaplen-96.pcap", []byte{0xd4, 0xc3, 0xb2, 0xa1}, false, 96},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, _, _, err := findCase(t, tc.name).Bytes()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(data, tc.magic) {
				t.Fatalf("starts % x, want % x", data[:4], tc.magic)
			}
			recs := readBack(t, data)
			want := refRecs
			if tc.nanos {
				want = nsRecs
			}
			if len(recs) != len(want) {
				t.Fatalf("%d frames, want %d", len(recs), len(want))
			}
			truncated := 0
			for i, r := range recs {
				w := want[i]
				if !r.ts.Equal(w.ts) {
					t.Fatalf("frame %d at %v, want %v", i+1, r.ts, w.ts)
				}
				if r.origLen != w.origLen {
					t.Fatalf("frame %d original length %d, want %d", i+1, r.origLen, w.origLen)
				}
				wd := w.data
				if tc.snap > 0 && len(wd) > tc.snap {
					wd = wd[:tc.snap]
					truncated++
				}
				if !bytes.Equal(r.data, wd) {
					t.Fatalf("frame %d differs", i+1)
				}
			}
			if tc.snap > 0 && truncated == 0 {
				t.Error("no frame truncated by the snaplen")
			}
		})
	}
	// the nanosecond files really carry sub-microsecond digits
	sub := 0
	for _, r := range nsRecs {
		if r.ts.Nanosecond()%1000 != 0 {
			sub++
		}
	}
	if sub == 0 {
		t.Error("nanosecond reference has no sub-microsecond timestamps")
	}
	if !refRecs[0].ts.Equal(DefaultStart) {
		t.Errorf("first packet at %v, want %v", refRecs[0].ts, DefaultStart)
	}
}

// tcpFlags renders a segment as "o:SA" (o originator, r responder).
func tcpFlags(tcp *layers.TCP, fromOrig bool) string {
	var b strings.Builder
	if fromOrig {
		b.WriteString("o:")
	} else {
		b.WriteString("r:")
	}
	for _, f := range []struct {
		on bool
		c  byte
	}{{tcp.SYN, 'S'}, {tcp.FIN, 'F'}, {tcp.RST, 'R'}, {tcp.ACK, 'A'}} {
		if f.on {
			b.WriteByte(f.c)
		}
	}
	return b.String()
}

// TestTCPSessions checks the connection-state cases: the flags that open
// and close each session, and sequence/acknowledgement numbers that a
// real stack would produce (no gaps, acks never ahead of the peer's data,
// never going back).
func TestTCPSessions(t *testing.T) {
	tests := []struct {
		name         string
		state        string
		head, tail   []string
		noSYN, noEnd bool
	}{
		{"conn-S0.pcap", "S0", []string{"o:S", "o:S", "o:S"}, nil, false, false},
		{"conn-S1.pcap", "S1", []string{"o:S", "r:SA", "o:A"}, nil, false, true},
		{"conn-SF.pcap", "SF", []string{"o:S", "r:SA", "o:A"}, []string{"o:FA", "r:FA", "o:A"}, false, false},
		{"conn-REJ.pcap", "REJ", []string{"o:S", "r:RA"}, nil, false, false},
		{"conn-S2.pcap", "S2", []string{"o:S", "r:SA", "o:A"}, []string{"o:FA", "r:A"}, false, false},
		{"conn-S3.pcap", "S3", []string{"o:S", "r:SA", "o:A"}, []string{"r:FA", "o:A"}, false, false},
		{"conn-RSTO.pcap", "RSTO", []string{"o:S", "r:SA", "o:A"}, []string{"o:RA"}, false, false},
		{"conn-RSTR.pcap", "RSTR", []string{"o:S", "r:SA", "o:A"}, []string{"r:RA"}, false, false},
		{"conn-RSTOS0.pcap", "RSTOS0", []string{"o:S", "o:S", "o:R"}, nil, false, false},
		{"conn-RSTRH.pcap", "RSTRH", []string{"r:SA", "r:R"}, nil, false, false},
		{"conn-SH.pcap", "SH", []string{"o:S", "o:S", "o:F"}, nil, false, false},
		{"conn-SHR.pcap", "SHR", []string{"r:SA", "r:FA"}, nil, false, false},
		{"conn-OTH.pcap", "OTH", nil, nil, true, true},
		{"midstream-40000-49752.pcap", "OTH", []string{"r:A"}, nil, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, s, _, err := findCase(t, tc.name).Bytes()
			if err != nil {
				t.Fatal(err)
			}
			fl := s.Flows()
			if len(fl) != 1 || fl[0].State != tc.state {
				t.Fatalf("flows %+v, want one in state %s", fl, tc.state)
			}
			orig := fl[0].Orig
			var flags []string
			next := map[bool]uint32{}  // next expected seq per direction
			acked := map[bool]uint32{} // highest ack per direction
			seen := map[bool]bool{}
			var synSeq uint32
			for i, r := range readBack(t, data) {
				p := decodeRec(t, r)
				tcp := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
				ip := p.NetworkLayer().NetworkFlow()
				src, _ := netip.AddrFromSlice(ip.Src().Raw())
				o := netip.AddrPortFrom(src, uint16(tcp.SrcPort)) == orig
				flags = append(flags, tcpFlags(tcp, o))
				if tcp.SYN && !tcp.ACK && seen[o] && tcp.Seq == synSeq {
					continue // retransmitted SYN
				}
				if tcp.RST && !seen[o] {
					continue // RST answering a SYN: its seq is not in the stream
				}
				if seen[o] && tcp.Seq != next[o] {
					t.Errorf("frame %d (%s): seq %d, want %d", i+1, flags[len(flags)-1], tcp.Seq, next[o])
				}
				if tcp.ACK && seen[!o] && (tcp.Ack-next[!o]) < 1<<31 && tcp.Ack != next[!o] {
					t.Errorf("frame %d: ack %d beyond the peer's next seq %d", i+1, tcp.Ack, next[!o])
				}
				if tcp.ACK && acked[o] != 0 && tcp.Ack-acked[o] >= 1<<31 {
					t.Errorf("frame %d: ack %d goes back from %d", i+1, tcp.Ack, acked[o])
				}
				if tcp.ACK {
					acked[o] = tcp.Ack
				}
				if tcp.SYN {
					synSeq = tcp.Seq
				}
				next[o] = tcp.Seq + uint32(len(tcp.Payload)) + uint32(b2i(tcp.SYN)) + uint32(b2i(tcp.FIN))
				seen[o] = true
			}
			if !slices.Equal(flags[:min(len(tc.head), len(flags))], tc.head) {
				t.Errorf("starts %v, want %v", flags, tc.head)
			}
			if len(tc.tail) > 0 && !slices.Equal(flags[max(0, len(flags)-len(tc.tail)):], tc.tail) {
				t.Errorf("ends %v, want %v", flags, tc.tail)
			}
			for _, f := range flags {
				if (tc.noSYN && strings.Contains(f, "S")) || (tc.noEnd && strings.ContainsAny(f[2:], "FR")) {
					t.Errorf("unexpected %s in %v", f, flags)
				}
			}
		})
	}
}

// TestICMPErrors checks type and code of every generated ICMP error.
func TestICMPErrors(t *testing.T) {
	tests := []struct {
		name  string
		codes []string // "type/code" in order
	}{
		{"icmp-unreach-udp.pcap", []string{"3/3", "v6 1/4"}},
		{"icmp-prohibited.pcap", []string{"3/13", "3/13", "3/1", "3/13"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, _, _, err := findCase(t, tc.name).Bytes()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range readBack(t, data) {
				p := decodeRec(t, r)
				if l, ok := p.Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4); ok {
					got = append(got, itoa(l.TypeCode.Type())+"/"+itoa(l.TypeCode.Code()))
				}
				if l, ok := p.Layer(layers.LayerTypeICMPv6).(*layers.ICMPv6); ok {
					got = append(got, "v6 "+itoa(l.TypeCode.Type())+"/"+itoa(l.TypeCode.Code()))
				}
			}
			if !slices.Equal(got, tc.codes) {
				t.Errorf("ICMP errors %v, want %v", got, tc.codes)
			}
		})
	}
}

func itoa(v uint8) string {
	if v >= 10 {
		return itoa(v/10) + string(rune('0'+v%10))
	}
	return string(rune('0' + v))
}

// TestDeterminism: same seed, same bytes; another seed, other bytes.
func TestDeterminism(t *testing.T) {
	gen := func(seed uint64) [32]byte {
		var b bytes.Buffer
		if _, err := (Mix{Seed: seed, Flows: 500, Duration: time.Minute}).Write(&b, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		return sha256.Sum256(b.Bytes())
	}
	if a, b := gen(7), gen(7); a != b {
		t.Error("two runs with seed 7 differ")
	}
	if gen(7) == gen(8) {
		t.Error("seeds 7 and 8 give the same capture")
	}
	for _, c := range allCases() {
		a, _, _, err := c.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		b, _, _, _ := c.Bytes()
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two builds differ", c.Name)
		}
	}
}

// TestGolden fails when the committed captures differ from what the
// generator produces now; run with -update to rewrite them.
func TestGolden(t *testing.T) {
	if *update {
		if err := GenerateAll(testdataDir); err != nil {
			t.Fatal(err)
		}
	}
	tmp := t.TempDir()
	if err := GenerateAll(tmp); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"captures", "flowcases", "names"} {
		gen, err := os.ReadDir(filepath.Join(tmp, dir))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range gen {
			names = append(names, filepath.Join(dir, e.Name()))
		}
		compareGenerated(t, tmp, testdataDir, names)
		committed, err := os.ReadDir(filepath.Join(testdataDir, dir))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range committed {
			if strings.HasSuffix(e.Name(), ".yaml") {
				continue // hand-written inventories
			}
			if _, err := os.Stat(filepath.Join(tmp, dir, e.Name())); err != nil {
				t.Errorf("%s/%s is not produced by the generator any more", dir, e.Name())
			}
		}
	}
}

// compareGenerated holds each named file freshly generated under tmp equal
// to its committed twin under committed.
func compareGenerated(t *testing.T, tmp, committed string, names []string) {
	t.Helper()
	for _, name := range names {
		want, err := os.ReadFile(filepath.Join(tmp, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(committed, name))
		if err != nil {
			t.Errorf("%s: %v (run go test ./analyzer/pcapgen -update)", filepath.ToSlash(name), err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the generator's output (run go test ./analyzer/pcapgen -update)", filepath.ToSlash(name))
		}
	}
}

// TestMix checks a small benchmark mix: packets in time order, every frame
// decodes, flows and packets as reported, the expected variety of traffic.
func TestMix(t *testing.T) {
	var b bytes.Buffer
	st, err := Mix{Seed: 3, Flows: 3000, Duration: 5 * time.Minute}.Write(&b, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	recs := readBack(t, b.Bytes())
	if len(recs) != st.Packets || st.Flows != 3000 {
		t.Fatalf("read %d packets of %d, %d flows", len(recs), st.Packets, st.Flows)
	}
	if ppf := float64(st.Packets) / float64(st.Flows); ppf < 12 || ppf > 30 {
		t.Errorf("%.1f packets per flow, want about 20", ppf)
	}
	c := classify(t, recs)
	if len(c.perKey) < 2900 {
		t.Errorf("%d distinct flows decoded, want about 3000", len(c.perKey))
	}
	for _, l := range []gopacket.LayerType{layers.LayerTypeTCP, layers.LayerTypeDNS, layers.LayerTypeICMPv4, layers.LayerTypeIPv6, layers.LayerTypeDot1Q} {
		if c.layers[l] == 0 {
			t.Errorf("no %v in the mix", l)
		}
	}
	for i := 1; i < len(recs); i++ {
		if recs[i].ts.Before(recs[i-1].ts) {
			t.Fatalf("frame %d goes back in time", i+1)
		}
	}
	if span := st.Last.Sub(st.First); span < 4*time.Minute {
		t.Errorf("capture spans %v, want about 5 minutes", span)
	}
}

// TestErrors: impossible requests are reported, not silently written.
func TestErrors(t *testing.T) {
	v4, v6 := netip.MustParseAddrPort("10.0.0.1:1000"), netip.MustParseAddrPort("[fd00::1]:443")
	raw := []Iface{{Name: "tun0", Link: LinkRaw}}
	tests := []struct {
		name  string
		build func() *Scenario
		opts  WriteOptions
		want  string
	}{
		{"vlan on raw IP", func() *Scenario {
			s := New(Config{Ifaces: raw})
			s.TCP(0, v4, ap(srv, 443), TCPOpts{Path: Path{VLANs: []uint16{5}}})
			return s
		}, WriteOptions{}, "cannot carry"},
		{"arp on raw IP", func() *Scenario {
			s := New(Config{Ifaces: raw})
			s.ARP(0, ws1, gw, true, Path{})
			return s
		}, WriteOptions{}, "cannot carry"},
		{"ipv6 on LINKTYPE_IPV4", func() *Scenario {
			s := New(Config{Ifaces: []Iface{{Link: LinkIPv4}}})
			s.TCP(0, netip.MustParseAddrPort("[fd00::2]:5000"), v6, TCPOpts{})
			return s
		}, WriteOptions{}, "IP version"},
		{"mixed families", func() *Scenario {
			s := New(Config{})
			s.TCP(0, v4, v6, TCPOpts{})
			return s
		}, WriteOptions{}, "one family"},
		{"unknown interface", func() *Scenario {
			s := New(Config{})
			s.UDP(0, v4, ap(dns1, 53), UDPOpts{Path: Path{Iface: 3}})
			return s
		}, WriteOptions{}, "interface 3"},
		{"tunnel without endpoints", func() *Scenario {
			s := New(Config{})
			s.TCP(0, v4, ap(srv, 443), TCPOpts{Path: Path{Tunnel: Tunnel{Kind: TunnelVXLAN}}})
			return s
		}, WriteOptions{}, "tunnel endpoints"},
		{"ICMP error quoting fragments", func() *Scenario {
			s := New(Config{})
			s.UDP(0, v4, ap(srv, 9), UDPOpts{Request: 4000, Fragment: 1500, Reply: ReplyPortUnreachable})
			return s
		}, WriteOptions{}, "fragments"},
		{"pcap with two link types", func() *Scenario {
			s := New(Config{Ifaces: []Iface{{Link: LinkEthernet}, {Link: LinkRaw}}})
			s.TCP(0, v4, ap(srv, 443), TCPOpts{})
			return s
		}, WriteOptions{}, "pcapng"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.build().Write(io.Discard, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

// TestFrameAllocs: serialising an ordinary data segment does not allocate.
func TestFrameAllocs(t *testing.T) {
	s := New(Config{Seed: 1})
	s.TCP(0, s.Client(ws1), ap(srv, 443), TCPOpts{Exchanges: 2, Response: 20000, Path: Path{VLANs: []uint16{10}}})
	f := s.flows[0]
	fb := newFramer()
	for _, i := range []int{5, 8} { // data segments
		if _, err := fb.frame(f, i, LinkEthernet); err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(100, func() { _, _ = fb.frame(f, i, LinkEthernet) }); n != 0 {
			t.Errorf("step %d: %.1f allocations per frame, want 0", i, n)
		}
	}
}

func BenchmarkMixWrite(b *testing.B) {
	b.ReportAllocs()
	var pkts int
	for b.Loop() {
		st, err := Mix{Seed: 1, Flows: 2000, Duration: time.Minute}.Write(io.Discard, WriteOptions{})
		if err != nil {
			b.Fatal(err)
		}
		pkts += st.Packets
		b.SetBytes(st.Bytes)
	}
	b.ReportMetric(float64(pkts)/b.Elapsed().Seconds(), "packets/s")
}

func BenchmarkFrame(b *testing.B) {
	b.ReportAllocs()
	s := New(Config{Seed: 1})
	s.TCP(0, s.Client(ws1), ap(srv, 443), TCPOpts{Response: 20000})
	f := s.flows[0]
	fb := newFramer()
	for b.Loop() {
		if _, err := fb.frame(f, 5, LinkEthernet); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGenerateCases(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		for _, c := range allCases() {
			if _, _, _, err := c.Bytes(); err != nil {
				b.Fatal(err)
			}
		}
	}
}
