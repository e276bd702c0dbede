package analyzer

import (
	"bytes"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowaudit/flowaudit/analyzer/capture"
	"github.com/flowaudit/flowaudit/analyzer/decode"
	"github.com/flowaudit/flowaudit/analyzer/pcapgen"
)

// extracted decodes an Extract output: its packets as client → server
// (the side that sent the SYN is the client) with server port.
func extracted(t *testing.T, data []byte) []decode.Packet {
	t.Helper()
	p := filepath.Join(t.TempDir(), "out.pcapng")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := capture.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	dec := decode.NewDecoder()
	var out []decode.Packet
	for {
		pkt, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		var d decode.Packet
		if reason, err := dec.Decode(pkt.LinkType, pkt.Data, &d); reason != decode.ReasonNone || err != nil {
			t.Fatalf("packet %d: %v %v", len(out)+1, reason, err)
		}
		out = append(out, d)
	}
}

// TestExtractSweeps: a sweep's selection takes its first Conns
// connections to any server (hosts) or any port (ports), and nothing of
// the client's other traffic; a service's own selection beside it keeps
// its packets and its own bound.
func TestExtractSweeps(t *testing.T) {
	dir := t.TempDir()
	path := scanFile(t, dir, "scan.pcap", pcapgen.Scan{Seed: 5, Clients: 2, Hosts: 60, Ports: []uint16{139, 445}}, pcapgen.WriteOptions{})
	c1, c2 := netip.MustParseAddr("10.99.0.1"), netip.MustParseAddr("10.99.0.2")
	srv := netip.MustParseAddr("10.20.0.3")   // scanned by c1
	srv2 := netip.MustParseAddr("10.20.0.63") // scanned by c2
	var hosts, ports, svc bytes.Buffer
	sels := []Selection{
		{Client: c1, Proto: decode.ProtoTCP, Port: 445, Sweep: "hosts", Conns: 20, Out: &hosts},
		{Client: c2, Server: srv2, Proto: decode.ProtoTCP, Sweep: "ports", Conns: 20, Out: &ports},
		{Client: c1, Server: srv, Proto: decode.ProtoTCP, Port: 139, Out: &svc},
	}
	counts, err := Extract([]string{path}, sels, 10)
	if err != nil {
		t.Fatal(err)
	}
	conns := func(name string, ps []decode.Packet, client netip.Addr, ok func(server netip.Addr, port uint16) bool) int {
		seen := map[[2]netip.AddrPort]bool{}
		for _, p := range ps {
			cl, sv := netip.AddrPortFrom(p.Src, p.SrcPort), netip.AddrPortFrom(p.Dst, p.DstPort)
			if p.Src != client {
				cl, sv = sv, cl
			}
			if cl.Addr() != client || !ok(sv.Addr(), sv.Port()) {
				t.Errorf("%s: packet %s → %s:%d is not the selection's", name, p.Src, p.Dst, p.DstPort)
			}
			seen[[2]netip.AddrPort{cl, sv}] = true
		}
		return len(seen)
	}
	h := extracted(t, hosts.Bytes())
	if n := conns("hosts", h, c1, func(_ netip.Addr, p uint16) bool { return p == 445 }); n != 20 || counts[0] != len(h) {
		t.Errorf("hosts sweep: %d connections in %d packets (Extract says %d), want 20", n, len(h), counts[0])
	}
	p := extracted(t, ports.Bytes())
	if n := conns("ports", p, c2, func(s netip.Addr, _ uint16) bool { return s == srv2 }); n != 2 || counts[1] != len(p) {
		t.Errorf("ports sweep: %d connections in %d packets, want both ports", n, len(p))
	}
	s := extracted(t, svc.Bytes())
	if n := conns("service", s, c1, func(sv netip.Addr, p uint16) bool { return sv == srv && p == 139 }); n != 1 || counts[2] != len(s) {
		t.Errorf("service: %d connections in %d packets, want 1", n, len(s))
	}
}
