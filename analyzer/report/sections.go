package report

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/flowaudit/flowaudit/analyzer/audit"
	"github.com/flowaudit/flowaudit/catalog"
)

// Table is one titled table of a report. The terminal, Markdown and HTML
// formats all render the same tables, so they cannot disagree.
type Table struct {
	ID     string // anchor and style class: "undocumented", "blocked", ...
	Title  string
	Intro  string
	Header []string
	Rows   [][]string
	Code   map[int]bool // columns shown as code (filters, ids)
	// Wide are the columns the terminal table leaves out for width
	// unless --wide (long text: reasons, rules, filters, hashes); every
	// other format shows them.
	Wide map[int]bool
	// Brief are the columns whose trailing parenthesis the terminal's
	// default view drops: a host's address after its name, the counts
	// after an outcome.
	Brief map[int]bool
	// Cut are the columns the terminal's default view may shorten with
	// "…" to keep one line per row (names, roles, outcomes); never a rule
	// id, a service, a count or a hash.
	Cut map[int]bool
	// Short are, per column, the terminal default view's cell for each
	// row, in place of the full one (which --wide and the other formats
	// show): "who blocked" in a few words.
	Short map[int][]string
	// WideOnly tables are left out of the terminal's default view (long
	// text only); --wide and the other formats show them.
	WideOnly bool

	// Note is a warning every format shows with the table, the
	// terminal's too (which leaves Intro out).
	Note string

	// More counts the rows past Rows when the tables were made for a
	// view that shows only so many (the terminal's: tablesUpTo), and
	// were not made: "… and N more rows".
	More int
}

func count(n int) string { return strconv.Itoa(n) }

func u64(n uint64) string { return strconv.FormatUint(n, 10) }

func outcomeCell(f *audit.Flow) string {
	if f.Outcome == audit.Established {
		return "established"
	}
	return fmt.Sprintf("%s (%d rejected, %d unanswered)", f.Outcome, f.Rejected, f.Unanswered)
}

// frameCell is "#603" for a single capture, else "day2.pcap #603" (the
// captures table has the full paths).
func (r *Report) frameCell(f *audit.Flow) string {
	if f.FirstFrame.Frame == 0 {
		return uidCell(f.FirstFrame) // flow records have no frames
	}
	if len(r.Captures) == 1 {
		return fmt.Sprintf("#%d", f.FirstFrame.Frame)
	}
	return fmt.Sprintf("%s #%d", filepath.Base(f.FirstFrame.File), f.FirstFrame.Frame)
}

// uidCell is what a frame cell shows for a finding from a sensor's
// records: the first connection's Zeek uid ("uid CHhAvVGS1DHFjwGM9", for
// grep in Zeek's logs), blank without one.
func uidCell(fr audit.Frame) string {
	if fr.UID == "" {
		return ""
	}
	return "uid " + fr.UID
}

// fileFrame is frameCell for any frame.
func (r *Report) fileFrame(fr audit.Frame) string {
	if fr.Frame == 0 {
		return uidCell(fr) // flow records have no frames
	}
	if len(r.Captures) == 1 {
		return fmt.Sprintf("#%d", fr.Frame)
	}
	return fmt.Sprintf("%s #%d", filepath.Base(fr.File), fr.Frame)
}

// blockedByCell is what answered for a flow that never established.
func blockedByCell(f *audit.Flow) string {
	if f.BlockedBy == nil {
		return ""
	}
	return f.BlockedBy.Text
}

func rolesCell(f *audit.Flow) string {
	c, s := "no role", "no role"
	if f.ClientHost != nil {
		c = strings.Join(Roles(f.ClientHost), ", ")
	}
	if f.ServerHost != nil {
		s = strings.Join(Roles(f.ServerHost), ", ")
	} else if f.Multicast {
		s = "broadcast/multicast"
	}
	return c + " → " + s
}

// SummaryTable counts every kind of result.
func (r *Report) SummaryTable() Table {
	c := r.counts()
	t := Table{ID: "summary", Title: "Summary", Header: []string{"Result", "Count"}}
	add := func(name string, n int) { t.Rows = append(t.Rows, []string{name, count(n)}) }
	add("Undocumented services", c.Undocumented)
	add("Blocked documented services", c.Blocked)
	add("Sweeps (scans)", c.Sweeps)
	add("Expected flows never seen", c.Missing)
	add("Optional flows never seen", c.MissingOptional)
	add("Documented services", r.DocumentedCount())
	add("Waived", c.Waived)
	add("Expired waivers", c.ExpiredWaivers)
	add(fmt.Sprintf("Findings (--fail-on %s)", failOnList(r.FailOn)), r.FindingCount())
	return t
}

// failOnList is --fail-on as given: its kinds, or none.
func failOnList(kinds []string) string {
	if len(kinds) == 0 {
		return "none"
	}
	return strings.Join(kinds, ",")
}

// InputTables describe the captures, inventory and catalog.
func (r *Report) InputTables() []Table {
	caps := Table{ID: "captures", Title: "Captures", Header: []string{"File", "SHA-256", "Format", "Packets", "First packet", "Last packet", "Status"}, Code: map[int]bool{1: true},
		Wide: map[int]bool{1: true, 5: true}, Cut: map[int]bool{0: true, 2: true, 6: true}}
	for _, c := range r.Captures {
		caps.Rows = append(caps.Rows, []string{c.Path, c.SHA256, c.Format, u64(c.Packets), TS(c.First), TS(c.Last), c.StatusText()})
	}
	inputs := Table{ID: "inputs", Title: "Inputs", Header: []string{"Input", "Value", "SHA-256"}, Code: map[int]bool{2: true}, Wide: map[int]bool{2: true}}
	inv := "none (hosts have no roles)"
	if r.InferRoles {
		inv = "none; roles inferred from the traffic (--infer-roles)"
	}
	if r.Inventory != "" {
		inv = r.Inventory
		if r.InferRoles {
			inv += "; hosts missing from it got roles inferred from the traffic"
		}
	}
	products := "all"
	if len(r.Products) > 0 {
		products = strings.Join(r.Products, ", ")
	}
	inputs.Rows = [][]string{
		{"Inventory", inv, r.InventorySHA},
		{"Catalog", strings.Join(r.CatalogFiles, ", "), ""},
	}
	for _, l := range r.NameLogs {
		inputs.Rows = append(inputs.Rows, []string{"Host names (Zeek log)", l.Path, l.SHA256})
	}
	inputs.Rows = append(inputs.Rows, [][]string{
		{"Products", fmt.Sprintf("%s (%d rules)", products, r.Result.Rules), ""},
		{"Products in scope", scopeText(r), ""},
		{"Tool", r.Tool + " " + r.Version, ""},
		{"Generated", TS(r.Generated), ""},
	}...)
	hosts := Table{ID: "hosts", Title: "Hosts", Header: []string{"Host", "Addresses", "Roles"}}
	for _, h := range r.Hosts {
		roles := strings.Join(h.RoleNames(), ", ")
		if h.Inferred {
			roles += " (inferred)"
		}
		hosts.Rows = append(hosts.Rows, []string{h.Name, strings.Join(h.AddressStrings(), ", "), roles})
	}
	return []Table{inputs, caps, hosts}
}

// FindingTables are the findings, then the documented traffic.
func (r *Report) FindingTables() []Table { return r.findingTables(-1) }

// upTo is how many of n rows a table made with at most max rows (negative:
// no limit) has.
func upTo(n, max int) int {
	if max < 0 {
		return n
	}
	return min(n, max)
}

// findingTables are FindingTables with at most max rows each (negative:
// all); the rows left out are counted in Table.More, not formatted: the
// terminal shows a thousand of a scan's 65,536 findings.
func (r *Report) findingTables(max int) []Table {
	s := r.Split()
	var out []Table

	und := Table{ID: "undocumented", Title: fmt.Sprintf("Undocumented services (%d)", len(s.Undocumented)),
		Intro:  "Traffic no document allows. Each row is a client, a server and a service; the filter shows its packets in Wireshark.",
		Header: []string{"Client", "Server", "Service", "Host names", "Roles", "Outcome", "Conns", "Packets", "Bytes", "First seen", "First frame", "Why", "Filter"},
		Code:   map[int]bool{12: true}, Wide: map[int]bool{7: true, 8: true, 9: true, 11: true, 12: true},
		Brief: map[int]bool{0: true, 1: true, 5: true}, Cut: map[int]bool{0: true, 1: true, 3: true, 4: true, 5: true}}
	und.More = len(s.Undocumented) - upTo(len(s.Undocumented), max)
	for _, f := range s.Undocumented[:upTo(len(s.Undocumented), max)] {
		why := strings.Join(f.Hints, "; ")
		if f.WaiverExpired {
			why = "waiver " + WaiverText(f.Waiver, true) + "; " + why
		}
		und.Rows = append(und.Rows, []string{HostLabel(f.ClientHost, f.Client), HostLabel(f.ServerHost, f.Server), Service(f), namesCell(f), rolesCell(f),
			outcomeCell(f), count(f.Connections), countCell(f.PacketsCounted(), f.Packets), countCell(f.BytesCounted(), f.Bytes), TS(f.FirstSeen), r.frameCell(f), why, Filter(f)})
	}
	out = append(out, und)

	blk := Table{ID: "blocked", Title: fmt.Sprintf("Blocked documented services (%d)", len(s.Blocked)),
		Intro:  "Documented traffic that was attempted but never established: refused or unanswered, as a firewall in the path would leave it.",
		Header: []string{"Client", "Server", "Service", "Host names", "Outcome", "Blocked by", "Conns", "Packets", "First seen", "First frame", "Rules", "Filter"},
		Code:   map[int]bool{10: true, 11: true}, Wide: map[int]bool{7: true, 8: true, 10: true, 11: true},
		Brief: map[int]bool{0: true, 1: true, 4: true}, Cut: map[int]bool{0: true, 1: true, 3: true, 4: true, 5: true},
		Short: map[int][]string{5: nil}}
	blk.More = len(s.Blocked) - upTo(len(s.Blocked), max)
	for _, f := range s.Blocked[:upTo(len(s.Blocked), max)] {
		short := ""
		if f.BlockedBy != nil {
			short = f.BlockedBy.Short()
		}
		blk.Short[5] = append(blk.Short[5], short)
		blk.Rows = append(blk.Rows, []string{HostLabel(f.ClientHost, f.Client), HostLabel(f.ServerHost, f.Server), Service(f), namesCell(f),
			outcomeCell(f), blockedByCell(f), count(f.Connections), countCell(f.PacketsCounted(), f.Packets), TS(f.FirstSeen), r.frameCell(f), RuleIDs(f.Rules), Filter(f)})
	}
	out = append(out, blk)

	sw := Table{ID: "sweeps", Title: fmt.Sprintf("Sweeps (%d)", len(s.Sweeps)),
		Intro: "Clients that contacted more servers on one port, or more ports of one server, than --sweep-threshold: scans, summarized " +
			"instead of listed service by service (their services are in no other section).",
		Header: []string{"Client", "Swept", "Outcomes", "Conns", "Packets", "First seen", "Last seen", "First frame", "Filter"},
		Code:   map[int]bool{8: true}, Wide: map[int]bool{4: true, 5: true, 6: true, 8: true},
		Brief: map[int]bool{0: true}, Cut: map[int]bool{0: true, 1: true, 2: true}}
	sw.More = len(s.Sweeps) - upTo(len(s.Sweeps), max)
	for _, w := range s.Sweeps[:upTo(len(s.Sweeps), max)] {
		swept := w.Describe()
		if w.WaiverExpired {
			swept += " [waiver " + WaiverText(w.Waiver, true) + "]"
		}
		for _, h := range w.Hints {
			swept += " [" + h + "]"
		}
		sw.Rows = append(sw.Rows, []string{HostLabel(w.ClientHost, w.Client), swept,
			fmt.Sprintf("%d established, %d rejected, %d unanswered", w.Established, w.Rejected, w.Unanswered),
			u64(w.Connections), countCell(w.PacketsCounted(), w.Packets), TS(w.FirstSeen), TS(w.LastSeen), r.fileFrame(w.FirstFrame), SweepFilter(w)})
	}
	out = append(out, sw)

	missing := func(id, title, intro, note string, ms []*audit.Missing) Table {
		t := Table{ID: id, Title: fmt.Sprintf("%s (%d)", title, len(ms)), Intro: intro, Note: note,
			Header: []string{"Rule", "From", "To", "Service", "Clients", "Servers", "Description"}, Code: map[int]bool{0: true},
			Wide: map[int]bool{4: true, 5: true, 6: true}, Cut: map[int]bool{1: true, 2: true}}
		for _, m := range ms {
			desc := m.Rule.Description
			if m.WaiverExpired {
				desc += " [waiver " + WaiverText(m.Waiver, true) + "]"
			} else if m.Waiver != nil {
				desc += " [waived: " + WaiverText(m.Waiver, false) + "]"
			}
			t.Rows = append(t.Rows, []string{RuleRef(m.Rule), m.Rule.From.String(), m.Rule.To.String(), MissingProto(m),
				HostNames(m.Clients), HostNames(m.Servers), desc})
		}
		return t
	}
	note := ""
	if !r.Complete() {
		note = incompleteNote
	}
	out = append(out, missing("missing", "Expected flows never seen",
		"Documented flows between roles present in the inventory with no connection attempt at all.", note, s.Missing))
	out = append(out, missing("optional-missing", "Optional flows never seen",
		"The documents call these optional; listed for completeness, not counted as findings unless --fail-on optional-missing.", note, s.OptionalMissing))

	doc := Table{ID: "documented", Title: fmt.Sprintf("Documented services (%d)", len(s.Documented)),
		Intro:  "Allowed by the rules listed; established, or broadcast and multicast sent by a host of the rule's role.",
		Header: []string{"Client", "Server", "Service", "Host names", "Conns", "Packets", "Bytes", "First seen", "Rules"}, Code: map[int]bool{8: true},
		Wide: map[int]bool{5: true, 6: true, 7: true, 8: true}, Brief: map[int]bool{0: true, 1: true}, Cut: map[int]bool{0: true, 1: true, 3: true}}
	doc.More = len(s.Documented) - upTo(len(s.Documented), max)
	for _, f := range s.Documented[:upTo(len(s.Documented), max)] {
		doc.Rows = append(doc.Rows, []string{HostLabel(f.ClientHost, f.Client), HostLabel(f.ServerHost, f.Server), Service(f), namesCell(f),
			count(f.Connections), countCell(f.PacketsCounted(), f.Packets), countCell(f.BytesCounted(), f.Bytes), TS(f.FirstSeen), RuleIDs(f.Rules)})
	}
	out = append(out, doc)

	if len(s.Waived) > 0 || len(s.WaivedMissing) > 0 || len(s.WaivedSweeps) > 0 {
		w := Table{ID: "waived", Title: fmt.Sprintf("Waived (%d)", len(s.Waived)+len(s.WaivedMissing)+len(s.WaivedSweeps)),
			Header: []string{"Finding", "Service", "Waiver", "Where"}, Cut: map[int]bool{2: true, 3: true}}
		for _, f := range s.Waived {
			w.Rows = append(w.Rows, []string{HostLabel(f.ClientHost, f.Client) + " → " + HostLabel(f.ServerHost, f.Server), Service(f),
				WaiverText(f.Waiver, false), f.Waiver.Where()})
		}
		for _, m := range s.WaivedMissing {
			w.Rows = append(w.Rows, []string{"never seen: " + RuleRef(m.Rule), MissingProto(m), WaiverText(m.Waiver, false), m.Waiver.Where()})
		}
		for _, sw := range s.WaivedSweeps {
			w.Rows = append(w.Rows, []string{"sweep: " + HostLabel(sw.ClientHost, sw.Client) + " → " + sw.Describe(),
				strings.ReplaceAll(sw.PortsText(), " ", "") + "/" + catalog.ProtoName(sw.Proto), WaiverText(sw.Waiver, false), sw.Waiver.Where()})
		}
		out = append(out, w)
	}
	return out
}

// OtherTables are the notes after the findings: unverifiable rules, noise,
// unused waivers and skipped packets.
func (r *Report) OtherTables() []Table {
	var out []Table
	if len(r.Result.Unverifiable) > 0 {
		t := Table{ID: "unverifiable", Title: fmt.Sprintf("Rules that cannot be checked by address (%d)", len(r.Result.Unverifiable)),
			Header: []string{"Rule", "From", "To", "Why"}, Code: map[int]bool{0: true}, Wide: map[int]bool{3: true}, Cut: map[int]bool{1: true, 2: true}}
		for _, u := range r.Result.Unverifiable {
			t.Rows = append(t.Rows, []string{RuleRef(u.Rule), u.Rule.From.String(), u.Rule.To.String(), u.Reason})
		}
		out = append(out, t)
	}
	if len(r.Result.Noise) > 0 {
		t := Table{ID: "noise", Title: "Link-local housekeeping (summarized; --include-noise lists it)", Header: []string{"Kind", "Services", "Connections", "Packets"}}
		for _, n := range r.Result.Noise {
			t.Rows = append(t.Rows, []string{n.Kind, count(n.Services), u64(n.Connections), u64(n.Packets)})
		}
		out = append(out, t)
	}
	if len(r.Result.UnusedWaivers) > 0 {
		t := Table{ID: "unused-waivers", Title: "Waivers that matched nothing", Header: []string{"Ticket", "Reason", "Where"}, Cut: map[int]bool{1: true}}
		for _, w := range r.Result.UnusedWaivers {
			t.Rows = append(t.Rows, []string{w.Ticket, w.Reason, w.Where()})
		}
		out = append(out, t)
	}
	out = append(out, r.LimitsTable())
	if len(r.Skipped) > 0 {
		t := Table{ID: "skipped", Title: "Packets not analyzed", Header: []string{"Reason", "Packets"}}
		for _, k := range slices.Sorted(maps.Keys(r.Skipped)) {
			t.Rows = append(t.Rows, []string{k, u64(r.Skipped[k])})
		}
		out = append(out, t)
	}
	return out
}

// LimitsTable says what the memory bounds cost: connections ended early
// and services not kept.
func (r *Report) LimitsTable() Table {
	l := r.Limits
	more := ""
	if l.UnaggregatedServicesMore {
		more = "at least "
	}
	t := Table{ID: "limits", Title: "Limits", Header: []string{"Limit", "Value", "Effect"},
		Intro: "The bounds that keep memory in check, and what they cost this report: a connection ended early is " +
			"split in two; a service not kept is not analysed at all.",
		Cut: map[int]bool{2: true},
		Rows: [][]string{
			{"--max-connections", count(l.MaxConnections), u64(l.EvictedConnections) + " connections ended early"},
			{"--max-services", count(l.MaxServices), more + u64(l.UnaggregatedServices) + " services (" + u64(l.UnaggregatedConnections) + " connections) not kept"},
		}}
	if l.EvidenceNotWritten > 0 {
		t.Rows = append(t.Rows, []string{"--evidence-max", count(l.EvidenceMax), count(l.EvidenceNotWritten) + " findings without a pcap in the evidence bundle"})
	}
	if l.NameLogOverflow > 0 {
		t.Rows = append(t.Rows, []string{"ssl.log/http.log uids", count(l.NameLogMax), u64(l.NameLogOverflow) + " host names not kept: their connections are unnamed"})
	}
	if l.DNSLogOverflow > 0 {
		t.Rows = append(t.Rows, []string{"dns.log answers", count(l.NameLogMax), u64(l.DNSLogOverflow) + " DNS answers not kept: the addresses they named may be unnamed"})
	}
	return t
}

// AllTables is every table in report order.
func (r *Report) AllTables() []Table { return r.tablesUpTo(-1) }

// tablesUpTo are AllTables with at most max rows in each table of
// findings (negative: all; see findingTables).
func (r *Report) tablesUpTo(max int) []Table {
	out := []Table{r.SummaryTable()}
	out = append(out, r.findingTables(max)...)
	out = append(out, r.OtherTables()...)
	out = append(out, r.RulesTable())
	return append(out, r.InputTables()...)
}

// RulesTable cites every rule the report names (documenting a service,
// blocked, never seen, unverifiable): its description and the vendor
// document, section and row it comes from, as a person can look it up.
func (r *Report) RulesTable() Table {
	t := Table{ID: "rules", Title: "Rules cited", Header: []string{"Rule", "Description", "Source"}, Code: map[int]bool{0: true}, WideOnly: true,
		Intro: "Where each rule named above comes from: the vendor document (title and edition), its section and the row of its table."}
	for _, rule := range r.citedRules() {
		t.Rows = append(t.Rows, []string{rule.ID, rule.Description, rule.SourceText()})
	}
	return t
}

// citedRules are the rules the report names, by ID.
func (r *Report) citedRules() []*catalog.Rule {
	if r.derived != nil {
		return r.derived.rules
	}
	seen := map[*catalog.Rule]bool{}
	var rules []*catalog.Rule
	add := func(rs ...*catalog.Rule) {
		for _, rule := range rs {
			if !seen[rule] {
				seen[rule] = true
				rules = append(rules, rule)
			}
		}
	}
	for _, f := range r.Result.Flows {
		add(f.Rules...)
	}
	for _, m := range r.Result.Missing {
		add(m.Rule)
	}
	for _, u := range r.Result.Unverifiable {
		add(u.Rule)
	}
	sort.Slice(rules, func(i, j int) bool { return rules[i].ID < rules[j].ID })
	return rules
}

// scopeText says which products hints drew on, and why.
func scopeText(r *Report) string {
	switch {
	case len(r.Scope) == 0:
		return "all (hints name rules of every product)"
	case len(r.Products) > 0:
		return strings.Join(r.Scope, ", ") + " (--product), with shared infrastructure and site rules"
	}
	return strings.Join(r.Scope, ", ") + " (the inventory's roles; --all-products widens the hints), with shared infrastructure and site rules"
}
