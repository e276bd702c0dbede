package analyzer

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowaudit/flowaudit/analyzer/flow"
)

// rawPcap writes frames of LINKTYPE_RAW (101) as a little-endian pcap, one
// second apart.
func rawPcap(t *testing.T, frames ...[]byte) string {
	t.Helper()
	b := binary.LittleEndian.AppendUint32(nil, 0xa1b2c3d4)
	b = binary.LittleEndian.AppendUint16(b, 2)
	b = binary.LittleEndian.AppendUint16(b, 4)
	b = append(b, make([]byte, 8)...)
	b = binary.LittleEndian.AppendUint32(b, 65535)
	b = binary.LittleEndian.AppendUint32(b, 101)
	for i, f := range frames {
		b = binary.LittleEndian.AppendUint32(b, uint32(1700000000+i))
		b = binary.LittleEndian.AppendUint32(b, 0)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(f)))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	path := filepath.Join(t.TempDir(), "raw.pcap")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// ipv6Header is a fixed IPv6 header from 2001:db8::1 to 2001:db8::2.
func ipv6Header(payloadLen uint16, next uint8) []byte {
	h := make([]byte, 40)
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], payloadLen)
	h[6], h[7] = next, 64
	copy(h[8:], []byte{0x20, 0x01, 0x0d, 0xb8, 15: 1})
	copy(h[24:], []byte{0x20, 0x01, 0x0d, 0xb8, 15: 2})
	return h
}

// ipv4UDP is an IPv4/UDP datagram of 8 payload bytes.
func ipv4UDP() []byte {
	h := make([]byte, 36)
	h[0], h[8], h[9] = 0x45, 64, 17
	binary.BigEndian.PutUint16(h[2:], 36)
	copy(h[12:], []byte{192, 0, 2, 1, 192, 0, 2, 2})
	binary.BigEndian.PutUint16(h[20:], 40000)
	binary.BigEndian.PutUint16(h[22:], 53)
	binary.BigEndian.PutUint16(h[24:], 16)
	return h
}

// TestSkippedByReason: every frame is either tracked or counted by the
// reason it was skipped, those the decoder failed on included; an IPv6
// packet with an empty payload is tracked as a connection of its protocol.
func TestSkippedByReason(t *testing.T) {
	tests := []struct {
		name    string
		frames  [][]byte
		decoded uint64
		skipped map[string]uint64
		protos  []uint8 // protocols of the connections, in order
	}{
		{"IPv6 no next header, empty", [][]byte{ipv6Header(0, 59), ipv6Header(0, 59)}, 2, nil, []uint8{59}},
		{"IPv6 TCP with payload length 0", [][]byte{ipv6Header(0, 6)}, 0, map[string]uint64{"malformed": 1}, nil},
		{"IPv4 header cut", [][]byte{ipv4UDP()[:10], ipv4UDP()}, 1, map[string]uint64{"truncated": 1}, []uint8{17}},
		{"bad IP version", [][]byte{append([]byte{0x75}, ipv4UDP()[1:]...)}, 0, map[string]uint64{"malformed": 1}, nil},
		{"all at once", [][]byte{ipv6Header(0, 59), ipv6Header(0, 17), ipv4UDP()[:24], ipv4UDP()}, 2,
			map[string]uint64{"malformed": 1, "truncated": 1}, []uint8{59, 17}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var protos []uint8
			res, err := Run([]string{rawPcap(t, tc.frames...)}, Options{OnConnection: func(c *flow.Connection) { protos = append(protos, c.Proto) }})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]uint64{}
			for _, s := range res.Skipped {
				got[s.Reason] = s.Count
			}
			if len(got) != len(tc.skipped) {
				t.Errorf("skipped %v, want %v", got, tc.skipped)
			}
			for k, v := range tc.skipped {
				if got[k] != v {
					t.Errorf("skipped %v, want %v", got, tc.skipped)
				}
			}
			if res.Decoded != tc.decoded || res.Decoded+res.SkippedTotal() != res.Packets {
				t.Errorf("decoded %d skipped %d of %d packets, want %d decoded", res.Decoded, res.SkippedTotal(), res.Packets, tc.decoded)
			}
			if len(protos) != len(tc.protos) {
				t.Fatalf("connections of protocols %v, want %v", protos, tc.protos)
			}
			for i := range protos {
				if protos[i] != tc.protos[i] {
					t.Errorf("connections of protocols %v, want %v", protos, tc.protos)
				}
			}
		})
	}
}
