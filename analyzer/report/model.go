// Package report turns an audit into what people and scripts read: a
// terminal table, Markdown for a change ticket, JSON, CSV and a
// self-contained HTML page. Every format is built from one Report value
// and is deterministic: the same inputs give the same bytes.
package report

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/audit"
	"github.com/flowaudit/flowaudit/analyzer/inventory"
	"github.com/flowaudit/flowaudit/catalog"
)

// Capture describes one input file, so a report can be reproduced.
type Capture struct {
	Path        string
	SHA256      string
	Format      string
	Packets     uint64
	Bytes       uint64
	First, Last time.Time
	Error       string // a read error that cut the file short
}

// Report is everything a report shows.
type Report struct {
	Tool, Version string
	Generated     time.Time
	Captures      []Capture
	Inventory     string // path, "" without one
	InventorySHA  string
	InferRoles    bool // hosts missing from the inventory got inferred roles
	CatalogFiles  []string
	Products      []string // product filter; empty for all
	// Scope are the products hints drew on (--product, else the
	// inventory's); empty for every product.
	Scope   []string
	Hosts   []*inventory.Host
	Result  *audit.Result
	FailOn  []string
	Skipped map[string]uint64 // packets skipped, by reason
	Packets uint64
	Limits  Limits
}

// Limits are what a bound left out of the report, so that every format
// can say the report is partial.
type Limits struct {
	EvidenceMax        int // --evidence-max (with --evidence)
	EvidenceNotWritten int // findings without a pcap in the evidence bundle, past EvidenceMax
}

// Finding kinds, as --fail-on names them.
const (
	KindUndocumented    = "undocumented"
	KindBlocked         = "blocked"
	KindMissing         = "missing"
	KindOptionalMissing = "optional-missing"
	KindExpiredWaiver   = "expired-waiver"
	KindSweep           = "sweep"
)

// Kinds are the finding kinds --fail-on accepts.
var Kinds = []string{KindUndocumented, KindBlocked, KindMissing, KindOptionalMissing, KindExpiredWaiver, KindSweep}

// FindingCount is how many findings of the --fail-on kinds there are.
func (r *Report) FindingCount() int {
	c := r.Result.Counts()
	n := 0
	for _, k := range r.FailOn {
		switch k {
		case KindUndocumented:
			n += c.Undocumented
		case KindBlocked:
			n += c.Blocked
		case KindMissing:
			n += c.Missing
		case KindOptionalMissing:
			n += c.MissingOptional
		case KindExpiredWaiver:
			n += c.ExpiredWaivers
		case KindSweep:
			n += c.Sweeps
		}
	}
	return n
}

// Sections split the flows the way every format lists them.
type Sections struct {
	Undocumented, Blocked, Documented, Waived []*audit.Flow
	Missing, OptionalMissing, WaivedMissing   []*audit.Missing
}

// Split sorts the audit's flows and missing rules into sections.
func (r *Report) Split() Sections {
	var s Sections
	for _, f := range r.Result.Flows {
		switch {
		case f.Status == audit.Undocumented:
			s.Undocumented = append(s.Undocumented, f)
		case f.Status == audit.Waived:
			s.Waived = append(s.Waived, f)
		case f.Blocked:
			s.Blocked = append(s.Blocked, f)
		default:
			s.Documented = append(s.Documented, f)
		}
	}
	for _, m := range r.Result.Missing {
		switch {
		case m.Waiver != nil && !m.WaiverExpired:
			s.WaivedMissing = append(s.WaivedMissing, m)
		case m.Optional():
			s.OptionalMissing = append(s.OptionalMissing, m)
		default:
			s.Missing = append(s.Missing, m)
		}
	}
	return s
}

// Filter is a Wireshark display filter that shows exactly the packets of
// a flow: both directions between client and server on the server port
// (for protocols with ports), or of that IP protocol.
func Filter(f *audit.Flow) string {
	ip := func(a netip.Addr) string {
		if a.Unmap().Is4() {
			return "ip"
		}
		return "ipv6"
	}
	c, s := f.Client.Unmap(), f.Server.Unmap()
	fwd := fmt.Sprintf("%s.src==%s && %s.dst==%s", ip(c), c, ip(s), s)
	rev := fmt.Sprintf("%s.src==%s && %s.dst==%s", ip(s), s, ip(c), c)
	switch f.Proto {
	case 6, 17, 132:
		t := catalog.ProtoName(f.Proto)
		return fmt.Sprintf("(%s && %s.dstport==%d) || (%s && %s.srcport==%d)", fwd, t, f.Port, rev, t, f.Port)
	case 1:
		return fmt.Sprintf("((%s) || (%s)) && icmp", fwd, rev)
	case 58:
		return fmt.Sprintf("((%s) || (%s)) && icmpv6", fwd, rev)
	}
	proto := "ip.proto"
	if !c.Is4() {
		proto = "ipv6.nxt"
	}
	return fmt.Sprintf("((%s) || (%s)) && %s==%d", fwd, rev, proto, f.Proto)
}

// maxFilterRanges is how many port ranges a sweep's filter lists; past
// it the filter shows all of the protocol between the two hosts.
const maxFilterRanges = 64

// SweepFilter is a Wireshark display filter that shows a sweep's packets,
// the ICMP errors quoting them included: for a sweep of hosts, everything
// the client sent to the port and got back from it; for a sweep of ports,
// the traffic between client and server on the ports swept.
func SweepFilter(s *audit.Sweep) string {
	ip := func(a netip.Addr) string {
		if a.Unmap().Is4() {
			return "ip"
		}
		return "ipv6"
	}
	c := s.Client.Unmap()
	name := catalog.ProtoName(s.Proto)
	if !catalog.HasPorts(s.Proto) {
		if s.Kind == "ports" {
			srv := s.Server.Unmap()
			return fmt.Sprintf("((%s.src==%s && %s.dst==%s) || (%s.src==%s && %s.dst==%s)) && %s", ip(c), c, ip(srv), srv, ip(srv), srv, ip(c), c, name)
		}
		return fmt.Sprintf("(%s.src==%s || %s.dst==%s) && %s", ip(c), c, ip(c), c, name)
	}
	ports := func(field string) string {
		if len(s.Ports) == 1 && s.Ports[0].Lo == s.Ports[0].Hi {
			return fmt.Sprintf(" && %s.%s==%d", name, field, s.Ports[0].Lo)
		}
		if len(s.Ports) > maxFilterRanges {
			return ""
		}
		parts := make([]string, len(s.Ports))
		for i, r := range s.Ports {
			parts[i] = strconv.Itoa(int(r.Lo))
			if r.Hi != r.Lo {
				parts[i] += ".." + strconv.Itoa(int(r.Hi))
			}
		}
		return fmt.Sprintf(" && %s.%s in {%s}", name, field, strings.Join(parts, ", "))
	}
	if s.Kind == "ports" {
		srv := s.Server.Unmap()
		dp, sp := ports("dstport"), ports("srcport")
		if dp == "" {
			dp, sp = " && "+name, " && "+name
		}
		return fmt.Sprintf("(%s.src==%s && %s.dst==%s%s) || (%s.src==%s && %s.dst==%s%s)", ip(c), c, ip(srv), srv, dp, ip(srv), srv, ip(c), c, sp)
	}
	return fmt.Sprintf("(%s.src==%s%s) || (%s.dst==%s%s)", ip(c), c, ports("dstport"), ip(c), c, ports("srcport"))
}

// Port is the flow's server port, or nil for port-less protocols.
func Port(f *audit.Flow) *uint16 {
	if !catalog.HasPorts(f.Proto) {
		return nil
	}
	p := f.Port
	return &p
}

// Service is "443/tcp" or "vrrp".
func Service(f *audit.Flow) string { return audit.ServiceName(f.Proto, f.Port) }

// HostLabel is "name (addr)" or the bare address.
func HostLabel(h *inventory.Host, a netip.Addr) string {
	if h == nil {
		return a.Unmap().String()
	}
	return h.Name + " (" + a.Unmap().String() + ")"
}

// Roles are a host's role names, or nil. An inferred role is marked
// "Name (inferred)".
func Roles(h *inventory.Host) []string {
	if h == nil {
		return []string{}
	}
	out := h.RoleNames()
	for i, a := range h.Roles {
		if a.Inferred {
			out[i] += " (inferred)"
		}
	}
	return out
}

// Inferred says whether any of the host's roles was inferred.
func Inferred(h *inventory.Host) bool {
	if h == nil {
		return false
	}
	for _, a := range h.Roles {
		if a.Inferred {
			return true
		}
	}
	return false
}

// RuleIDs is the rule ids, comma-separated, site rules marked (RuleRef).
func RuleIDs(rs []*catalog.Rule) string {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = RuleRef(r)
	}
	return strings.Join(ids, ", ")
}

// plainRuleIDs is the rule ids, comma-separated, for a table whose
// sources column says which are site rules (CSV).
func plainRuleIDs(rs []*catalog.Rule) string {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	return strings.Join(ids, ", ")
}

// RuleRef is a rule's id; a site rule (from a --catalog file, declared by
// the team, not by a vendor) says so with its file's name and line, so a
// reviewer tells the two apart: "site-ntp [site: site.yaml:13]" (the
// inputs table and JSON sources give the path).
func RuleRef(r *catalog.Rule) string {
	if r.Site {
		return fmt.Sprintf("%s [site: %s:%d]", r.ID, filepath.Base(r.File), r.Line)
	}
	return r.ID
}

// HostNames lists hosts by name, or "any" for none.
func HostNames(hs []*inventory.Host) string {
	if len(hs) == 0 {
		return "any"
	}
	names := make([]string, len(hs))
	for i, h := range hs {
		names[i] = h.Name
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// MissingProto is the missing entry's protocol and ports, "udp/4172".
func MissingProto(m *audit.Missing) string {
	ps := catalog.FormatPorts(m.Rule.Ports)
	if ps == "" || !catalog.HasPorts(m.Proto) {
		return catalog.ProtoName(m.Proto)
	}
	return catalog.ProtoName(m.Proto) + "/" + ps
}

// TS formats a timestamp the one way every format uses.
func TS(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000000Z")
}

// WaiverText describes a flow's or missing rule's waiver.
func WaiverText(w *audit.Waiver, expired bool) string {
	if w == nil {
		return ""
	}
	s := w.Ticket + ": " + w.Reason
	if e := w.ExpiryText(); e != "" {
		if expired {
			s += " (expired " + e + ")"
		} else {
			s += " (until " + e + ")"
		}
	}
	return s
}

func hostName(h *inventory.Host) string {
	if h == nil {
		return ""
	}
	return h.Name
}
