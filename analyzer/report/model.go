// Package report turns an audit into what people and scripts read: a
// terminal table, Markdown for a change ticket, JSON, CSV and a
// self-contained HTML page. Every format is built from one Report value
// and is deterministic: the same inputs give the same bytes.
package report

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
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
	Error       string // why the file was not read to its end (for a cut-short file, the warning); "" when complete

	// Status is how far the file was read: "complete", "cut-short" (the
	// last record is incomplete: a warning), "damaged" (reading stopped
	// at damage before the end) or "unreadable"; "" counts as complete.
	Status string
	// Offset and Frame are where reading stopped (cut-short, damaged, and
	// unreadable when its first record is damaged):
	// the byte offset of the record or block and its frame number.
	Offset int64
	Frame  uint64
	// ReadToEnd: a damaged connection log was read to its end, but some
	// of its records were not (IPFIX data sets without a template):
	// Error says which.
	ReadToEnd bool
	// Analysed is how many frames were decoded into connections;
	// NothingAnalysed says why none was, for a file with frames.
	Analysed        uint64
	NothingAnalysed string
	// NotDecoded counts the frames of link types flowaudit does not
	// decode ("3 frames of link type 147 (USER0), which flowaudit does
	// not decode"): what they carried is missing from the report.
	NotDecoded string
	// Records is how many connection records a sensor's log (a Zeek
	// conn.log) gave; 0 for a capture. Records have no frames.
	Records uint64
	// Uncounted is how many of the records gave no packet or no IP byte
	// count (counted as 0: FrameNote says so).
	Uncounted uint64
	// OneWay: NetFlow/IPFIX records none of which saw packets both ways
	// (an exporter that may see one direction only: FrameNote says so).
	OneWay bool
}

// Capture statuses.
const (
	StatusComplete   = "complete"
	StatusCutShort   = "cut-short"
	StatusDamaged    = "damaged"
	StatusUnreadable = "unreadable"
)

// Complete says whether the file was read to its end.
func (c *Capture) Complete() bool { return c.Status == "" || c.Status == StatusComplete }

// StatusText describes how far the file was read, in a sentence:
// "complete", "cut short at byte offset 1192 (frame 10): …; the 9 frames
// before it were analysed", "damaged at …", "unreadable (…)".
func (c *Capture) StatusText() string {
	s := ""
	frames := fmt.Sprintf("the %d frames", c.Packets)
	if c.Packets == 1 {
		frames = "the frame"
	}
	were := "were"
	if c.Packets == 1 {
		were = "was"
	}
	switch {
	case c.Records > 0 && c.Status == StatusCutShort:
		s = fmt.Sprintf("cut short in its last record: %s; the %d connection records before it were read", c.Error, c.Records)
	case c.Records > 0 && c.Status == StatusDamaged && c.ReadToEnd:
		s = fmt.Sprintf("incomplete: %s; the other %d connection records were read", c.Error, c.Records)
	case c.Records > 0 && c.Status == StatusDamaged:
		s = fmt.Sprintf("damaged: %s; the %d connection records before it were read, nothing after it", c.Error, c.Records)
	case c.Status == StatusCutShort:
		s = fmt.Sprintf("cut short at byte offset %d (frame %d): %s; %s before it %s analysed", c.Offset, c.Frame, c.Error, frames, were)
	case c.Status == StatusDamaged:
		s = fmt.Sprintf("damaged at byte offset %d (frame %d): %s; %s before it %s read, nothing after it", c.Offset, c.Frame, c.Error, frames, were)
	case c.Status == StatusUnreadable && c.Frame > 0:
		s = fmt.Sprintf("unreadable: its first record, at byte offset %d (frame %d), is damaged: %s", c.Offset, c.Frame, c.Error)
	case c.Status == StatusUnreadable:
		s = "unreadable (" + c.Error + ")"
	default:
		s = "complete"
		if c.Records > 0 {
			s = fmt.Sprintf("complete, %d connection records", c.Records)
		}
	}
	switch {
	case c.NothingAnalysed != "":
		s += "; nothing analysed: " + c.NothingAnalysed
	case c.NotDecoded != "":
		s += "; not analysed: " + c.NotDecoded
	}
	return s
}

// Limits are the bounds that kept memory in check, and what they cost.
type Limits struct {
	MaxConnections     int    // --max-connections
	EvictedConnections uint64 // connections ended early because more were live
	MaxServices        int    // --max-services
	// UnaggregatedServices were not kept (nor analysed) past
	// MaxServices; a lower bound when UnaggregatedServicesMore.
	UnaggregatedServices     uint64
	UnaggregatedServicesMore bool
	UnaggregatedConnections  uint64 // the connections of those services

	EvidenceMax        int // --evidence-max (with --evidence)
	EvidenceNotWritten int // findings without a pcap in the evidence bundle, past EvidenceMax

	// NameLogOverflow are host names of Zeek's ssl.log and http.log not
	// kept: past NameLogMax uids (connlog.DefaultMaxNames).
	NameLogOverflow uint64
	NameLogMax      int
	// DNSLogOverflow are address answers of Zeek's dns.log not kept: past
	// NameLogMax answers.
	DNSLogOverflow uint64
}

// Report is everything a report shows.
type Report struct {
	Tool, Version string
	Generated     time.Time
	Captures      []Capture
	// NameLogs are the Zeek ssl.log and http.log files whose host names
	// named the conn.log's connections by uid, and the dns.log files whose
	// answers named their addresses (FrameNote says so), in the order
	// read, with their SHA-256: inputs, as the captures are.
	NameLogs []NameLog
	// NameLogErrors are what stopped the reading of a name log (its
	// path and line): its names after it were not read, and the report
	// is incomplete.
	NameLogErrors []string
	Inventory     string // path, "" without one
	InventorySHA  string
	InferRoles    bool // hosts missing from the inventory got inferred roles
	IncludeNoise  bool // --include-noise: link-local housekeeping listed as flows
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

	// derived is what Prepare worked out ahead of rendering; nil: each
	// method works it out when asked.
	derived *derived
}

// derived is what every format works out from Result and FailOn.
type derived struct {
	sections Sections
	counts   audit.Counts
	findings int
	rules    []*catalog.Rule
}

// Prepare works out, once, what every format derives from the audit: the
// sections, the counts, the findings, the rules cited (a pass over every
// flow each). A caller that still waits for something else before it
// renders (analysis.Report, for the captures' digests) calls it first,
// so that rendering starts at once when that comes. Result and FailOn
// must not change afterwards; Captures may.
func (r *Report) Prepare() {
	r.derived = nil
	r.derived = &derived{sections: r.Split(), counts: r.Result.Counts(), findings: r.FindingCount(), rules: r.citedRules()}
}

// counts are the audit's counts (Result.Counts).
func (r *Report) counts() audit.Counts {
	if r.derived != nil {
		return r.derived.counts
	}
	return r.Result.Counts()
}

// Complete says whether the report covers every frame of every capture:
// each was read to its end, none had frames of a link type flowaudit does
// not decode, some frame was analysed, and no service was left out past
// --max-services.
func (r *Report) Complete() bool { return len(r.Incomplete()) == 0 }

// Incomplete lists why the report does not cover everything, one sentence
// each, in capture order; empty when it does.
func (r *Report) Incomplete() []string {
	var out []string
	var analysed uint64
	for i := range r.Captures {
		c := &r.Captures[i]
		analysed += c.Analysed + c.Records
		// A capture of frames without IP (STP, CDP) was analysed in
		// full; one of a link type not decoded, or not read to its end,
		// was not.
		if !c.Complete() || c.NotDecoded != "" {
			name := c.Path
			if name == "-" {
				name = "<stdin>"
			}
			out = append(out, name+": "+c.StatusText())
		}
	}
	if analysed == 0 {
		out = append(out, "no frame of any capture was analysed: this report has nothing to say about the traffic")
	}
	if l := r.Limits; l.UnaggregatedConnections > 0 {
		more := ""
		if l.UnaggregatedServicesMore {
			more = "at least "
		}
		out = append(out, fmt.Sprintf("%d connections of %s%d services were not analysed: more than --max-services=%d services (a scan?)",
			l.UnaggregatedConnections, more, l.UnaggregatedServices, l.MaxServices))
	}
	if l := r.Limits; l.NameLogOverflow > 0 {
		out = append(out, fmt.Sprintf("%d host names of the ssl.log and http.log were not kept: more than %d uids; their connections are unnamed, so a host-name rule may have left their service undocumented",
			l.NameLogOverflow, l.NameLogMax))
	}
	for _, e := range r.NameLogErrors {
		out = append(out, e+": the host names after it were not read, so a host-name rule may have left their service undocumented")
	}
	if l := r.Limits; l.DNSLogOverflow > 0 {
		out = append(out, fmt.Sprintf("%d DNS answers of the dns.log were not kept: more than %d answers; the addresses they named may be unnamed, so a host-name rule may have left their service undocumented",
			l.DNSLogOverflow, l.NameLogMax))
	}
	return out
}

// NameLog is a Zeek ssl.log, http.log or dns.log that named connections,
// with its SHA-256 (hex).
type NameLog struct {
	Path, SHA256 string
	Kind         string // "ssl", "http" or "dns"
}

// incompleteNote is what never-seen findings say when the report is
// incomplete.
const incompleteNote = "The captures were not all read or analysed (see the top of the report): a flow listed here may be in the part that is missing."

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

// FindingCount is how many findings of the --fail-on kinds there are,
// each counted once: an undocumented service whose waiver expired is one
// finding, whether --fail-on names undocumented, expired-waiver or both.
func (r *Report) FindingCount() int {
	if r.derived != nil {
		return r.derived.findings
	}
	on := map[string]bool{}
	for _, k := range r.FailOn {
		on[k] = true
	}
	n := 0
	for _, f := range r.Result.Flows {
		switch {
		case on[KindExpiredWaiver] && f.WaiverExpired:
		case f.Status == audit.Undocumented && on[KindUndocumented]:
		case f.Status == audit.Documented && f.Blocked && on[KindBlocked]:
		default:
			continue
		}
		n++
	}
	for _, m := range r.Result.Missing {
		switch {
		case m.Waiver != nil && !m.WaiverExpired:
			continue
		case on[KindExpiredWaiver] && m.WaiverExpired:
		case m.Optional() && on[KindOptionalMissing]:
		case !m.Optional() && on[KindMissing]:
		default:
			continue
		}
		n++
	}
	for _, w := range r.Result.Sweeps {
		switch {
		case w.Waived():
			continue
		case on[KindExpiredWaiver] && w.WaiverExpired:
		case on[KindSweep]:
		default:
			continue
		}
		n++
	}
	return n
}

// DocumentedCount is the number of documented services that were
// established (or are broadcast and multicast): the "documented" of every
// format's summary. Blocked documented services are counted as blocked,
// not here too.
func (r *Report) DocumentedCount() int {
	c := r.counts()
	return c.Documented - c.Blocked
}

// Sections split the flows the way every format lists them.
type Sections struct {
	Undocumented, Blocked, Documented, Waived []*audit.Flow
	Missing, OptionalMissing, WaivedMissing   []*audit.Missing
	Sweeps, WaivedSweeps                      []*audit.Sweep
}

// Split sorts the audit's flows and missing rules into sections.
func (r *Report) Split() Sections {
	if r.derived != nil {
		return r.derived.sections.clone()
	}
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
	for _, w := range r.Result.Sweeps {
		if w.Waived() {
			s.WaivedSweeps = append(s.WaivedSweeps, w)
		} else {
			s.Sweeps = append(s.Sweeps, w)
		}
	}
	return s
}

// clone is s with slices of its own: a caller may reorder them.
func (s Sections) clone() Sections {
	return Sections{
		Undocumented: slices.Clone(s.Undocumented), Blocked: slices.Clone(s.Blocked), Documented: slices.Clone(s.Documented), Waived: slices.Clone(s.Waived),
		Missing: slices.Clone(s.Missing), OptionalMissing: slices.Clone(s.OptionalMissing), WaivedMissing: slices.Clone(s.WaivedMissing),
		Sweeps: slices.Clone(s.Sweeps), WaivedSweeps: slices.Clone(s.WaivedSweeps),
	}
}

// FrameNote says, once per report, what findings from flow records lack:
// "" when every input is a capture.
func (r *Report) FrameNote() string {
	var logs, oneWay []string
	var uncounted uint64
	for _, c := range r.Captures {
		if c.Records > 0 {
			logs = append(logs, c.Path)
			uncounted += c.Uncounted
		}
		if c.OneWay {
			oneWay = append(oneWay, c.Path)
		}
	}
	if len(logs) == 0 {
		return ""
	}
	note := "flow records (" + strings.Join(logs, ", ") + ") hold no packets: what they gave has no first frame, Wireshark filter or evidence pcap, " +
		"and who blocked a connection is known only as far as its conn_state (or, for NetFlow/IPFIX, its TCP flags) says (no TTLs, no ICMP errors)"
	if uncounted > 0 {
		// A log without the packet or byte columns (or with them unset):
		// its services' packets and bytes are lower bounds.
		note += fmt.Sprintf("; %d of the records gave no packet or byte count, taken as 0 in the packets and bytes", uncounted)
	}
	if len(oneWay) > 0 {
		// No connection seen both ways: "unanswered" may be an exporter
		// that sees (or exports) one direction only, not a reply that
		// never came.
		note += "; no connection of " + strings.Join(oneWay, ", ") + " had packets both ways: if its exporter sees only one direction, " +
			"the replies were not exported and unanswered does not mean that no reply came"
	}
	if len(r.NameLogs) > 0 {
		var files, dns []string
		for _, l := range r.NameLogs {
			if l.Kind == "dns" {
				dns = append(dns, l.Path)
			} else {
				files = append(files, l.Path)
			}
		}
		switch {
		case len(dns) == 0:
			note += "; host names (sni, http-host) by uid from " + strings.Join(files, ", ") + ", none from DNS"
		case len(files) == 0:
			note += "; host names (dns) from the answers of " + strings.Join(dns, ", ") + " by address, none by uid (sni, http-host)"
		default:
			note += "; host names (sni, http-host) by uid from " + strings.Join(files, ", ") + ", and (dns) from the answers of " + strings.Join(dns, ", ") + " by address"
		}
	}
	return note
}

// ipField is the Wireshark field prefix for an address: "ip" or "ipv6".
func ipField(a netip.Addr) string {
	if a.Unmap().Is4() {
		return "ip"
	}
	return "ipv6"
}

// Filter is a Wireshark display filter that shows exactly the packets of
// a flow: both directions between client and server on the server port
// (for protocols with ports), or of that IP protocol. A flow from flow
// records (first frame 0: no packet to show) has none.
func Filter(f *audit.Flow) string {
	if f.FirstFrame.Frame == 0 {
		return ""
	}
	c, s := f.Client.Unmap(), f.Server.Unmap()
	fwd := fmt.Sprintf("%s.src==%s && %s.dst==%s", ipField(c), c, ipField(s), s)
	rev := fmt.Sprintf("%s.src==%s && %s.dst==%s", ipField(s), s, ipField(c), c)
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
	if s.FirstFrame.Frame == 0 {
		return "" // from flow records
	}
	c := s.Client.Unmap()
	name := catalog.ProtoName(s.Proto)
	if !catalog.HasPorts(s.Proto) {
		if s.Kind == "ports" {
			srv := s.Server.Unmap()
			return fmt.Sprintf("((%s.src==%s && %s.dst==%s) || (%s.src==%s && %s.dst==%s)) && %s", ipField(c), c, ipField(srv), srv, ipField(srv), srv, ipField(c), c, name)
		}
		return fmt.Sprintf("(%s.src==%s || %s.dst==%s) && %s", ipField(c), c, ipField(c), c, name)
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
		return fmt.Sprintf("(%s.src==%s && %s.dst==%s%s) || (%s.src==%s && %s.dst==%s%s)", ipField(c), c, ipField(srv), srv, dp, ipField(srv), srv, ipField(c), c, sp)
	}
	return fmt.Sprintf("(%s.src==%s%s) || (%s.dst==%s%s)", ipField(c), c, ports("dstport"), ipField(c), c, ports("srcport"))
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

// NamesText lists a service's host names with their evidence, strongest
// first: "ocsp.digicert.com (sni); crl3.digicert.com (dns)".
func NamesText(ns []audit.Name) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = n.Name + " (" + n.Evidence + ")"
	}
	return strings.Join(parts, "; ")
}

// NameMatchesText says which host names documented a flow by which
// host-pattern rules: "ctx-cc-cc-digicert-443: ocsp.digicert.com (sni)".
func NameMatchesText(ms []audit.NameMatch) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.Rule + ": " + m.Name + " (" + m.Evidence + ")"
	}
	return strings.Join(parts, "; ")
}

// namesCell is the host names of a flow for the tables: the names that
// matched its host-pattern rules, else every name seen, with evidence.
func namesCell(f *audit.Flow) string {
	if len(f.NameMatches) == 0 {
		return NamesText(f.Names)
	}
	var parts []string
	for _, m := range f.NameMatches {
		p := m.Name + " (" + m.Evidence + ")"
		if !slices.Contains(parts, p) {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, "; ")
}
