package audit

import (
	"net/netip"
	"testing"
	"time"
)

func TestBlockEvidenceShort(t *testing.T) {
	tests := []struct {
		name string
		e    BlockEvidence
		want string
	}{
		{"icmp", BlockEvidence{Kind: BlockICMP, ICMPType: 3, ICMPCode: 13, ICMPFrom: netip.MustParseAddr("192.0.2.1")}, "ICMP 3/13 from 192.0.2.1"},
		{"host reset", BlockEvidence{Kind: BlockHostReset, RSTTTL: 64, ServerTTLMin: 64, ServerTTLMax: 64}, "RST by the host (TTL 64)"},
		{"middlebox one ttl", BlockEvidence{Kind: BlockMiddleboxReset, RSTTTL: 255, ServerTTLMin: 61, ServerTTLMax: 61}, "RST by a middlebox (TTL 255, host 61)"},
		{"middlebox ttl range", BlockEvidence{Kind: BlockMiddleboxReset, RSTTTL: 250, ServerTTLMin: 60, ServerTTLMax: 62}, "RST by a middlebox (TTL 250, host 60-62)"},
		{"reset", BlockEvidence{Kind: BlockReset, RSTTTL: 128}, "RST (TTL 128)"},
		{"no answer", BlockEvidence{Kind: BlockNoAnswer, Attempts: 3, Over: 3 * time.Second, What: "SYNs"}, "no answer: 3 SYNs over 3s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.e.Short(); got != tt.want {
				t.Errorf("Short() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestRecordReset: a service flow records call rejected (no frame, no
// RST or ICMP error seen) says a reset answered, not that nothing did;
// one a capture saw rejected without either is still no answer.
func TestRecordReset(t *testing.T) {
	rec := &Service{Proto: 6, Rejected: 1, ClientPackets: 1}
	if e := blockEvidence(rec); e.Kind != BlockRecordReset || e.Short() != "RST (flow record, no TTL)" {
		t.Errorf("flow record: %+v %q", e, e.Short())
	}
	capt := &Service{Proto: 6, Rejected: 1, ClientPackets: 1, FirstFrame: Frame{File: "a.pcap", Frame: 3}}
	if e := blockEvidence(capt); e.Kind != BlockNoAnswer {
		t.Errorf("capture: %+v", e)
	}
}
