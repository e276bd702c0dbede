// Package diff compares two analyses of one pilot — before and after a
// firewall change — and says what the change did: which findings it
// fixed, which it caused (regressions), and what else moved.
//
// Services are matched by client, server, protocol and port; missing
// rules by rule id, protocol and the hosts on each side. A service or
// rule is in one of these states in each analysis: established
// (documented and established), blocked (documented, never established),
// undocumented, waived, or absent; a missing rule is missing, waived, or
// absent (the rule was seen, or no longer expected). Sweeps (a client's
// scan folded into one finding) are matched by kind, client, protocol and
// server or ports. The categories:
//
//   - fixed: blocked before and established after; missing before and
//     established after between the same hosts; undocumented before and
//     gone after; a sweep gone.
//   - regressed: established before and blocked after; established
//     before and missing after (the rule that carried it never
//     appeared); undocumented after and not undocumented before; a new
//     sweep, or one waived before and not after; a waiver expired after
//     that was not expired before.
//   - changed: everything else that differs: a new outcome (refused
//     instead of unanswered), different matching rules or label (a
//     catalog or inventory change), a finding (or sweep) that became
//     waived, a waived sweep in one analysis only, and
//     services present in only one analysis that are neither (the
//     traffic simply did not occur).
//   - unresolved: findings in both analyses (undocumented, blocked,
//     missing, sweeps), so the diff shows what the change left to do.
//
// Compare works on its own small view of a report (Report), which the
// report package builds from an analyze JSON document; the result is
// rendered by the report package too.
package diff

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Categories of a Change, as --fail-on names them.
const (
	Fixed      = "fixed"
	Regressed  = "regressed"
	Changed    = "changed"
	Unresolved = "unresolved"
)

// States of a service or missing rule in one analysis.
const (
	Established  = "established"
	Blocked      = "blocked"
	Undocumented = "undocumented"
	Waived       = "waived"
	Missing      = "missing"
	Swept        = "sweep"
	Absent       = "absent"
)

// Report is what Compare needs of one analysis.
type Report struct {
	Name     string // the file the report came from, or the captures analysed
	Identity Identity
	Services []Service
	Missing  []MissingRule
	Sweeps   []Sweep
}

// Identity says what an analysis was made of, so two can be compared.
type Identity struct {
	Version   string
	Generated string
	Captures  []File
	Inventory *File // nil without an inventory
	// NameLogs are the Zeek ssl.log and http.log files whose host names
	// named a conn.log's connections (none for a capture).
	NameLogs     []File
	CatalogFiles []string
	Products     []string
	Rules        int // rules in the catalog
	// Incomplete says why the analysis did not read every frame (a
	// capture cut short, connections or services past the limits).
	Incomplete []string
	// IncludeNoise: link-local housekeeping (neighbour discovery,
	// LLMNR, mDNS, …) is listed as services, not summarized.
	IncludeNoise bool
	// InferRoles: hosts missing from the inventory got roles inferred
	// from the traffic.
	InferRoles bool
}

// File is a path and its SHA-256.
type File struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// Service is one service of an analysis.
type Service struct {
	Client, Server         string // addresses
	ClientHost, ServerHost string // inventory names, "" when none
	Proto                  string // "tcp", "vrrp", …
	Port                   *uint16
	Status                 string // documented, undocumented or waived
	Outcome                string // established, rejected, unanswered
	Blocked                bool   // documented but never established
	Connections            int
	Rules                  []string // ids of the rules that match
	WaiverExpired          bool     // a waiver matched but has expired
	Waiver                 string   // the waiver's ticket, "" when none
}

// MissingRule is one expected flow that was never attempted.
type MissingRule struct {
	Rule             string
	Proto            string
	Ports            string // "443" or "20001-20030, 20009"
	Clients, Servers []string
	Optional         bool
	Waived           bool // a waiver accepts it (and has not expired)
	WaiverExpired    bool
	Waiver           string
	Description      string
}

// Sweep is one client's scan folded into one finding: many ports of one
// server (kind "ports"), or one port on many servers.
type Sweep struct {
	Kind               string
	Client, ClientHost string
	Server, ServerHost string // a ports sweep's server
	Proto              string
	Ports              string // "22" or "1-1024,3389"
	Servers            uint64
	Connections        uint64
	Waived             bool   // a waiver in force covers it: not a finding
	Waiver             string // the covering waiver's ticket, in force or expired
	WaiverExpired      bool
}

// state is the sweep's state: swept, or waived; an expired waiver
// leaves it swept and says so.
func (w *Sweep) state() State {
	st := State{State: Swept, Connections: int(w.Connections), Waiver: w.Waiver, Expired: w.WaiverExpired}
	if w.Waived {
		st.State = Waived
	}
	return st
}

func (w Sweep) key() string {
	if w.Kind == "ports" {
		return w.Kind + "|" + w.Client + "|" + w.Proto + "|" + w.Server
	}
	return w.Kind + "|" + w.Client + "|" + w.Proto + "|" + w.Ports
}

// Change is one service, missing rule or sweep whose state differs, or a
// finding in both analyses.
type Change struct {
	Category string `json:"category"`
	Kind     string `json:"kind"` // "service", "missing" or "sweep"
	// The service's key, or for a missing rule its rule, protocol and hosts.
	Client  string   `json:"client,omitempty"`
	Server  string   `json:"server,omitempty"`
	Proto   string   `json:"proto"`
	Port    *uint16  `json:"port,omitempty"`
	Rule    string   `json:"rule,omitempty"`
	Ports   string   `json:"ports,omitempty"`
	Clients []string `json:"clients,omitempty"`
	Servers []string `json:"servers,omitempty"`
	// States before and after (Established, Blocked, …, Absent).
	Before State  `json:"before"`
	After  State  `json:"after"`
	Reason string `json:"reason"`
}

// State is a service or missing rule in one analysis.
type State struct {
	State       string   `json:"state"`
	Outcome     string   `json:"outcome,omitempty"`
	Connections int      `json:"connections,omitempty"`
	Rules       []string `json:"rules,omitempty"`
	Waiver      string   `json:"waiver,omitempty"`
	Expired     bool     `json:"waiver_expired,omitempty"`
}

// Result is the comparison.
type Result struct {
	Before, After *Report
	Warnings      []string
	Changes       []Change // sorted: category, kind, key
	Unchanged     int      // services and missing rules in the same state, not findings
}

// Count is the number of changes of a category.
func (r *Result) Count(category string) int {
	n := 0
	for _, c := range r.Changes {
		if c.Category == category {
			n++
		}
	}
	return n
}

// Of is the changes of a category, in order.
func (r *Result) Of(category string) []Change {
	var out []Change
	for _, c := range r.Changes {
		if c.Category == category {
			out = append(out, c)
		}
	}
	return out
}

// Label is a service's or client's name: "host (addr)" or the address.
func Label(host, addr string) string {
	if host == "" {
		return addr
	}
	return host + " (" + addr + ")"
}

// ServiceName is "443/tcp", or the protocol for port-less ones.
func (c *Change) ServiceName() string {
	if c.Kind == "missing" || c.Kind == "sweep" {
		if c.Ports == "" {
			return c.Proto
		}
		return c.Proto + "/" + c.Ports
	}
	if c.Port == nil {
		return c.Proto
	}
	return strconv.Itoa(int(*c.Port)) + "/" + c.Proto
}

func (s Service) key() string {
	p := "-"
	if s.Port != nil {
		p = strconv.Itoa(int(*s.Port))
	}
	return s.Client + "|" + s.Server + "|" + s.Proto + "|" + p
}

func (m MissingRule) key() string {
	return m.Rule + "|" + m.Proto + "|" + strings.Join(m.Clients, ",") + "|" + strings.Join(m.Servers, ",")
}

func (s *Service) state() State {
	st := State{Outcome: s.Outcome, Connections: s.Connections, Rules: s.Rules, Waiver: s.Waiver, Expired: s.WaiverExpired}
	switch {
	case s.Status == Waived:
		st.State = Waived
	case s.Status == Undocumented:
		st.State = Undocumented
	case s.Blocked:
		st.State = Blocked
	default:
		st.State = Established
	}
	return st
}

func (m *MissingRule) state() State {
	st := State{State: Missing, Waiver: m.Waiver, Expired: m.WaiverExpired}
	if m.Waived {
		st.State = Waived
	}
	return st
}

// finding says whether a state is a finding (what analyze's default
// --fail-on and missing would count).
func finding(s State) bool {
	return s.State == Undocumented || s.State == Blocked || s.State == Missing || s.State == Swept
}

// covers says whether service s is evidence for missing rule m: same
// rule, protocol, and hosts on the rule's sides.
func covers(m *MissingRule, s *Service) bool {
	if s.Proto != m.Proto || !slices.Contains(s.Rules, m.Rule) {
		return false
	}
	in := func(hosts []string, h string) bool { return len(hosts) == 0 || slices.Contains(hosts, h) }
	return in(m.Clients, s.ClientHost) && in(m.Servers, s.ServerHost)
}

// Compare compares two analyses.
func Compare(before, after *Report) *Result {
	res := &Result{Before: before, After: after, Warnings: warnings(before, after)}
	bs, as := index(before.Services), index(after.Services)
	bm, am := index(before.Missing), index(after.Missing)
	// Services that are the evidence of a missing rule's change, so they
	// are not listed a second time as present in one analysis only.
	explained := map[string]bool{}

	for _, k := range unionKeys(bm, am) {
		b, a := bm[k], am[k]
		c := Change{Kind: "missing", Before: State{State: Absent}, After: State{State: Absent}}
		m := a
		if b != nil {
			m = b
			c.Before = b.state()
		}
		if a != nil {
			c.After = a.state()
		}
		c.Rule, c.Proto, c.Ports, c.Clients, c.Servers = m.Rule, m.Proto, m.Ports, m.Clients, m.Servers
		switch {
		case b != nil && a == nil:
			// The rule was seen after, or is no longer expected.
			var est, other []Service
			for _, s := range after.Services {
				if covers(b, &s) {
					if st := s.state(); st.State == Established {
						est = append(est, s)
					} else {
						other = append(other, s)
					}
				}
			}
			switch {
			case len(est) > 0:
				c.After = State{State: Established, Connections: conns(est)}
				c.Reason = "never seen before, established after: " + serviceList(est)
				c.Category = Fixed
				if c.Before.State == Waived {
					c.Category = Changed
				}
				markExplained(explained, est)
			case len(other) > 0:
				c.After = other[0].state()
				c.Reason = "never seen before, " + c.After.State + " after: " + serviceList(other)
				c.Category = Changed
				markExplained(explained, other)
			default:
				c.Reason = "expected before, not expected after (inventory, catalog or product filter changed)"
				c.Category = Changed
			}
		case b == nil && a != nil:
			var est []Service
			for _, s := range before.Services {
				if covers(a, &s) && s.state().State == Established {
					est = append(est, s)
				}
			}
			switch {
			case a.Waived:
				c.Category, c.Reason = Changed, "waived after"
			case len(est) > 0 && !a.Optional:
				c.Before = State{State: Established, Connections: conns(est)}
				c.Category, c.Reason = Regressed, "established before ("+serviceList(est)+"), never seen after"
				markExplained(explained, est)
			case len(est) > 0:
				c.Before = State{State: Established, Connections: conns(est)}
				c.Category, c.Reason = Changed, "optional rule established before ("+serviceList(est)+"), never seen after"
				markExplained(explained, est)
			default:
				c.Category, c.Reason = Changed, "not expected before, missing after (inventory, catalog or product filter changed)"
			}
		default:
			if a.WaiverExpired && !b.WaiverExpired {
				c.Category, c.Reason = Regressed, "waiver "+a.Waiver+" expired"
			} else if c.Before.State != c.After.State {
				c.Category, c.Reason = Changed, c.Before.State+" before, "+c.After.State+" after"
			} else if finding(c.After) && !a.Optional {
				c.Category, c.Reason = Unresolved, "never seen in either"
			} else {
				res.Unchanged++
				continue
			}
		}
		res.Changes = append(res.Changes, c)
	}

	for _, k := range unionKeys(bs, as) {
		b, a := bs[k], as[k]
		if (b == nil || a == nil) && explained[k] {
			continue
		}
		c := Change{Kind: "service", Before: State{State: Absent}, After: State{State: Absent}}
		s := a
		if b != nil {
			s = b
			c.Before = b.state()
		}
		if a != nil {
			c.After = a.state()
		}
		c.Client, c.Server, c.Proto, c.Port = Label(s.ClientHost, s.Client), Label(s.ServerHost, s.Server), s.Proto, s.Port
		c.Category, c.Reason = classify(c.Before, c.After)
		if c.Category == "" {
			res.Unchanged++
			continue
		}
		res.Changes = append(res.Changes, c)
	}
	bw, aw := index(before.Sweeps), index(after.Sweeps)
	for _, k := range unionKeys(bw, aw) {
		b, a := bw[k], aw[k]
		c := Change{Kind: "sweep", Before: State{State: Absent}, After: State{State: Absent}}
		w := b // shown as it was after, when it still was
		if b != nil {
			c.Before = b.state()
		}
		if a != nil {
			w = a
			c.After = a.state()
		}
		c.Client, c.Proto, c.Ports = Label(w.ClientHost, w.Client), w.Proto, w.Ports
		if w.Kind == "ports" {
			c.Server = Label(w.ServerHost, w.Server)
		} else {
			c.Server = fmt.Sprintf("%d servers", w.Servers)
		}
		switch {
		case c.After.Expired && !c.Before.Expired:
			c.Category, c.Reason = Regressed, "waiver "+c.After.Waiver+" expired"
		case b == nil && a.Waived:
			c.Category, c.Reason = Changed, "new sweep ("+w.Kind+"), waived ("+a.Waiver+")"
		case b == nil:
			c.Category, c.Reason = Regressed, "new sweep ("+w.Kind+")"
		case a == nil && b.Waived:
			c.Category, c.Reason = Changed, "only before: the waived sweep did not occur after"
		case a == nil:
			c.Category, c.Reason = Fixed, "sweep before, gone after"
		case b.Waived && a.Waived:
			res.Unchanged++
			continue
		case a.Waived:
			c.Category, c.Reason = Changed, "sweep before, waived after ("+a.Waiver+")"
		case b.Waived:
			c.Category, c.Reason = Regressed, "waived before, sweep after"
		default:
			c.Category, c.Reason = Unresolved, "sweep in both"
		}
		res.Changes = append(res.Changes, c)
	}
	sort.SliceStable(res.Changes, func(i, j int) bool {
		x, y := res.Changes[i], res.Changes[j]
		if x.Category != y.Category {
			return categoryOrder(x.Category) < categoryOrder(y.Category)
		}
		if x.Kind != y.Kind {
			return kindOrder(x.Kind) < kindOrder(y.Kind)
		}
		return sortKey(x) < sortKey(y)
	})
	return res
}

// classify decides a service's category from its states before and after;
// "" is unchanged.
func classify(b, a State) (category, reason string) {
	move := b.State + " before, " + a.State + " after"
	switch {
	case a.Expired && !b.Expired:
		return Regressed, "waiver " + a.Waiver + " expired"
	case b.State == Blocked && a.State == Established:
		return Fixed, move
	case b.State == Undocumented && a.State == Absent:
		return Fixed, "undocumented before, gone after"
	case b.State == Established && a.State == Blocked:
		return Regressed, move
	case a.State == Undocumented && b.State != Undocumented:
		if b.State == Absent {
			return Regressed, "new undocumented service"
		}
		return Regressed, move + " (matching rules changed: catalog or inventory)"
	case b.State != a.State:
		switch {
		case a.State == Absent:
			return Changed, "only before: the traffic did not occur after"
		case b.State == Absent:
			return Changed, "only after: the traffic did not occur before"
		case a.State == Waived:
			return Changed, move + " (" + a.Waiver + ")"
		}
		return Changed, move + " (matching rules changed: catalog or inventory)"
	case !slices.Equal(b.Rules, a.Rules):
		return Changed, "matching rules changed: " + ruleDelta(b.Rules, a.Rules)
	case b.Outcome != a.Outcome:
		return Changed, "outcome " + b.Outcome + " before, " + a.Outcome + " after"
	case finding(a):
		return Unresolved, a.State + " in both"
	}
	return "", ""
}

func ruleDelta(b, a []string) string {
	var parts []string
	for _, r := range a {
		if !slices.Contains(b, r) {
			parts = append(parts, "+"+r)
		}
	}
	for _, r := range b {
		if !slices.Contains(a, r) {
			parts = append(parts, "-"+r)
		}
	}
	return strings.Join(parts, " ")
}

// kindOrder lists services, then sweeps, then missing rules.
func kindOrder(k string) int {
	switch k {
	case "service":
		return 0
	case "sweep":
		return 1
	}
	return 2
}

func categoryOrder(c string) int {
	switch c {
	case Regressed:
		return 0
	case Fixed:
		return 1
	case Changed:
		return 2
	}
	return 3
}

// sortKey orders changes by their identity; ports compare as numbers.
func sortKey(c Change) string {
	p := ""
	if c.Port != nil {
		p = fmt.Sprintf("%05d", *c.Port)
	}
	return strings.Join([]string{c.Rule, c.Client, c.Server, c.Proto, p, strings.Join(c.Clients, ","), strings.Join(c.Servers, ",")}, "\x00")
}

func conns(ss []Service) int {
	n := 0
	for _, s := range ss {
		n += s.Connections
	}
	return n
}

func serviceList(ss []Service) string {
	var parts []string
	for _, s := range ss {
		c := Change{Kind: "service", Proto: s.Proto, Port: s.Port}
		parts = append(parts, Label(s.ClientHost, s.Client)+" → "+Label(s.ServerHost, s.Server)+" "+c.ServiceName())
	}
	return strings.Join(parts, "; ")
}

func markExplained(m map[string]bool, ss []Service) {
	for _, s := range ss {
		m[s.key()] = true
	}
}

// index is a report's list by key, pointing into the list.
func index[T interface{ key() string }](xs []T) map[string]*T {
	m := make(map[string]*T, len(xs))
	for i := range xs {
		m[xs[i].key()] = &xs[i]
	}
	return m
}

func unionKeys[V any](a, b map[string]V) []string {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// warnings say where the two analyses were not made alike, so that a
// change in labels may come from the analysis, not the network.
func warnings(b, a *Report) []string {
	var w []string
	bi, ai := b.Identity, a.Identity
	switch {
	case bi.Inventory == nil && ai.Inventory == nil:
	case bi.Inventory == nil || ai.Inventory == nil:
		w = append(w, "only one analysis used an inventory: roles, and so labels, differ")
	case bi.Inventory.SHA256 != ai.Inventory.SHA256:
		w = append(w, fmt.Sprintf("the inventories differ (%s %.12s…, %s %.12s…): a label may have changed with the inventory, not the network",
			bi.Inventory.Path, bi.Inventory.SHA256, ai.Inventory.Path, ai.Inventory.SHA256))
	}
	if !slices.Equal(bi.CatalogFiles, ai.CatalogFiles) || bi.Rules != ai.Rules {
		w = append(w, fmt.Sprintf("the catalogs differ (%d rules from %s; %d rules from %s): a label may have changed with the catalog, not the network",
			bi.Rules, strings.Join(bi.CatalogFiles, ", "), ai.Rules, strings.Join(ai.CatalogFiles, ", ")))
	}
	if !slices.Equal(bi.Products, ai.Products) {
		w = append(w, fmt.Sprintf("the product filters differ (%s; %s)", productList(bi.Products), productList(ai.Products)))
	}
	if bi.InferRoles != ai.InferRoles {
		w = append(w, "only one analysis inferred roles (--infer-roles): a label may have changed with the inference, not the network")
	}
	if bi.IncludeNoise != ai.IncludeNoise {
		w = append(w, "only one analysis listed link-local housekeeping as services (--include-noise), the other counted it apart: its services are absent from that one, neither fixed nor new")
	}
	if bi.Version != ai.Version {
		w = append(w, fmt.Sprintf("different flowaudit versions (%s, %s)", bi.Version, ai.Version))
	}
	for _, side := range []struct {
		name string
		id   Identity
	}{{"before", bi}, {"after", ai}} {
		if len(side.id.Incomplete) > 0 {
			w = append(w, fmt.Sprintf("the %s analysis is incomplete (%s): a service absent from it may only not have been read",
				side.name, strings.Join(side.id.Incomplete, "; ")))
		}
	}
	for _, c := range bi.Captures {
		for _, d := range ai.Captures {
			if c.SHA256 == d.SHA256 {
				w = append(w, fmt.Sprintf("both analyses read the same capture (%s, %s)", c.Path, d.Path))
			}
		}
	}
	return w
}

func productList(p []string) string {
	if len(p) == 0 {
		return "all products"
	}
	return strings.Join(p, ", ")
}
