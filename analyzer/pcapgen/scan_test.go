package pcapgen

import (
	"bytes"
	"net/netip"
	"testing"
)

func TestScan(t *testing.T) {
	tests := []struct {
		name           string
		scan           Scan
		probes         int
		minPkts, maxPk int
	}{
		{"defaults on a /28", Scan{Network: netip.MustParsePrefix("10.1.0.0/28")}, 16 * 8, 16 * 8, 3 * 16 * 8},
		{"every port open: SYN, SYN-ACK, RST", Scan{Hosts: 5, Ports: []uint16{1, 2}, Open: 1}, 10, 30, 30},
		{"every port closed: SYN, RST-ACK", Scan{Clients: 3, Hosts: 4, Ports: []uint16{445}, Closed: 1}, 12, 24, 24},
		{"nothing answers", Scan{Hosts: 7, Ports: []uint16{3389}, Closed: 1e-12}, 7, 7, 7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.scan.Probes(); got != tc.probes {
				t.Errorf("Probes() = %d, want %d", got, tc.probes)
			}
			var a, b bytes.Buffer
			st, err := tc.scan.Write(&a, WriteOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tc.scan.Write(&b, WriteOptions{}); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Error("two writes differ")
			}
			if st.Flows != tc.probes || st.Packets < tc.minPkts || st.Packets > tc.maxPk {
				t.Errorf("%d flows, %d packets; want %d flows, %d-%d packets", st.Flows, st.Packets, tc.probes, tc.minPkts, tc.maxPk)
			}
		})
	}
}
