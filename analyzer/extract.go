package analyzer

import (
	"errors"
	"io"
	"net/netip"

	"github.com/flowaudit/flowaudit/analyzer/capture"
	"github.com/flowaudit/flowaudit/analyzer/decode"
)

// Selection picks the packets of one service (client, server, protocol,
// server port) to copy out as evidence.
type Selection struct {
	Client, Server netip.Addr
	Proto          uint8
	Port           uint16 // server port; ignored for protocols without ports
	Out            io.Writer
}

type selKey struct {
	client, server netip.Addr
	proto          uint8
	port           uint16
}

type selState struct {
	w       *capture.Writer
	ports   []uint16 // client ports of the connections taken so far
	packets int
}

// MaxEvidencePackets bounds the packets copied for one selection.
const MaxEvidencePackets = 100000

func hasPorts(p uint8) bool {
	return p == decode.ProtoTCP || p == decode.ProtoUDP || p == decode.ProtoSCTP
}

// Extract reads the captures again and writes to each selection's Out, as
// pcapng, the packets of its first maxConns connections (told apart by
// client port; port-less services are capped by packet count only), and
// the ICMP errors that quote them. It
// returns how many packets each selection got. Standard input cannot be
// read twice, so "-" is refused. A capture that cannot be opened or read
// to its end gives what it holds before the damage: Run reported it, and
// the evidence of the other captures is still written.
func Extract(paths []string, sels []Selection, maxConns int) ([]int, error) {
	index := make(map[selKey]*selState, len(sels))
	states := make([]*selState, len(sels))
	for i, s := range sels {
		k := selKey{s.Client.Unmap(), s.Server.Unmap(), s.Proto, s.Port}
		if !hasPorts(s.Proto) {
			k.port = 0
		}
		st := index[k]
		if st == nil {
			st = &selState{w: capture.NewWriter(s.Out)}
			index[k] = st
		}
		states[i] = st
	}
	dec := decode.NewDecoder()
	var p decode.Packet
	for _, path := range paths {
		if path == "-" {
			return nil, errors.New("evidence needs to read the captures twice, and standard input can be read only once: save it to a file")
		}
		r, err := capture.Open(path)
		if err != nil {
			continue // unreadable: Run said so, and the other files still count
		}
		for {
			pkt, err := r.Next()
			if err != nil { // the end, or damage Run reported: the packets before it count
				break
			}
			p = decode.Packet{}
			if reason, derr := dec.Decode(pkt.LinkType, pkt.Data, &p); reason != decode.ReasonNone || derr != nil || !p.Src.IsValid() {
				continue
			}
			src, dst := p.Src.Unmap(), p.Dst.Unmap()
			var st *selState
			var clientPort uint16
			if q := p.Quoted; q.Valid {
				// An ICMP error is evidence of the flow it quotes: an
				// unreachable or admin-prohibited answering the client.
				qk := selKey{q.Src.Unmap(), q.Dst.Unmap(), q.Proto, q.DstPort}
				if !hasPorts(q.Proto) {
					qk.port = 0
				}
				if st = index[qk]; st != nil {
					clientPort = q.SrcPort
					if st.packets < MaxEvidencePackets && st.take(clientPort, hasPorts(q.Proto), maxConns) {
						if err := st.w.Write(*pkt); err != nil {
							r.Close()
							return nil, err
						}
						st.packets++
					}
					continue
				}
			}
			if hasPorts(p.Proto) {
				if st = index[selKey{src, dst, p.Proto, p.DstPort}]; st != nil {
					clientPort = p.SrcPort
				} else if st = index[selKey{dst, src, p.Proto, p.SrcPort}]; st != nil {
					clientPort = p.DstPort
				}
			} else if st = index[selKey{src, dst, p.Proto, 0}]; st == nil {
				st = index[selKey{dst, src, p.Proto, 0}]
			}
			if st == nil || st.packets >= MaxEvidencePackets || !st.take(clientPort, hasPorts(p.Proto), maxConns) {
				continue
			}
			if err := st.w.Write(*pkt); err != nil {
				r.Close()
				return nil, err
			}
			st.packets++
		}
		if err := r.Close(); err != nil {
			return nil, err
		}
	}
	counts := make([]int, len(sels))
	for i, st := range states {
		if err := st.w.Flush(); err != nil {
			return nil, err
		}
		counts[i] = st.packets
	}
	return counts, nil
}

// take says whether a packet of the connection on clientPort is copied:
// yes for the first maxConns connections.
func (s *selState) take(clientPort uint16, withPorts bool, maxConns int) bool {
	if !withPorts || maxConns <= 0 {
		return true
	}
	for _, p := range s.ports {
		if p == clientPort {
			return true
		}
	}
	if len(s.ports) >= maxConns {
		return false
	}
	s.ports = append(s.ports, clientPort)
	return true
}
