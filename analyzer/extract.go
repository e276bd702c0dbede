package analyzer

import (
	"errors"
	"io"
	"net/netip"

	"github.com/flowaudit/flowaudit/analyzer/capture"
	"github.com/flowaudit/flowaudit/analyzer/decode"
)

// Selection picks the packets of one service (client, server, protocol,
// server port) to copy out as evidence, or of one sweep: with Sweep
// "hosts" every server of the client on that protocol and port (Server is
// ignored), with Sweep "ports" every port of that server (Port is
// ignored).
type Selection struct {
	Client, Server netip.Addr
	Proto          uint8
	Port           uint16 // server port; ignored for protocols without ports
	Sweep          string // "", "hosts" or "ports"
	Conns          int    // the connections to take; 0: Extract's maxConns
	Out            io.Writer
}

// connID tells a selection's connections apart: the server and its port
// (which vary in a sweep) and the client port.
type connID struct {
	server       netip.Addr
	sport, cport uint16
}

type selKey struct {
	client, server netip.Addr
	proto          uint8
	port           uint16
}

type selState struct {
	w       *capture.Writer
	conns   []connID // the connections taken so far
	sweep   bool     // connections count for port-less protocols too (a ping sweep's servers)
	max     int      // connections to take
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
//
// A sweep's selection takes the first Conns (else maxConns) connections of the
// client to any of its servers (hosts) or ports (ports), each server and
// client port (server port and client port) one connection, a ping
// sweep's each server one; a service's own selection comes first.
func Extract(paths []string, sels []Selection, maxConns int) ([]int, error) {
	index := make(map[selKey]*selState, len(sels))
	var hostSweeps, portSweeps map[selKey]*selState // keyed without the server, or without the port
	states := make([]*selState, len(sels))
	for i, s := range sels {
		k := selKey{s.Client.Unmap(), s.Server.Unmap(), s.Proto, s.Port}
		if !hasPorts(s.Proto) {
			k.port = 0
		}
		m := index
		switch s.Sweep {
		case "hosts":
			if hostSweeps == nil {
				hostSweeps = map[selKey]*selState{}
			}
			k.server, m = netip.Addr{}, hostSweeps
		case "ports":
			if portSweeps == nil {
				portSweeps = map[selKey]*selState{}
			}
			k.port, m = 0, portSweeps
		}
		st := m[k]
		if st == nil {
			st = &selState{w: capture.NewWriter(s.Out), sweep: s.Sweep != "", max: maxConns}
			if s.Conns > 0 {
				st.max = s.Conns
			}
			m[k] = st
		}
		states[i] = st
	}
	// find is the selection of a packet of client to server (port: the
	// server's, 0 without ports): the service's, else a sweep's.
	find := func(client, server netip.Addr, proto uint8, port uint16) *selState {
		if st := index[selKey{client, server, proto, port}]; st != nil {
			return st
		}
		if st := hostSweeps[selKey{client, netip.Addr{}, proto, port}]; st != nil {
			return st
		}
		return portSweeps[selKey{client, server, proto, 0}]
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
			var conn connID
			if q := p.Quoted; q.Valid {
				// An ICMP error is evidence of the flow it quotes: an
				// unreachable or admin-prohibited answering the client.
				qport := q.DstPort
				if !hasPorts(q.Proto) {
					qport = 0
				}
				if st = find(q.Src.Unmap(), q.Dst.Unmap(), q.Proto, qport); st != nil {
					conn = connID{q.Dst.Unmap(), q.DstPort, q.SrcPort}
					if st.packets < MaxEvidencePackets && st.take(conn, hasPorts(q.Proto)) {
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
				if st = find(src, dst, p.Proto, p.DstPort); st != nil {
					conn = connID{dst, p.DstPort, p.SrcPort}
				} else if st = find(dst, src, p.Proto, p.SrcPort); st != nil {
					conn = connID{src, p.SrcPort, p.DstPort}
				}
			} else if st = find(src, dst, p.Proto, 0); st != nil {
				conn = connID{server: dst}
			} else if st = find(dst, src, p.Proto, 0); st != nil {
				conn = connID{server: src}
			}
			if st == nil || st.packets >= MaxEvidencePackets || !st.take(conn, hasPorts(p.Proto)) {
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

// take says whether a packet of connection c is copied: yes for the
// first s.max connections. A service of a protocol without ports is one
// connection (capped by packets only); a sweep's are its servers.
func (s *selState) take(c connID, withPorts bool) bool {
	if !withPorts && !s.sweep || s.max <= 0 {
		return true
	}
	for _, t := range s.conns {
		if t == c {
			return true
		}
	}
	if len(s.conns) >= s.max {
		return false
	}
	s.conns = append(s.conns, c)
	return true
}
