package flow

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/decode"
)

// fuzzPackets turns bytes into a packet sequence over a few hosts and
// ports, so that the fuzzer hits the same connections again and again.
func fuzzPackets(data []byte) ([]decode.Packet, []time.Duration) {
	hosts := []netip.Addr{hostC, hostS, hostR, netip.MustParseAddr("fe80::1"), netip.MustParseAddr("fe80::2"), {}}
	ports := []uint16{53, 80, 443, 3389, 40000, 49752, 50000, 0}
	protos := []uint8{decode.ProtoTCP, decode.ProtoTCP, decode.ProtoUDP, decode.ProtoICMP, decode.ProtoICMPv6, decode.ProtoVRRP}
	var pkts []decode.Packet
	var gaps []time.Duration
	for len(data) >= 16 {
		b := data[:16]
		data = data[16:]
		p := decode.Packet{
			Src:        hosts[int(b[0])%len(hosts)],
			Dst:        hosts[int(b[1])%len(hosts)],
			SrcPort:    ports[int(b[2])%len(ports)],
			DstPort:    ports[int(b[3])%len(ports)],
			Proto:      protos[int(b[4])%len(protos)],
			TCPFlags:   b[5],
			Seq:        uint32(b[6]) << uint(b[7]%32),
			Ack:        uint32(b[8]) << uint(b[7]%32),
			Window:     uint16(b[9]),
			PayloadLen: int(b[10]) - 8,
			IPLen:      int(b[10]) + 20,
			ICMPType:   b[11] % 12,
			ICMPCode:   b[12] % 5,
			ICMPID:     uint16(b[12] % 3),
		}
		if p.Proto == decode.ProtoICMPv6 && p.ICMPType >= 5 {
			p.ICMPType += 123 // 128 echo ... 134
		}
		if b[13]&1 != 0 {
			p.Quoted = decode.Quoted{Valid: true, Src: p.Dst, Dst: hosts[int(b[13]>>1)%len(hosts)],
				SrcPort: ports[int(b[13]>>3)%len(ports)], DstPort: ports[int(b[2])%len(ports)], Proto: protos[int(b[13]>>5)%len(protos)]}
		}
		if b[14]&3 == 3 {
			p.Fragment, p.FragID = true, uint32(b[14]>>2)%4
			p.FragOffset = uint16(b[14]>>4) * 8
			p.MoreFragments = b[14]&0x40 != 0
		}
		if b[14]&0x80 != 0 {
			p.NVLAN, p.VLANs[0] = 1, uint16(b[13])
		}
		pkts = append(pkts, p)
		gaps = append(gaps, time.Duration(binary.BigEndian.Uint16([]byte{b[15], b[7]}))*time.Millisecond*37-time.Second)
	}
	return pkts, gaps
}

var validStates = map[string]bool{"S0": true, "S1": true, "SF": true, "REJ": true, "S2": true, "S3": true, "RSTO": true,
	"RSTR": true, "RSTOS0": true, "RSTRH": true, "SH": true, "SHR": true, "OTH": true}

// FuzzTracker feeds arbitrary packet sequences and checks the tracker's
// bookkeeping: every packet is accounted for exactly once, records are
// consistent, nothing panics.
func FuzzTracker(f *testing.F) {
	f.Add([]byte("\x00\x01\x06\x02\x00\x02\x01\x00\x00\x10\x28\x00\x00\x00\x00\x00" +
		"\x01\x00\x02\x06\x00\x12\x05\x00\x02\x10\x28\x00\x00\x00\x00\x00" +
		"\x00\x01\x06\x02\x00\x10\x02\x00\x06\x10\x40\x00\x00\x00\x00\x00"))
	f.Add([]byte("\x02\x00\x00\x00\x03\x00\x00\x00\x00\x00\x40\x03\x03\x0b\x00\x10" +
		"\x00\x01\x06\x00\x02\x00\x00\x00\x00\x00\xff\x00\x00\x00\x03\x00" +
		"\x00\x01\x00\x00\x02\x00\x00\x00\x00\x00\xff\x00\x00\x00\x17\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pkts, gaps := fuzzPackets(data)
		var conns []Connection
		tr := NewTracker(Config{MaxConnections: 5, UDPTimeout: 20 * time.Second, ServerPorts: fakePorts{{6, 49752}: true},
			OnConnection: func(c *Connection) { conns = append(conns, *c) }})
		ts := base
		for i := range pkts {
			ts = ts.Add(gaps[i])
			tr.Add(&pkts[i], ts, Pos{Frame: uint64(i + 1)})
			if tr.Live() > 5 {
				t.Fatalf("live %d over the bound", tr.Live())
			}
		}
		tr.Flush()
		st := tr.Stats()
		var counted, svcConns uint64
		for _, c := range conns {
			counted += c.OrigPkts + c.RespPkts
			if !validStates[c.State] || c.Outcome >= numOutcomes || c.ClientBy > ByFirstPacket {
				t.Fatalf("bad record %+v", c)
			}
			if c.LastPos.Less(c.FirstPos) || c.End.Before(c.Start) {
				t.Fatalf("positions or times run backwards: %+v", c)
			}
			if c.OrigPkts+c.RespPkts == 0 {
				t.Fatalf("connection without packets: %+v", c)
			}
		}
		for _, s := range tr.Services() {
			svcConns += s.Connections
			if s.Established+s.Rejected+s.Unanswered+s.Partial != s.Connections {
				t.Fatalf("outcomes do not add up: %+v", s)
			}
		}
		if svcConns != uint64(len(conns)) || st.Connections != uint64(len(conns)) || tr.Live() != 0 {
			t.Fatalf("%d connections, %d in services, stats %+v", len(conns), svcConns, st)
		}
		if got := counted + st.ICMPErrorsAttached + st.FragmentsOrphaned + st.Ignored; got != st.Packets {
			t.Fatalf("packets %d, accounted %d (in connections %d) %+v", st.Packets, got, counted, st)
		}
	})
}
