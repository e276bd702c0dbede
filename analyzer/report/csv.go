package report

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/flowaudit/flowaudit/analyzer/audit"
	"github.com/flowaudit/flowaudit/analyzer/inventory"
	"github.com/flowaudit/flowaudit/catalog"
)

// CSV row kinds: the value of the kind column, one per section of the
// report.
const (
	CSVUndocumented    = "undocumented"
	CSVBlocked         = "blocked"
	CSVMissing         = "missing"
	CSVOptionalMissing = "optional-missing"
	CSVUnverifiable    = "unverifiable"
	CSVSweep           = "sweep"
	CSVWaived          = "waived"
	CSVDocumented      = "documented"
)

// CSVHeader is the CSV report's columns: one row per service, never-seen
// rule and unverifiable rule, told apart by kind.
var CSVHeader = []string{"kind", "status", "blocked", "outcome", "client", "client_host", "client_roles", "server", "server_host", "server_roles",
	"proto", "port", "connections", "established", "rejected", "unanswered", "packets", "bytes", "first_seen", "last_seen",
	"first_file", "first_frame", "rules", "descriptions", "sources", "waiver", "hints", "filter", "blocked_by",
	"host_names", "name_evidence", "first_uid"}

// csvColumn is a column's index in CSVHeader.
func csvColumn(name string) int {
	for i, h := range CSVHeader {
		if h == name {
			return i
		}
	}
	panic("report: no CSV column " + name)
}

// CSV writes every finding and every documented service, in the report's
// order: undocumented, blocked, missing, optional-missing, unverifiable,
// sweep, waived, documented. A row's kind says which; rule rows (missing,
// unverifiable) leave the traffic columns empty and carry the rule's
// roles, hosts, protocol and ports; a sweep row holds the ports swept in
// its port column and how many servers in its hints.
func (r *Report) CSV(w io.Writer) error {
	// An incomplete report says so before anything else, in comment
	// lines (read them with a comment character of '#', as Go's
	// encoding/csv and pandas' comment= do): why, every capture's status
	// and the limits. A report that a limit cut into says which; a
	// complete one within its limits has no comment lines.
	reasons := r.Incomplete()
	l := r.Limits
	if len(reasons) > 0 || l.EvictedConnections > 0 || l.EvidenceNotWritten > 0 || l.NameLogOverflow > 0 || l.DNSLogOverflow > 0 {
		bw := bufio.NewWriter(w)
		if len(reasons) > 0 {
			fmt.Fprintf(bw, "# INCOMPLETE REPORT: not every frame of the captures was analysed\n")
		}
		for _, why := range reasons {
			fmt.Fprintf(bw, "# incomplete: %s\n", oneLine(why))
		}
		for i := range r.Captures {
			c := &r.Captures[i]
			fmt.Fprintf(bw, "# capture: %s: %s\n", oneLine(c.Path), oneLine(c.StatusText()))
		}
		fmt.Fprintf(bw, "# limits: evicted_connections=%d (max_connections=%d), unaggregated_services=%d, unaggregated_connections=%d (max_services=%d)",
			l.EvictedConnections, l.MaxConnections, l.UnaggregatedServices, l.UnaggregatedConnections, l.MaxServices)
		if l.EvidenceNotWritten > 0 {
			fmt.Fprintf(bw, ", evidence_not_written=%d (evidence_max=%d)", l.EvidenceNotWritten, l.EvidenceMax)
		}
		if l.NameLogOverflow > 0 {
			fmt.Fprintf(bw, ", name_log_overflow=%d (uids=%d)", l.NameLogOverflow, l.NameLogMax)
		}
		if l.DNSLogOverflow > 0 {
			fmt.Fprintf(bw, ", dns_log_overflow=%d (answers=%d)", l.DNSLogOverflow, l.NameLogMax)
		}
		fmt.Fprintf(bw, "\n")
		if err := bw.Flush(); err != nil {
			return err
		}
	}
	if note := r.FrameNote(); note != "" {
		// Said once: the rows of flow records have no frame and no filter.
		if _, err := fmt.Fprintf(w, "# note: %s\n", oneLine(note)); err != nil {
			return err
		}
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	s := r.Split()
	for _, k := range []struct {
		kind  string
		flows []*audit.Flow
	}{{CSVUndocumented, s.Undocumented}, {CSVBlocked, s.Blocked}} {
		for _, f := range k.flows {
			if err := cw.Write(csvFlow(k.kind, f)); err != nil {
				return err
			}
		}
	}
	for _, k := range []struct {
		kind string
		ms   []*audit.Missing
	}{{CSVMissing, s.Missing}, {CSVOptionalMissing, s.OptionalMissing}} {
		for _, m := range k.ms {
			if err := cw.Write(csvMissing(k.kind, m)); err != nil {
				return err
			}
		}
	}
	for _, u := range r.Result.Unverifiable {
		row := csvRule(CSVUnverifiable, u.Rule)
		row[csvColumn("hints")] = u.Reason
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	for _, w := range s.Sweeps {
		if err := cw.Write(csvSweep(w)); err != nil {
			return err
		}
	}
	for _, f := range s.Waived {
		if err := cw.Write(csvFlow(CSVWaived, f)); err != nil {
			return err
		}
	}
	for _, m := range s.WaivedMissing {
		if err := cw.Write(csvMissing(CSVWaived, m)); err != nil {
			return err
		}
	}
	for _, w := range s.WaivedSweeps {
		if err := cw.Write(csvSweep(w)); err != nil {
			return err
		}
	}
	for _, f := range s.Documented {
		if err := cw.Write(csvFlow(CSVDocumented, f)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvFlow(kind string, f *audit.Flow) []string {
	port := ""
	if p := Port(f); p != nil {
		port = strconv.Itoa(int(*p))
	}
	descs := make([]string, len(f.Rules))
	sources := make([]string, len(f.Rules))
	for i, rule := range f.Rules {
		descs[i] = rule.Description
		sources[i] = rule.SourceText()
	}
	return []string{kind, string(f.Status), strconv.FormatBool(f.Blocked && f.Status != audit.Undocumented), string(f.Outcome),
		f.Client.Unmap().String(), hostName(f.ClientHost), strings.Join(Roles(f.ClientHost), "; "),
		f.Server.Unmap().String(), hostName(f.ServerHost), strings.Join(Roles(f.ServerHost), "; "),
		catalog.ProtoName(f.Proto), port, strconv.Itoa(f.Connections), strconv.Itoa(f.Established), strconv.Itoa(f.Rejected),
		strconv.Itoa(f.Unanswered), countCell(f.PacketsCounted(), f.Packets), countCell(f.BytesCounted(), f.Bytes), TS(f.FirstSeen), TS(f.LastSeen),
		f.FirstFrame.File, csvFrame(f.FirstFrame.Frame), plainRuleIDs(f.Rules), strings.Join(descs, "; "), strings.Join(sources, "; "),
		WaiverText(f.Waiver, f.WaiverExpired), strings.Join(f.Hints, "; "), Filter(f), blockedByCell(f),
		NamesText(f.Names), NameMatchesText(f.NameMatches), f.FirstFrame.UID}
}

// countCell is a service's packet or byte count as a table cell: empty
// when its flow records gave none (audit.Service.PacketsCounted), not 0.
func countCell(counted bool, v uint64) string {
	if !counted {
		return ""
	}
	return strconv.FormatUint(v, 10)
}

// csvFrame is a first frame as a CSV field: empty for flow records,
// which have none (0), rather than a frame number 0 no capture has.
func csvFrame(frame uint64) string {
	if frame == 0 {
		return ""
	}
	return strconv.FormatUint(frame, 10)
}

func csvSweep(w *audit.Sweep) []string {
	server, host, roles := "", "", ""
	if w.Server.IsValid() {
		server, host, roles = w.Server.Unmap().String(), hostName(w.ServerHost), strings.Join(Roles(w.ServerHost), "; ")
	}
	outcome := "unanswered"
	switch {
	case w.Established > 0:
		outcome = "established"
	case w.Rejected > 0:
		outcome = "rejected"
	}
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	kind := CSVSweep
	if w.Waived() {
		kind = CSVWaived
	}
	return []string{kind, "sweep", "false", outcome, w.Client.Unmap().String(), hostName(w.ClientHost), strings.Join(Roles(w.ClientHost), "; "),
		server, host, roles, catalog.ProtoName(w.Proto), w.PortsText(), u(w.Connections), u(w.Established), u(w.Rejected),
		u(w.Unanswered), countCell(w.PacketsCounted(), w.Packets), countCell(w.BytesCounted(), w.Bytes), TS(w.FirstSeen), TS(w.LastSeen), w.FirstFrame.File, csvFrame(w.FirstFrame.Frame),
		"", "", "", WaiverText(w.Waiver, w.WaiverExpired), strings.Join(append([]string{w.Describe()}, w.Hints...), "; "), SweepFilter(w), "", "", "", w.FirstFrame.UID}
}

// csvRule is a row for a rule: its id, description, source, roles,
// protocol and ports; the traffic columns are empty.
func csvRule(kind string, rule *catalog.Rule) []string {
	row := make([]string, len(CSVHeader))
	row[csvColumn("kind")] = kind
	row[csvColumn("client_roles")] = rule.From.String()
	row[csvColumn("server_roles")] = rule.To.String()
	row[csvColumn("rules")] = rule.ID
	row[csvColumn("descriptions")] = rule.Description
	row[csvColumn("sources")] = rule.SourceText()
	return row
}

func csvMissing(kind string, m *audit.Missing) []string {
	row := csvRule(kind, m.Rule)
	names := func(hs []string) string { return strings.Join(hs, "; ") }
	row[csvColumn("client_host")] = names(hostNames(m.Clients))
	row[csvColumn("server_host")] = names(hostNames(m.Servers))
	row[csvColumn("proto")] = catalog.ProtoName(m.Proto)
	if catalog.HasPorts(m.Proto) {
		row[csvColumn("port")] = catalog.FormatPorts(m.Rule.Ports)
	}
	row[csvColumn("waiver")] = WaiverText(m.Waiver, m.WaiverExpired)
	return row
}

// hostNames are the hosts' names, sorted; none for Any.
func hostNames(hs []*inventory.Host) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.Name
	}
	sort.Strings(out)
	return out
}

// oneLine keeps a comment on its line.
func oneLine(s string) string { return strings.NewReplacer("\n", " ", "\r", " ").Replace(s) }
