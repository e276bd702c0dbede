package decode

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFuzzCorpus writes every TestDecode frame as a seed under
// testdata/fuzz/FuzzDecode with -update, and otherwise checks they are
// there.
func TestFuzzCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	for _, c := range decodeCases(t) {
		path := filepath.Join(dir, "seed-"+c.name)
		content := fmt.Sprintf("go test fuzz v1\nuint32(%d)\n[]byte(%q)\n", c.link, c.frame)
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if got, err := os.ReadFile(path); err != nil || string(got) != content {
			t.Errorf("%s missing or stale (run with -update): %v", path, err)
		}
	}
}

// FuzzDecode: no frame makes Decode panic (or makes a gopacket layer panic
// inside the parser), and what it returns is consistent.
func FuzzDecode(f *testing.F) {
	for _, c := range decodeCases(f) {
		f.Add(c.link, c.frame)
	}
	d := NewDecoder()
	full := NewDecoder()
	full.fullEthernet = true
	f.Fuzz(func(t *testing.T, link uint32, data []byte) {
		var p Packet
		reason, err := d.Decode(link, data, &p)
		if err != nil && strings.HasPrefix(err.Error(), "panic:") {
			t.Fatalf("a layer panicked: %v", err)
		}
		sameAsFullEthernet(t, full, link, data, p, reason, err)
		switch reason {
		case ReasonNone:
			if !p.Src.IsValid() || !p.Dst.IsValid() || p.Src.Is4() != p.Dst.Is4() {
				t.Fatalf("decoded without addresses: %+v", p)
			}
			if (p.SrcPort != 0 || p.DstPort != 0) && p.Proto != ProtoTCP && p.Proto != ProtoUDP && p.Proto != ProtoSCTP {
				t.Fatalf("ports on protocol %d", p.Proto)
			}
			if p.Tunnel != TunnelNone && !p.OuterSrc.IsValid() || p.Tunnel == TunnelNone && p.OuterSrc.IsValid() {
				t.Fatalf("tunnel %d with outer %v", p.Tunnel, p.OuterSrc)
			}
			if p.PayloadLen < 0 || p.IPLen < 0 || p.NVLAN > 2 {
				t.Fatalf("%+v", p)
			}
		case ReasonTruncated, ReasonMalformed:
			if err == nil {
				t.Fatalf("%v without error", reason)
			}
			fallthrough
		default:
			if p != (Packet{}) {
				t.Fatalf("%v with a filled packet %+v", reason, p)
			}
		}
	})
}

// knownAllocs are the decodable frames that still allocate, inside
// google/gopacket v1.1.19: its IPv6 layer decodes hop-by-hop options into
// one allocated value each, and its layers build their errors with
// fmt.Errorf (an inner packet that fails, a first fragment too short for a
// TCP header).
var knownAllocs = map[string]float64{
	"ipv6-hop-routing-dest-tcp":      1,
	"gre-undecodable-payload-is-gre": 2,
	"ipv4-tiny-first-fragment":       2,
}

// TestDecodeZeroAllocs: decoding allocates nothing for the frames that
// decode and for the usual skipped ones, once the Decoder is warm.
func TestDecodeZeroAllocs(t *testing.T) {
	d := NewDecoder()
	for _, c := range decodeCases(t) {
		if c.reason == ReasonMalformed || c.reason == ReasonTruncated {
			continue // errors from gopacket's layers are formatted
		}
		var p Packet
		d.Decode(c.link, c.frame, &p)
		if n := testing.AllocsPerRun(100, func() { d.Decode(c.link, c.frame, &p) }); n != knownAllocs[c.name] {
			t.Errorf("%s: %.1f allocations per frame, want %.1f", c.name, n, knownAllocs[c.name])
		}
	}
}

// BenchmarkDecode is the cost of one frame, per kind of frame.
func BenchmarkDecode(b *testing.B) {
	cases := decodeCases(b)
	for _, name := range []string{"ethernet-ipv4-tcp-data", "ethernet-ipv6-udp", "vlan", "qinq-8100", "mpls-two-labels-ipv4", "pppoe-ipv4", "sll2-ipv6-tcp", "vxlan-icmp", "gre-ipv4", "6in4", "ipv6-hop-routing-dest-tcp", "ipv4-first-fragment", "icmp-port-unreachable-quotes-udp", "arp", "radiotap-qos-data-fcs", "radiotap-beacon", "ppp-in-hdlc-framing"} {
		var c decodeCase
		for _, cc := range cases {
			if cc.name == name {
				c = cc
			}
		}
		if c.name == "" {
			b.Fatalf("no case %s", name)
		}
		b.Run(name, func(b *testing.B) {
			d := NewDecoder()
			var p Packet
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if r, _ := d.Decode(c.link, c.frame, &p); r != c.reason {
					b.Fatal(r)
				}
			}
		})
	}
}

// TestEnteringAtIP: every decode case gives the same result whether an
// Ethernet frame that carries IP enters the parser at its IP header or goes
// through gopacket's Ethernet layer (decodeFile checks the same on every
// frame of the generated and shared captures, FuzzDecode on its inputs).
func TestEnteringAtIP(t *testing.T) {
	d, full := NewDecoder(), NewDecoder()
	full.fullEthernet = true
	n := 0
	for _, c := range decodeCases(t) {
		var p Packet
		reason, err := d.Decode(c.link, c.frame, &p)
		sameAsFullEthernet(t, full, c.link, c.frame, p, reason, err)
		if c.link == LinkTypeEthernet && len(c.frame) >= 14 && (c.frame[12] == 0x08 && c.frame[13] == 0x00 || c.frame[12] == 0x86 && c.frame[13] == 0xdd) {
			n++
		}
	}
	if n < 10 {
		t.Errorf("only %d cases take the shortcut", n)
	}
}

// sameAsFullEthernet checks that a frame decodes to the same packet, reason
// and error when an Ethernet frame that carries IP goes through gopacket's
// Ethernet layer as well.
func sameAsFullEthernet(t testing.TB, full *Decoder, link uint32, data []byte, p Packet, reason Reason, err error) {
	t.Helper()
	var q Packet
	r2, err2 := full.Decode(link, data, &q)
	if r2 != reason || fmt.Sprint(err2) != fmt.Sprint(err) || q != p {
		t.Fatalf("link %d, frame % x:\nentering at IP: %v %v %+v\nthrough Ethernet: %v %v %+v", link, data, reason, err, p, r2, err2, q)
	}
}
