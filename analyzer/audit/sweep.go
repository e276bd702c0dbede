package audit

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/inventory"
	"github.com/flowaudit/flowaudit/catalog"
)

// BlockEvidence says what answered, or did not, for a service that was
// never established.
type BlockEvidence struct {
	// Kind is one of:
	//   host-reset       a RST with a TTL of the server's other packets: the host refused (service down, port closed)
	//   middlebox-reset  a RST whose TTL is outside those of the server's other packets: something in the path answered for it
	//   reset            a RST from the server's address, with no other packet of it to compare TTLs
	//   record-reset     flow records (conn.log, NetFlow, IPFIX) say a reset answered; they keep no TTL
	//   icmp             an ICMP error (admin-prohibited is 3/13) from the address that sent it
	//   no-answer        nothing came back
	Kind         string
	RSTTTL       uint8 // reset kinds: the RST's TTL
	ServerTTLMin uint8 // host-reset, middlebox-reset: the lowest and highest TTL of the server's other packets
	ServerTTLMax uint8
	ICMPType     uint8 // icmp
	ICMPCode     uint8
	ICMPName     string
	ICMPFrom     netip.Addr
	Attempts     uint64        // no-answer: packets the client sent (SYNs, datagrams); unknown when Uncounted
	Uncounted    bool          // no-answer: the flow records gave no packet count
	Over         time.Duration // no-answer: from the first to the last of them
	What         string        // no-answer: what they were ("SYNs", "datagrams", "packets")
	Text         string        // one sentence saying all of the above
}

// Short is the evidence in a few words, for a terminal column:
// "ICMP 3/13 from 192.0.2.1", "RST by the host (TTL 64)",
// "RST by a middlebox (TTL 255, host 64)", "RST (TTL 64)",
// "no answer: 3 SYNs over 3s". Text says it in full.
func (e *BlockEvidence) Short() string {
	switch e.Kind {
	case BlockICMP:
		return fmt.Sprintf("ICMP %d/%d from %s", e.ICMPType, e.ICMPCode, e.ICMPFrom)
	case BlockHostReset:
		return fmt.Sprintf("RST by the host (TTL %d)", e.RSTTTL)
	case BlockMiddleboxReset:
		return fmt.Sprintf("RST by a middlebox (TTL %d, host %s)", e.RSTTTL, ttlRange(e.ServerTTLMin, e.ServerTTLMax))
	case BlockReset:
		return fmt.Sprintf("RST (TTL %d)", e.RSTTTL)
	case BlockRecordReset:
		return "RST (flow record, no TTL)"
	}
	if e.Uncounted {
		return fmt.Sprintf("no answer over %s (no packet count)", e.Over.Round(time.Millisecond))
	}
	return fmt.Sprintf("no answer: %d %s over %s", e.Attempts, e.What, e.Over.Round(time.Millisecond))
}

// ttlRange is "64", or "60-62" for a range.
func ttlRange(lo, hi uint8) string {
	if lo == hi {
		return itoa(lo)
	}
	return itoa(lo) + "-" + itoa(hi)
}

// itoa is a number in decimal, as %d prints it.
func itoa[T uint8 | uint64](n T) string { return strconv.FormatUint(uint64(n), 10) }

// Block evidence kinds.
const (
	BlockHostReset      = "host-reset"
	BlockMiddleboxReset = "middlebox-reset"
	BlockReset          = "reset"
	BlockRecordReset    = "record-reset"
	BlockICMP           = "icmp"
	BlockNoAnswer       = "no-answer"
)

// blockEvidence reads a service's evidence: an ICMP error first (it names
// who refused), then a RST, then silence.
func blockEvidence(s *Service) *BlockEvidence {
	e := &BlockEvidence{}
	readBlockEvidence(e, s)
	return e
}

// readBlockEvidence is blockEvidence into e (zero). Its sentences are
// concatenated rather than formatted: a scan has thousands of them.
func readBlockEvidence(e *BlockEvidence, s *Service) {
	srv := s.Server.Unmap()
	switch {
	case s.ICMPErrors > 0 && s.ICMPFrom.IsValid():
		*e = BlockEvidence{Kind: BlockICMP, ICMPType: s.ICMPType, ICMPCode: s.ICMPCode, ICMPName: s.ICMPName, ICMPFrom: s.ICMPFrom.Unmap()}
		who := "the server itself"
		if e.ICMPFrom != srv {
			who = e.ICMPFrom.String() + " (a router or firewall in the path)"
		}
		e.Text = "ICMP " + itoa(s.ICMPType) + "/" + itoa(s.ICMPCode) + " " + s.ICMPName + " from " + who
		return
	case s.RSTs > 0:
		*e = BlockEvidence{RSTTTL: s.RSTTTL, ServerTTLMin: s.ServerTTLMin, ServerTTLMax: s.ServerTTLMax}
		rst := itoa(s.RSTTTL)
		switch {
		case s.ServerTTLMin == 0:
			e.Kind = BlockReset
			e.Text = "RST from " + srv.String() + "'s address (TTL " + rst + "); no other packet of it to compare: the host or a middlebox"
			return
		case s.RSTTTL >= s.ServerTTLMin && s.RSTTTL <= s.ServerTTLMax:
			e.Kind = BlockHostReset
		default:
			e.Kind = BlockMiddleboxReset
		}
		ttls := "TTL " + ttlRange(s.ServerTTLMin, s.ServerTTLMax)
		if s.ServerTTLMax != s.ServerTTLMin {
			ttls = "TTLs" + ttls[len("TTL"):]
		}
		if e.Kind == BlockHostReset {
			e.Text = "RST from " + srv.String() + " with TTL " + rst + ", as its other packets (" + ttls + "): the host refused (service down or port closed)"
		} else {
			e.Text = "RST with TTL " + rst + " where " + srv.String() + "'s other packets have " + ttls + ": a middlebox answered for it"
		}
		return
	case s.Rejected > 0 && s.FirstFrame.Frame == 0:
		// Rejected without a RST or ICMP error seen: flow records
		// (conn_state REJ, RSTOS0, RSTRH; NetFlow/IPFIX TCP flags) said
		// so, and hold no packet to tell who sent the reset.
		*e = BlockEvidence{Kind: BlockRecordReset, Text: "a reset answered, as the flow records say (conn_state or TCP flags); they keep no TTL to tell the host from a middlebox"}
		return
	}
	*e = BlockEvidence{Kind: BlockNoAnswer, Attempts: s.ClientPackets, Over: s.LastSeen.Sub(s.FirstSeen), What: "packets"}
	switch s.Proto {
	case 6:
		e.What = "SYNs"
	case 17:
		e.What = "datagrams"
	}
	if !s.PacketsCounted() {
		// Flow records without packet counts: how many were sent is not
		// known, not 0.
		e.Attempts, e.Uncounted = 0, true
		e.Text = "no answer over " + e.Over.Round(time.Millisecond).String() + " (the flow records give no packet count)"
		return
	}
	e.Text = "no answer to " + itoa(e.Attempts) + " " + e.What + " over " + e.Over.Round(time.Millisecond).String()
}

// Sweep is a client that contacted more servers on one protocol and port
// than the sweep threshold (Kind "hosts"), or more ports of one server
// (Kind "ports"): a scan. Its services are summarized, not listed.
type Sweep struct {
	Kind                   string // "hosts" or "ports"
	Client, Server         netip.Addr
	ClientHost, ServerHost *inventory.Host // nil when not in the inventory; ServerHost only for "ports"
	Proto                  uint8
	Ports                  []catalog.PortRange
	Servers                uint64
	ServersApprox          bool // more servers than flowaudit remembers: repeated probes may count twice
	// ServerLo and ServerHi are the lowest and highest server address
	// contacted (a "ports" sweep: Server), exact even when ServersApprox.
	ServerLo, ServerHi  netip.Addr
	Connections         uint64
	Established         uint64
	Rejected            uint64
	Unanswered          uint64
	Packets             uint64 // both ways, with the ICMP errors that quoted its connections
	Bytes               uint64
	FirstSeen, LastSeen time.Time
	FirstFrame          Frame

	// NoPackets and NoBytes are the connections whose flow records gave
	// no packet, or no byte, count (taken as 0), as for a Service.
	NoPackets, NoBytes uint64

	// Waiver is the first waiver that covers the whole sweep
	// (Waiver.CoversSweep); WaiverExpired says it has lapsed, and the
	// sweep is still a finding.
	Waiver        *Waiver
	WaiverExpired bool
	// Hints say why a waiver written for the sweep's client does not
	// cover it (not every server, or not every port).
	Hints []string
}

// Waived says whether a waiver in force accepts the sweep: it is not a
// finding.
func (s *Sweep) Waived() bool { return s.Waiver != nil && !s.WaiverExpired }

// PacketsCounted says whether Packets counts anything (see
// Service.PacketsCounted).
func (s *Sweep) PacketsCounted() bool { return s.NoPackets < s.Connections || s.Connections == 0 }

// BytesCounted is PacketsCounted for Bytes.
func (s *Sweep) BytesCounted() bool { return s.NoBytes < s.Connections || s.Connections == 0 }

// PortsText is the ports as ranges, "1-1024, 3389".
func (s *Sweep) PortsText() string { return catalog.FormatPorts(s.Ports) }

// AddSweeps labels sweeps with the inventory's hosts and adds them to the
// result.
func (r *Result) AddSweeps(ss []Sweep, inv *inventory.Inventory) {
	copies := slices.Clone(ss) // one allocation for all
	r.Sweeps = slices.Grow(r.Sweeps, len(ss))
	for i := range copies {
		s := &copies[i]
		if inv != nil {
			s.ClientHost = inv.Lookup(s.Client)
			if s.Server.IsValid() {
				s.ServerHost = inv.Lookup(s.Server)
			}
		}
		r.Sweeps = append(r.Sweeps, s)
	}
}

// Describe is the sweep in words: "10.0.0.9 → 65,536 servers on 445/tcp".
func (s *Sweep) Describe() string {
	proto := catalog.ProtoName(s.Proto)
	if s.Kind == "ports" {
		return fmt.Sprintf("%d ports of %s/%s", portCount(s.Ports), s.Server.Unmap(), proto)
	}
	approx := ""
	if s.ServersApprox {
		approx = "about "
	}
	return fmt.Sprintf("%s%d servers on %s/%s", approx, s.Servers, strings.ReplaceAll(s.PortsText(), " ", ""), proto)
}

func portCount(rs []catalog.PortRange) int {
	n := 0
	for _, r := range rs {
		n += int(r.Hi) - int(r.Lo) + 1
	}
	return n
}
