// Package pcapgen synthesises realistic packet captures for flowaudit's
// tests, samples and benchmarks.
//
// A Scenario is described as hosts and sessions: each flow method (TCP,
// UDP, Stream, Ping, ARP, Neighbor, VRRP, LLMNR, MDNS) takes the offset of
// the flow's first packet and its endpoints, and expands the flow into
// packets with realistic sequence numbers, acknowledgements, windows, TTLs
// and timing. Options select the variants analysers must handle: refused,
// unanswered, firewalled or half-open TCP, mid-stream captures, RST
// closes, ICMP errors quoting the packet they answer, IP fragments, and
// how the packets reach the capture (Path: interface, 802.1Q/QinQ tags,
// MPLS, PPPoE, VXLAN/GENEVE/GRE/ERSPAN/IP-in-IP tunnels, IPv6 extension
// headers). Write then merges all flows in time order into pcap or pcapng
// (any byte order, micro- or nanosecond, several interfaces, gzip).
//
//	s := pcapgen.New(pcapgen.Config{Seed: 1})
//	cs := netip.MustParseAddr("10.0.1.10") // Horizon Connection Server
//	ws := netip.MustParseAddr("10.0.2.50") // client
//	s.TCP(0, s.Client(ws), netip.AddrPortFrom(cs, 443), pcapgen.TCPOpts{Exchanges: 5})
//	s.UDP(time.Second, s.Client(ws), netip.AddrPortFrom(cs, 4172), pcapgen.UDPOpts{Reply: pcapgen.ReplyNone})
//	_, err := s.Write(f, pcapgen.WriteOptions{Format: pcapgen.FormatPcapNG})
//
// Everything is deterministic: the seed of math/rand/v2 and a fixed start
// time (DefaultStart) give the same bytes on every run and machine. Frames
// are built with github.com/google/gopacket layers and SerializeLayers, and
// written with github.com/gopacket/gopacket/pcapgo; the few headers those
// cannot build (Linux SLL/SLL2, GENEVE, IPv6 fragment, VRRP, big-endian
// files) are built here.
//
// Flows are held as compact step lists and serialised only when written,
// into reused buffers. Mix generates its flows lazily in start order and
// the writer keeps only active flows, so a benchmark capture of millions
// of packets streams to disk in constant memory.
//
// LinkTypeCases and FlowCases are the committed captures under
// testdata/captures and testdata/flowcases; GenerateAll rewrites them.
package pcapgen

//go:generate go run ../../cmd/pcapgen -kind generate-all -o ../../testdata
