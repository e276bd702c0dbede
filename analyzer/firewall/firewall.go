// Package firewall turns the catalog's rules, the inventory's hosts and,
// when a capture was analysed, the audit's evidence into a firewall change
// request: address objects per role (or per host), and one accept line per
// source, destination and protocol whose ports are merged into ranges and
// whose justification names every catalog rule behind it, with what the
// capture saw of it (observed, blocked, never seen).
//
// The request is written in the syntaxes firewall administrators use:
// nftables, iptables-restore and ip6tables-restore, Windows Defender
// Firewall PowerShell, Cisco ASA and PAN-OS commands, and CSV, Markdown
// and JSON for the change ticket. It is a request to review, not a policy
// to apply blindly: every line says why it is there.
package firewall

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"net/netip"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/audit"
	"github.com/flowaudit/flowaudit/analyzer/inventory"
	"github.com/flowaudit/flowaudit/catalog"
)

// Status is what the evidence says of a rule.
type Status string

// Statuses, in the order lines list them.
const (
	Observed  Status = "observed"  // established at least once
	Blocked   Status = "blocked"   // attempted, never established
	Missing   Status = "missing"   // never attempted in the captures
	Unchecked Status = "unchecked" // no capture was given
)

var statusRank = map[Status]int{Observed: 0, Blocked: 1, Missing: 2, Unchecked: 3}

// Only selects the lines a request keeps.
type Only string

// Selections for --only.
const (
	OnlyAll      Only = "all"      // every rule that applies (the default without evidence)
	OnlyNeeded   Only = "needed"   // observed and blocked: what the pilot needs open
	OnlyObserved Only = "observed" // the least-privilege set the pilot used
	OnlyBlocked  Only = "blocked"  // attempted and never established
	OnlyMissing  Only = "missing"  // never seen: what to open before the next test
)

// OnlyValues are the accepted --only values.
var OnlyValues = []string{string(OnlyNeeded), string(OnlyObserved), string(OnlyBlocked), string(OnlyMissing), string(OnlyAll)}

func (o Only) keeps(s Status) bool {
	switch o {
	case OnlyNeeded:
		return s == Observed || s == Blocked
	case OnlyObserved:
		return s == Observed
	case OnlyBlocked:
		return s == Blocked
	case OnlyMissing:
		return s == Missing
	}
	return true
}

// Group-by values: one address object per role, or per host.
const (
	GroupRole = "role"
	GroupHost = "host"
)

// Object kinds.
const (
	KindAny       = "any"       // every address
	KindRole      = "role"      // the hosts playing a role
	KindHost      = "host"      // one inventory host
	KindAddresses = "addresses" // addresses as a rule writes them (broadcast, multicast, metadata)
	KindFQDN      = "fqdn"      // a host name or pattern, not resolved
)

// Object is a named set of addresses, or a host name.
type Object struct {
	Name     string         // flowaudit_horizon_connection_server; "any" for Any
	Kind     string         // KindAny, KindRole, ...
	Label    string         // "Horizon Connection Server", "hz-cs01", "224.0.0.18", "*.digicert.com", "Any"
	Prefixes []netip.Prefix // sorted, IPv4 first, none inside another
	Hosts    []string       // inventory hosts in it, sorted
	FQDN     string         // KindFQDN: the name or pattern
}

// IsAny says whether the object is every address.
func (o *Object) IsAny() bool { return o.Kind == KindAny }

// Wildcard says whether an FQDN object is a pattern (*.example.com), which
// most firewalls' FQDN objects do not take.
func (o *Object) Wildcard() bool { return strings.ContainsAny(o.FQDN, "*?[") }

// Family is the object's prefixes of one family: 4 or 6.
func (o *Object) Family(f int) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range o.Prefixes {
		if p.Addr().Is4() == (f == 4) {
			out = append(out, p)
		}
	}
	return out
}

// AddressStrings are the prefixes as text, single addresses without a
// length; "any" for Any and the name for an FQDN object.
func (o *Object) AddressStrings() []string {
	switch o.Kind {
	case KindAny:
		return []string{"any"}
	case KindFQDN:
		return []string{o.FQDN}
	}
	out := make([]string, len(o.Prefixes))
	for i, p := range o.Prefixes {
		out[i] = prefixText(p)
	}
	return out
}

func prefixText(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.String()
}

// Evidence is what the captures saw of one rule on one line.
type Evidence struct {
	Services    int // client, server, protocol, port combinations
	Observed    int // services established (or sent, to a multicast or broadcast address)
	Connections int
	Established int
	FirstFile   string
	FirstFrame  uint64 // 0 for flow records, which have no frames
	FirstUID    string // for them, the Zeek uid of the first record from a conn.log, if any
	FirstSeen   time.Time
	BlockedBy   []string // who blocked, when the report says
	// Seen are, for a host-name destination, the names the captures gave
	// its connections and the addresses they went to: "crl3.digicert.com
	// (sni) at 203.0.113.81", sorted.
	Seen []string
}

// Justification is one catalog rule behind a line.
type Justification struct {
	Rule     *catalog.Rule
	Reverse  bool // the second direction of a bidirectional rule
	Status   Status
	Evidence Evidence
}

// Text is the justification as one line: id, direction, document and
// row, description, and the evidence.
func (j *Justification) Text() string {
	var b strings.Builder
	b.WriteString(j.Rule.ID)
	if j.Reverse {
		b.WriteString(" (reverse direction of a bidirectional rule)")
	}
	if s := j.Rule.SourceText(); s != "" {
		fmt.Fprintf(&b, " [%s]", s)
	}
	if j.Rule.Description != "" {
		fmt.Fprintf(&b, ": %s", j.Rule.Description)
	}
	if j.Rule.Direction != "" {
		fmt.Fprintf(&b, " (%s)", j.Rule.Direction)
	}
	fmt.Fprintf(&b, " — %s", j.EvidenceText())
	return b.String()
}

// EvidenceText says what the captures saw: "observed: 3 connections, first
// frame pilot.pcapng#17", "blocked: ...", "never seen", "not checked".
func (j *Justification) EvidenceText() string {
	e := j.Evidence
	switch j.Status {
	case Missing:
		return "never seen"
	case Unchecked:
		return "not checked (no capture)"
	}
	s := fmt.Sprintf("%s: %d connection%s", j.Status, e.Connections, plural(e.Connections))
	if j.Status == Blocked {
		s += ", none established"
	}
	switch {
	case e.FirstFile != "" && e.FirstFrame > 0:
		s += fmt.Sprintf(", first frame %s#%d", path.Base(e.FirstFile), e.FirstFrame)
	case e.FirstFile != "" && !e.FirstSeen.IsZero():
		// A flow record (Zeek conn.log) has no frame: its time, and a
		// conn.log's uid, say which record.
		s += fmt.Sprintf(", first seen %s in %s", timeText(e.FirstSeen), path.Base(e.FirstFile))
		if e.FirstUID != "" {
			s += " (uid " + e.FirstUID + ")"
		}
	case e.FirstFile != "":
		s += ", first in " + path.Base(e.FirstFile)
	case !e.FirstSeen.IsZero():
		// A report of an older version, without first_file: its time.
		s += ", first seen " + timeText(e.FirstSeen)
	}
	if len(e.Seen) > 0 {
		seen := e.Seen
		more := ""
		if len(seen) > 4 {
			more = fmt.Sprintf(" and %d more", len(seen)-4)
			seen = seen[:4]
		}
		s += ", names seen: " + strings.Join(seen, "; ") + more
	}
	if len(e.BlockedBy) > 0 && j.Status == Blocked {
		s += ", blocked by " + strings.Join(e.BlockedBy, "; ")
	}
	return s
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// Line is one accept rule of the request: a source, a destination, a
// protocol and its ports, with every justification.
type Line struct {
	N        int // 1-based, in output order
	Src, Dst *Object
	Proto    uint8
	Ports    []catalog.PortRange // merged, contiguous ports joined; empty for port-less protocols
	Status   []Status            // distinct statuses of its justifications, best first
	Why      []*Justification    // sorted by rule id, forward before reverse
}

// RuleIDs are the ids of the line's rules, sorted, each once.
func (l *Line) RuleIDs() []string {
	var out []string
	for _, j := range l.Why {
		if len(out) == 0 || out[len(out)-1] != j.Rule.ID {
			out = append(out, j.Rule.ID)
		}
	}
	return out
}

// StatusText is the line's statuses joined with "+".
func (l *Line) StatusText() string {
	s := make([]string, len(l.Status))
	for i, x := range l.Status {
		s[i] = string(x)
	}
	return strings.Join(s, "+")
}

// ProtoName is the line's protocol name.
func (l *Line) ProtoName() string { return catalog.ProtoName(l.Proto) }

// PortsText is "443, 4172-4173", or "" for port-less protocols.
func (l *Line) PortsText() string { return catalog.FormatPorts(l.Ports) }

// Summary is "Horizon Client → Horizon Connection Server tcp/443, 4172".
func (l *Line) Summary() string {
	svc := l.ProtoName()
	if p := l.PortsText(); p != "" {
		svc += "/" + p
	}
	return fmt.Sprintf("%s → %s %s", l.Src.Label, l.Dst.Label, svc)
}

// Families are the address families (4, 6) the line can be written for:
// those both sides have (Any has both; an FQDN has none).
func (l *Line) Families() []int {
	var out []int
	for _, f := range []int{4, 6} {
		if hasFamily(l.Src, f) && hasFamily(l.Dst, f) {
			out = append(out, f)
		}
	}
	return out
}

func hasFamily(o *Object, f int) bool {
	switch o.Kind {
	case KindAny:
		return true
	case KindFQDN:
		return false
	}
	return len(o.Family(f)) > 0
}

// WaivedRule is a rule left out of the request because a waiver accepts it.
type WaivedRule struct {
	Rule                   *catalog.Rule
	Ticket, Reason, Expiry string
	Where                  string
	Status                 Status // what the captures saw of it
}

// Request is the whole change request.
type Request struct {
	Objects    []*Object // every object a line uses, by name
	Lines      []*Line
	Waived     []*WaivedRule // by rule id
	Expired    []*WaivedRule // rules whose waiver has expired: kept in the request
	Evidence   bool          // a capture or report was given
	Only       Only
	GroupBy    string
	Rules      int // catalog rules considered (after the product filter)
	Applicable int // rules whose roles the inventory has

	// Warnings say where the evidence may not fit the request: rules of
	// the evidence this catalog does not have, another inventory.
	Warnings []string

	// Set by the caller, for the header every syntax writes.
	Version   string
	Inventory string   // inventory path
	Inputs    []string // captures, or the analyze report
}

// Options steer Build.
type Options struct {
	Products []string // only rules of these products (and shared and site rules, always in scope); empty for all
	GroupBy  string   // GroupRole (default) or GroupHost
	Only     Only     // default: OnlyNeeded with evidence, OnlyAll without
	Waivers  *audit.Waivers
	Now      time.Time // waivers expire against this time
	// Observations are the audit's documented services; nil without a
	// capture or report (then every line is unchecked).
	Observations []Observation
	Evidence     bool
}

// Observation is one documented service the captures saw, as the audit
// (or an analyze JSON report) labelled it.
type Observation struct {
	Client, Server netip.Addr
	Proto          uint8
	Port           uint16
	Rules          []string // ids of the rules that document it
	Connections    int
	Established    int
	FirstFile      string
	FirstFrame     uint64
	FirstUID       string // no frame: the Zeek uid of the first record from a conn.log
	FirstSeen      time.Time
	Multicast      bool   // to a broadcast or multicast address: seen is observed
	Blocked        bool   // documented but never established (never for a multicast)
	Waived         bool   // a waiver accepted it (a blocked service waived)
	Ticket         string // the waiver's ticket
	WaiverReason   string
	BlockedBy      string
	// NameMatches are the host names that documented the service by
	// host-pattern rules, per rule (the audit's name_matches).
	NameMatches []NameMatch
}

// NameMatch is a host name that documented a service by a host-pattern
// rule, and where the name came from (sni, http-host, dns, ...).
type NameMatch struct {
	Rule, Name, Evidence string
}

// Observations are the documented (and waived) services of an audit.
func Observations(res *audit.Result) []Observation {
	var out []Observation
	for _, f := range res.Flows {
		if len(f.Rules) == 0 || f.Status == audit.Undocumented {
			continue
		}
		o := Observation{Client: f.Client.Unmap(), Server: f.Server.Unmap(), Proto: f.Proto, Port: f.Port,
			Connections: f.Connections, Established: f.Established, FirstFile: f.FirstFrame.File, FirstFrame: f.FirstFrame.Frame,
			FirstUID: f.FirstFrame.UID, FirstSeen: f.FirstSeen, Multicast: f.Multicast, Blocked: f.Blocked, Waived: f.Status == audit.Waived}
		if f.Waiver != nil {
			o.Ticket, o.WaiverReason = f.Waiver.Ticket, f.Waiver.Reason
		}
		if f.BlockedBy != nil {
			o.BlockedBy = f.BlockedBy.Text
		}
		for _, m := range f.NameMatches {
			o.NameMatches = append(o.NameMatches, NameMatch{Rule: m.Rule, Name: m.Name, Evidence: m.Evidence})
		}
		for _, r := range f.Rules {
			o.Rules = append(o.Rules, r.ID)
		}
		out = append(out, o)
	}
	return out
}

// side is one end of an entry before objects are named.
type side struct {
	kind  string
	role  *catalog.Role
	mode  string
	host  *inventory.Host
	hosts []*inventory.Host
	addrs []netip.Prefix
	fqdn  string
}

func (s side) key() string {
	switch s.kind {
	case KindRole:
		if s.role == nil {
			return "hosts:" + strings.ToLower(s.fqdn)
		}
		return "role:" + s.role.ID + "/" + s.mode
	case KindHost:
		return "host:" + s.host.Name
	case KindAddresses:
		return "addr:" + strings.Join(prefixStrings(s.addrs), ",")
	case KindFQDN:
		return "fqdn:" + strings.ToLower(s.fqdn)
	}
	return "any"
}

func (s side) contains(a netip.Addr, h *inventory.Host) bool {
	switch s.kind {
	case KindAny:
		return true
	case KindRole:
		for _, x := range s.hosts {
			if x == h {
				return true
			}
		}
		return false
	case KindHost:
		return h != nil && h == s.host
	case KindAddresses:
		for _, p := range s.addrs {
			if p.Contains(a) {
				return true
			}
		}
	}
	return false
}

func prefixStrings(ps []netip.Prefix) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = prefixText(p)
	}
	return out
}

// entry is one rule, in one direction and for one protocol, between two
// sides.
type entry struct {
	rule     *catalog.Rule
	reverse  bool
	proto    uint8
	src, dst side
	status   Status
	ev       Evidence
	waived   bool
	ticket   string
	reason   string
}

// Build computes the request.
func Build(cat *catalog.Catalog, inv *inventory.Inventory, opts Options) (*Request, error) {
	if inv == nil {
		inv = inventory.New()
	}
	if opts.GroupBy == "" {
		opts.GroupBy = GroupRole
	}
	if opts.GroupBy != GroupRole && opts.GroupBy != GroupHost {
		return nil, fmt.Errorf("group by %q: want %s or %s", opts.GroupBy, GroupRole, GroupHost)
	}
	if opts.Only == "" {
		opts.Only = OnlyAll
		if opts.Evidence {
			opts.Only = OnlyNeeded
		}
	}
	if opts.Only != OnlyAll && !opts.Evidence {
		return nil, fmt.Errorf("--only %s needs evidence: a capture or an analyze report", opts.Only)
	}
	req := &Request{Evidence: opts.Evidence, Only: opts.Only, GroupBy: opts.GroupBy}
	ruleWaiver := map[string]*audit.Waiver{}
	expiredWaiver := map[string]*audit.Waiver{}
	if opts.Waivers != nil {
		for _, w := range opts.Waivers.List {
			if w.Rule == "" {
				continue
			}
			if w.Expired(opts.Now) {
				// The last expired one, as the audit cites for a
				// missing rule none in force waives (Waivers.decide).
				expiredWaiver[w.Rule] = w
			} else if ruleWaiver[w.Rule] == nil {
				ruleWaiver[w.Rule] = w
			}
		}
	}
	var entries []*entry
	scope := catalog.NewScope(opts.Products...)
	for _, r := range cat.Rules() {
		if !scope.HasRule(r) {
			continue
		}
		req.Rules++
		es := expand(r, inv, opts.GroupBy)
		if len(es) > 0 {
			req.Applicable++
		}
		entries = append(entries, es...)
	}
	entries = attach(entries, opts.Observations, inv, opts.GroupBy, opts.Evidence)
	unknown := map[string]bool{}
	for _, o := range opts.Observations {
		for _, id := range o.Rules {
			if r := cat.Rule(id); r == nil || !scope.HasRule(r) {
				unknown[id] = true
			}
		}
	}
	if len(unknown) > 0 {
		ids := make([]string, 0, len(unknown))
		for id := range unknown {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		more := ""
		if len(ids) > 5 {
			more = fmt.Sprintf(" and %d more", len(ids)-5)
			ids = ids[:5]
		}
		req.Warnings = append(req.Warnings, fmt.Sprintf("the evidence names rules this catalog and --product do not have (%s%s): give rules the --catalog and --product the analysis had", strings.Join(ids, ", "), more))
	}

	// Waivers: a waived rule is left out unless the pilot used it.
	waived := map[string]*WaivedRule{}
	expired := map[string]*WaivedRule{}
	kept := entries[:0]
	for _, e := range entries {
		if w := ruleWaiver[e.rule.ID]; w != nil && e.status != Observed {
			addWaived(waived, e, w)
			continue
		}
		if e.waived {
			// Every attempt was blocked and a waiver accepted the block.
			wr := waived[e.rule.ID]
			if wr == nil {
				waived[e.rule.ID] = &WaivedRule{Rule: e.rule, Ticket: e.ticket, Reason: "blocked, and a waiver accepts it: " + e.reason, Status: e.status}
			}
			continue
		}
		if w := expiredWaiver[e.rule.ID]; w != nil {
			addWaived(expired, e, w)
		}
		if !opts.Only.keeps(e.status) {
			continue
		}
		kept = append(kept, e)
	}
	req.Waived = sortedWaived(waived)
	req.Expired = sortedWaived(expired)
	merge(req, kept)
	return req, nil
}

func addWaived(m map[string]*WaivedRule, e *entry, w *audit.Waiver) {
	wr := m[e.rule.ID]
	if wr == nil {
		wr = &WaivedRule{Rule: e.rule, Ticket: w.Ticket, Reason: w.Reason, Expiry: w.ExpiryText(), Where: w.Where(), Status: e.status}
		m[e.rule.ID] = wr
	}
	if statusRank[e.status] < statusRank[wr.Status] {
		wr.Status = e.status
	}
}

func sortedWaived(m map[string]*WaivedRule) []*WaivedRule {
	out := make([]*WaivedRule, 0, len(m))
	for _, w := range m {
		out = append(out, w)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Rule.ID < out[j].Rule.ID })
	return out
}

// hostsPlaying are the inventory hosts a rule side's role lets take part:
// every host that plays the role (a host given the plain role may use the
// flows of each of its modes).
func hostsPlaying(inv *inventory.Inventory, ep catalog.Endpoint) []*inventory.Host {
	var out []*inventory.Host
	for _, h := range inv.Hosts {
		if h.Plays(ep) {
			out = append(out, h)
		}
	}
	return out
}

func hostMatches(pattern, name string) bool {
	ok, err := path.Match(strings.ToLower(pattern), strings.ToLower(name))
	return err == nil && ok
}

// resolve turns a rule side into the sides a request can name; ok false
// when the inventory has no host for it.
func resolve(ep catalog.Endpoint, inv *inventory.Inventory) (s side, ok bool) {
	switch {
	case ep.Role != nil:
		hs := hostsPlaying(inv, ep)
		return side{kind: KindRole, role: ep.Role, mode: ep.Mode, hosts: hs}, len(hs) > 0
	case ep.Host != "":
		var hs []*inventory.Host
		for _, h := range inv.Hosts {
			if hostMatches(ep.Host, h.Name) {
				hs = append(hs, h)
			}
		}
		if len(hs) > 0 {
			// Named in the inventory: the hosts stand for the pattern.
			return side{kind: KindRole, hosts: hs, fqdn: ep.Host}, true
		}
		return side{kind: KindFQDN, fqdn: ep.Host}, true
	case len(ep.Addrs) > 0:
		for _, p := range ep.Addrs {
			if !p.Addr().IsLoopback() {
				return side{kind: KindAddresses, addrs: ep.Addrs}, true
			}
		}
		return side{}, false // loopback never crosses a firewall
	}
	return side{kind: KindAny}, true
}

// expand is the entries one rule gives: per protocol, forward (and reverse
// for a bidirectional rule without a direction limit), per role pair or
// per host pair.
func expand(r *catalog.Rule, inv *inventory.Inventory, groupBy string) []*entry {
	src, ok1 := resolve(r.From, inv)
	dst, ok2 := resolve(r.To, inv)
	if !ok1 || !ok2 || src.kind == KindAny && dst.kind == KindAny {
		return nil
	}
	if src.kind == KindAny && dst.kind == KindFQDN {
		return nil // no inventory host takes part
	}
	type pair struct {
		src, dst side
		reverse  bool
	}
	pairs := []pair{{src, dst, false}}
	if r.Bidirectional && r.Direction == "" && (dst.kind == KindRole || dst.kind == KindAny) && src.key() != dst.key() {
		pairs = append(pairs, pair{dst, src, true})
	}
	var out []*entry
	for _, p := range pairs {
		for _, sp := range split(p.src, groupBy) {
			for _, dp := range split(p.dst, groupBy) {
				if !distinct(sp, dp) {
					continue
				}
				for _, proto := range r.Protocols {
					out = append(out, &entry{rule: r, reverse: p.reverse, proto: proto, src: sp, dst: dp})
				}
			}
		}
	}
	return out
}

// split is a side per host when grouping by host.
func split(s side, groupBy string) []side {
	if groupBy != GroupHost || s.kind != KindRole {
		return []side{s}
	}
	out := make([]side, len(s.hosts))
	for i, h := range s.hosts {
		out[i] = side{kind: KindHost, host: h}
	}
	return out
}

// distinct says whether a line between the two sides connects two
// machines: a rule between hosts of one role needs two of them, or a host
// that is an address block (several machines).
func distinct(a, b side) bool {
	ha, hb := sideHosts(a), sideHosts(b)
	if ha == nil || hb == nil {
		return true
	}
	for _, x := range ha {
		for _, y := range hb {
			if x != y || isBlock(x) {
				return true
			}
		}
	}
	return false
}

// isBlock says whether an inventory host stands for several machines: one
// of its addresses is a CIDR block.
func isBlock(h *inventory.Host) bool {
	for _, p := range h.Addresses {
		if !p.IsSingleIP() {
			return true
		}
	}
	return false
}

func sideHosts(s side) []*inventory.Host {
	switch s.kind {
	case KindRole:
		return s.hosts
	case KindHost:
		return []*inventory.Host{s.host}
	}
	return nil
}

// attach gives each entry its evidence. A multicast or broadcast service
// documented by a rule to a role is a line to the group address it was
// sent to: that is the address a firewall sees.
func attach(entries []*entry, obs []Observation, inv *inventory.Inventory, groupBy string, evidence bool) []*entry {
	if !evidence {
		for _, e := range entries {
			e.status = Unchecked
		}
		return entries
	}
	byRule := map[string][]int{}
	for i := range obs {
		for _, id := range obs[i].Rules {
			byRule[id] = append(byRule[id], i)
		}
	}
	type mkey struct {
		rule  string
		proto uint8
		src   string
		group netip.Addr
	}
	mcast := map[mkey]*entry{}
	var extra []*entry
	var out []*entry
	for _, e := range entries {
		var unicast []*Observation
		multicast := false
		for _, i := range byRule[e.rule.ID] {
			o := &obs[i]
			if o.Proto != e.proto || !e.rule.CoversPort(o.Proto, o.Port) {
				continue
			}
			ch, sh := inv.Lookup(o.Client), inv.Lookup(o.Server)
			if !e.src.contains(o.Client, ch) {
				continue
			}
			if o.Multicast && (e.dst.kind == KindRole || e.dst.kind == KindAny || e.dst.kind == KindHost) {
				if e.reverse {
					continue
				}
				multicast = true
				k := mkey{e.rule.ID, e.proto, e.src.key(), o.Server}
				m := mcast[k]
				if m == nil {
					m = &entry{rule: e.rule, proto: e.proto, src: e.src,
						dst: side{kind: KindAddresses, addrs: []netip.Prefix{netip.PrefixFrom(o.Server, o.Server.BitLen())}}}
					mcast[k] = m
					extra = append(extra, m)
				}
				m.add(o)
				continue
			}
			if e.dst.kind == KindFQDN {
				// The audit matched the rule by the connections' host
				// names: the line to the name carries them.
				if o.Multicast || e.reverse {
					continue
				}
				for _, m := range o.NameMatches {
					if m.Rule == e.rule.ID {
						e.seen(fmt.Sprintf("%s (%s) at %s", m.Name, m.Evidence, o.Server))
					}
				}
				unicast = append(unicast, o)
				continue
			}
			if !e.dst.contains(o.Server, sh) {
				continue
			}
			unicast = append(unicast, o)
		}
		for _, o := range unicast {
			e.add(o)
		}
		if len(unicast) == 0 && multicast {
			continue // the group address line stands for it
		}
		out = append(out, e)
	}
	out = append(out, extra...)
	for _, e := range out {
		e.finish()
	}
	return out
}

func (e *entry) add(o *Observation) {
	if o.Waived && o.Blocked {
		e.waived = true
		if e.ticket == "" {
			e.ticket, e.reason = o.Ticket, o.WaiverReason
		}
		return
	}
	ev := &e.ev
	ev.Services++
	ev.Connections += o.Connections
	if !o.Blocked {
		ev.Observed++
	}
	ev.Established += o.Established
	if ev.Services == 1 || firstBefore(o, ev) {
		ev.FirstFile, ev.FirstFrame, ev.FirstUID, ev.FirstSeen = o.FirstFile, o.FirstFrame, o.FirstUID, o.FirstSeen
	}
	if o.BlockedBy != "" && o.Blocked && !slices.Contains(ev.BlockedBy, o.BlockedBy) {
		ev.BlockedBy = append(ev.BlockedBy, o.BlockedBy)
		sort.Strings(ev.BlockedBy)
	}
}

// firstBefore says whether o was seen before the first service of ev, in
// an order that does not depend on the order they come in: the earlier
// first_seen, a known time before none; at the same time (or none) one
// with its file before one without (a report of an older version, without
// first_file), then by file, frame and uid.
func firstBefore(o *Observation, ev *Evidence) bool {
	switch {
	case o.FirstSeen.IsZero() != ev.FirstSeen.IsZero():
		return ev.FirstSeen.IsZero()
	case !o.FirstSeen.Equal(ev.FirstSeen):
		return o.FirstSeen.Before(ev.FirstSeen)
	case (o.FirstFile == "") != (ev.FirstFile == ""):
		return ev.FirstFile == ""
	}
	return cmp.Or(cmp.Compare(o.FirstFile, ev.FirstFile), cmp.Compare(o.FirstFrame, ev.FirstFrame), cmp.Compare(o.FirstUID, ev.FirstUID)) < 0
}

func (e *entry) seen(s string) {
	if !slices.Contains(e.ev.Seen, s) {
		e.ev.Seen = append(e.ev.Seen, s)
		sort.Strings(e.ev.Seen)
	}
}

func (e *entry) finish() {
	switch {
	case e.ev.Observed > 0:
		e.status = Observed
		e.waived = false
		e.ev.BlockedBy = nil // who blocked other attempts is the report's matter
	case e.ev.Services > 0:
		e.status = Blocked
		e.waived = false // some attempt was not waived
	case e.waived:
		e.status = Blocked
	default:
		e.status = Missing
	}
}

// merge groups entries into lines by source, destination and protocol,
// names the objects and numbers the lines.
func merge(req *Request, entries []*entry) {
	names := newNamer()
	type lkey struct {
		src, dst string
		proto    uint8
	}
	lines := map[lkey]*Line{}
	for _, e := range entries {
		src, dst := names.object(e.src), names.object(e.dst)
		k := lkey{src.Name, dst.Name, e.proto}
		l := lines[k]
		if l == nil {
			l = &Line{Src: src, Dst: dst, Proto: e.proto}
			lines[k] = l
		}
		if catalog.HasPorts(e.proto) {
			l.Ports = append(l.Ports, e.rule.Ports...)
		}
		l.Why = append(l.Why, &Justification{Rule: e.rule, Reverse: e.reverse, Status: e.status, Evidence: e.ev})
	}
	used := map[string]*Object{}
	for _, l := range lines {
		l.Ports = mergeRanges(l.Ports)
		sort.SliceStable(l.Why, func(i, j int) bool {
			a, b := l.Why[i], l.Why[j]
			if a.Rule.ID != b.Rule.ID {
				return a.Rule.ID < b.Rule.ID
			}
			return !a.Reverse && b.Reverse
		})
		seen := map[Status]bool{}
		for _, j := range l.Why {
			if !seen[j.Status] {
				seen[j.Status] = true
				l.Status = append(l.Status, j.Status)
			}
		}
		sort.Slice(l.Status, func(i, j int) bool { return statusRank[l.Status[i]] < statusRank[l.Status[j]] })
		req.Lines = append(req.Lines, l)
		used[l.Src.Name], used[l.Dst.Name] = l.Src, l.Dst
	}
	sort.Slice(req.Lines, func(i, j int) bool {
		a, b := req.Lines[i], req.Lines[j]
		if a.Src.Name != b.Src.Name {
			return objectLess(a.Src, b.Src)
		}
		if a.Dst.Name != b.Dst.Name {
			return objectLess(a.Dst, b.Dst)
		}
		return a.Proto < b.Proto
	})
	for i, l := range req.Lines {
		l.N = i + 1
	}
	for _, o := range used {
		req.Objects = append(req.Objects, o)
	}
	sort.Slice(req.Objects, func(i, j int) bool { return objectLess(req.Objects[i], req.Objects[j]) })
}

// objectLess orders Any first, then by name.
func objectLess(a, b *Object) bool {
	if a.IsAny() != b.IsAny() {
		return a.IsAny()
	}
	return a.Name < b.Name
}

// mergeRanges sorts port ranges and joins overlapping and contiguous ones.
func mergeRanges(rs []catalog.PortRange) []catalog.PortRange {
	if len(rs) == 0 {
		return nil
	}
	rs = append([]catalog.PortRange(nil), rs...)
	sort.Slice(rs, func(i, j int) bool { return rs[i].Lo < rs[j].Lo || rs[i].Lo == rs[j].Lo && rs[i].Hi < rs[j].Hi })
	out := rs[:1]
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		if int(r.Lo) <= int(last.Hi)+1 {
			last.Hi = max(last.Hi, r.Hi)
			continue
		}
		out = append(out, r)
	}
	return out
}

// namer gives every side one object with a deterministic name.
type namer struct {
	byKey  map[string]*Object
	byName map[string]string // name -> key
}

func newNamer() *namer { return &namer{byKey: map[string]*Object{}, byName: map[string]string{}} }

func (n *namer) object(s side) *Object {
	k := s.key()
	if o := n.byKey[k]; o != nil {
		return o
	}
	o := &Object{Kind: s.kind}
	var base string
	switch s.kind {
	case KindAny:
		o.Name, o.Label = "any", "Any"
	case KindRole:
		if s.role != nil {
			o.Label = s.role.DisplayName(s.mode)
		} else {
			o.Label = s.fqdn
		}
		base = "flowaudit_" + slug(o.Label)
		o.Prefixes = hostPrefixes(s.hosts)
		for _, h := range s.hosts {
			o.Hosts = append(o.Hosts, h.Name)
		}
		sort.Strings(o.Hosts)
	case KindHost:
		o.Label = s.host.Name
		base = "flowaudit_host_" + slug(s.host.Name)
		o.Prefixes = hostPrefixes([]*inventory.Host{s.host})
		o.Hosts = []string{s.host.Name}
	case KindAddresses:
		o.Label = strings.Join(prefixStrings(s.addrs), ", ")
		base = "flowaudit_net_" + slug(o.Label)
		o.Prefixes = normPrefixes(s.addrs)
	case KindFQDN:
		o.Label, o.FQDN = s.fqdn, s.fqdn
		base = "flowaudit_fqdn_" + slug(strings.ReplaceAll(s.fqdn, "*", "star"))
	}
	if o.Name == "" {
		base = shorten(base)
		o.Name = base
		for i := 2; n.byName[o.Name] != "" && n.byName[o.Name] != k; i++ {
			o.Name = fmt.Sprintf("%s_%d", base, i)
		}
	}
	n.byName[o.Name] = k
	n.byKey[k] = o
	return o
}

// MaxName is the longest object name: PAN-OS takes 63 characters, ASA 64.
const MaxName = 63

// shorten keeps a name within MaxName, with room for a "_N" suffix: a
// longer one is cut and ends with 8 hex digits of its FNV-1a hash, so two
// long names stay apart and the same name always gives the same result.
func shorten(name string) string {
	if len(name) <= MaxName-3 {
		return name
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	return fmt.Sprintf("%s_%08x", strings.TrimRight(name[:MaxName-3-9], "_"), h.Sum32())
}

// slug is a name's lower-case letters and digits, runs of anything else
// as one underscore.
func slug(s string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if under && b.Len() > 0 {
				b.WriteByte('_')
			}
			under = false
			b.WriteRune(r)
			continue
		}
		under = true
	}
	if b.Len() == 0 {
		return "x"
	}
	return b.String()
}

func hostPrefixes(hs []*inventory.Host) []netip.Prefix {
	var ps []netip.Prefix
	for _, h := range hs {
		ps = append(ps, h.Addresses...)
	}
	return normPrefixes(ps)
}

// normPrefixes sorts prefixes (IPv4 first), drops duplicates and those
// inside another.
func normPrefixes(in []netip.Prefix) []netip.Prefix {
	ps := make([]netip.Prefix, 0, len(in))
	for _, p := range in {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-bitsOff(p)).Masked()
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool {
		if c := ps[i].Addr().Compare(ps[j].Addr()); c != 0 {
			return c < 0
		}
		return ps[i].Bits() < ps[j].Bits()
	})
	var out []netip.Prefix
	for _, p := range ps {
		inside := false
		for _, q := range out {
			if q.Bits() <= p.Bits() && q.Contains(p.Addr()) {
				inside = true
				break
			}
		}
		if !inside {
			out = append(out, p)
		}
	}
	return out
}

// bitsOff is how many bits an IPv4-mapped prefix loses when unmapped.
func bitsOff(p netip.Prefix) int {
	if p.Addr().Is4In6() {
		return 96
	}
	return 0
}
