package audit

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/inventory"
	"github.com/flowaudit/flowaudit/catalog"
	"github.com/flowaudit/flowaudit/catalog/yamlfile"
	"go.yaml.in/yaml/v3"
)

// Waiver accepts a finding: an undocumented or blocked service (matched by
// client, server, protocol and port), or a documented rule that is
// missing or blocked (matched by rule id). It carries why, the change
// ticket that accepted it, and an optional expiry after which the finding
// counts again.
//
//	waivers:
//	  - client: 192.0.2.10          # address, CIDR, inventory host name or role; omitted: any
//	    server: mon01
//	    proto: tcp
//	    port: 8080                  # a port or a range "8080-8090"; omitted: any
//	    reason: monitoring agent, accepted by the security team
//	    ticket: CHG-1234
//	    expires: 2027-03-31         # optional, YYYY-MM-DD; the end of that day, UTC
//	  - rule: lync-cli-audio        # a missing or blocked rule
//	    reason: audio not in the pilot's scope
//	    ticket: CHG-1240
type Waiver struct {
	Client, Server string // as written
	Proto          uint8  // 0: any
	HasProto       bool
	Ports          []catalog.PortRange // empty: any
	Rule           string
	Reason, Ticket string
	Expires        time.Time // zero: never
	File           string
	Line           int
	Used           bool

	client, server matcher
}

// Expired says whether the waiver has lapsed at now.
func (w *Waiver) Expired(now time.Time) bool {
	return !w.Expires.IsZero() && !now.Before(w.Expires)
}

// ExpiryText is "2027-03-31" or "".
func (w *Waiver) ExpiryText() string {
	if w.Expires.IsZero() {
		return ""
	}
	return w.Expires.Add(-time.Nanosecond).Format("2006-01-02")
}

// Where is "file:line".
func (w *Waiver) Where() string { return fmt.Sprintf("%s:%d", w.File, w.Line) }

// matcher matches an address by address, block, inventory host or role.
type matcher struct {
	any    bool
	prefix netip.Prefix
	host   string
	role   catalog.Endpoint
}

func (m matcher) match(addr netip.Addr, h *inventory.Host) bool {
	switch {
	case m.any:
		return true
	case m.prefix.IsValid():
		return m.prefix.Contains(addr.Unmap())
	case m.host != "":
		return h != nil && strings.EqualFold(h.Name, m.host)
	}
	return h.Plays(m.role)
}

// Waivers is a loaded waiver file.
type Waivers struct {
	List []*Waiver
	File string
}

type yWaivers struct {
	Waivers yaml.Node `yaml:"waivers"`
}

type yWaiver struct {
	Client  string          `yaml:"client"`
	Server  string          `yaml:"server"`
	Proto   string          `yaml:"proto"`
	Port    yamlfile.Scalar `yaml:"port"`
	Rule    string          `yaml:"rule"`
	Reason  string          `yaml:"reason"`
	Ticket  string          `yaml:"ticket"`
	Expires string          `yaml:"expires"`
	line    int
	lines   map[string]int
}

func (w *yWaiver) UnmarshalYAML(n *yaml.Node) (err error) {
	type plain yWaiver
	if w.lines, err = yamlfile.Strict(n, plain{}); err != nil {
		return err
	}
	w.line = n.Line
	return n.Decode((*plain)(w))
}

// LoadWaivers reads a waiver file. Hosts and roles are checked against
// the inventory and catalog, rule ids against the catalog.
func LoadWaivers(path string, inv *inventory.Inventory, cat *catalog.Catalog) (*Waivers, error) {
	data, err := yamlfile.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseWaivers(path, data, inv, cat)
}

// ParseWaivers reads waivers from data; name is used in errors.
func ParseWaivers(name string, data []byte, inv *inventory.Inventory, cat *catalog.Catalog) (*Waivers, error) {
	var y yWaivers
	if errs := yamlfile.Parse(name, data, &y); errs != nil {
		return nil, errs
	}
	var errs yamlfile.ErrorList
	errf := func(line int, format string, a ...any) {
		errs = append(errs, &yamlfile.ParseError{File: name, Line: line, Err: fmt.Errorf(format, a...)})
	}
	ws := &Waivers{File: name}
	for _, yw := range yamlfile.DecodeList[yWaiver](name, "waivers", &y.Waivers, &errs) {
		at := func(k string) int { return yamlfile.LineOf(yw.lines, k, yw.line) }
		w := &Waiver{Client: yw.Client, Server: yw.Server, Rule: yw.Rule, Reason: strings.TrimSpace(yw.Reason),
			Ticket: strings.TrimSpace(yw.Ticket), File: name, Line: yw.line}
		ok := true
		if w.Reason == "" || w.Ticket == "" {
			errf(yw.line, "a waiver needs a reason and a ticket")
			ok = false
		}
		if yw.Expires != "" {
			d, err := time.Parse("2006-01-02", strings.TrimSpace(yw.Expires))
			if err != nil {
				errf(at("expires"), "expires %q: want a date such as 2027-03-31", yw.Expires)
				ok = false
			}
			w.Expires = d.AddDate(0, 0, 1) // the end of that day
		}
		if w.Rule != "" {
			if yw.Client != "" || yw.Server != "" || yw.Proto != "" || yw.Port != "" {
				errf(yw.line, "a rule waiver names only the rule, not client, server, proto or port")
				ok = false
			}
			if cat.Rule(w.Rule) == nil {
				errf(at("rule"), "unknown rule %q%s", w.Rule, catalog.DidYouMean(w.Rule, ruleIDs(cat)))
				ok = false
			}
		} else {
			if yw.Client == "" && yw.Server == "" && yw.Proto == "" && yw.Port == "" {
				errf(yw.line, "a waiver must name a rule, or at least one of client, server, proto and port")
				ok = false
			}
			var err error
			if w.client, err = parseMatcher(yw.Client, inv, cat); err != nil {
				errf(at("client"), "client: %v", err)
				ok = false
			}
			if w.server, err = parseMatcher(yw.Server, inv, cat); err != nil {
				errf(at("server"), "server: %v", err)
				ok = false
			}
			portless := false // proto names a protocol without ports
			if yw.Proto != "" {
				if w.Proto, err = catalog.ParseProto(yw.Proto); err != nil {
					errf(at("proto"), "%v", err)
					ok = false
				} else {
					portless = !catalog.HasPorts(w.Proto)
				}
				w.HasProto = true
			}
			if w.Ports, err = catalog.ParsePorts(string(yw.Port)); err != nil {
				errf(at("port"), "%v", err)
				ok = false
			} else if len(w.Ports) > 0 && portless {
				// It would match nothing, and be listed as unused
				// instead of the finding it was written for.
				errf(at("port"), "port %s: %s has no ports; leave port out", yw.Port, yw.Proto)
				ok = false
			}
		}
		if ok {
			ws.List = append(ws.List, w)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return ws, nil
}

func ruleIDs(cat *catalog.Catalog) []string {
	out := make([]string, 0, len(cat.Rules()))
	for _, r := range cat.Rules() {
		out = append(out, r.ID)
	}
	return out
}

func parseMatcher(s string, inv *inventory.Inventory, cat *catalog.Catalog) (matcher, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "any") {
		return matcher{any: true}, nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return matcher{prefix: netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())}, nil
	}
	if p, err := netip.ParsePrefix(s); err == nil {
		if p.Masked() != p {
			return matcher{}, fmt.Errorf("address block %q has host bits set (did you mean %s?)", s, p.Masked())
		}
		return matcher{prefix: inventory.UnmapPrefix(p)}, nil
	}
	if inv != nil && inv.Host(s) != nil {
		return matcher{host: s}, nil
	}
	// Role names resolve within the pilot's products, as in the inventory.
	role, mode, err := cat.LookupRoleIn(s, inv.Scope())
	if errors.Is(err, catalog.ErrAmbiguousRole) {
		return matcher{}, err
	}
	if err != nil {
		var names []string
		if inv != nil {
			for _, h := range inv.Hosts {
				names = append(names, h.Name)
			}
		}
		return matcher{}, fmt.Errorf("%q is not an address, an inventory host or a role%s", s, catalog.DidYouMean(s, append(names, cat.RoleNamesIn(inv.Scope())...)))
	}
	return matcher{role: catalog.Endpoint{Role: role, Mode: mode}}, nil
}

func (w *Waiver) matchesFlow(f *Flow) bool {
	if w.Rule != "" {
		if !f.Blocked {
			return false
		}
		for _, r := range f.Rules {
			if r.ID == w.Rule {
				return true
			}
		}
		return false
	}
	if w.HasProto && w.Proto != f.Proto {
		return false
	}
	if len(w.Ports) > 0 && (!catalog.HasPorts(f.Proto) || !catalog.PortsContain(w.Ports, f.Port)) {
		return false
	}
	return w.client.match(f.Client, f.ClientHost) && w.server.match(f.Server, f.ServerHost)
}

// covers says whether every address from lo to hi matches: "any", or a
// block holding both (and so all between). A host or role names its
// addresses one by one, and a sweep's servers are not all kept, so it
// covers no server extent.
func (m matcher) covers(lo, hi netip.Addr) bool {
	switch {
	case m.any:
		return true
	case m.prefix.IsValid():
		return lo.IsValid() && hi.IsValid() && m.prefix.Contains(lo.Unmap()) && m.prefix.Contains(hi.Unmap())
	}
	return false
}

// overlaps says whether the matcher names some of the addresses lo to
// hi: a block reaching into them; a host or role only when the waiver
// names the port (portNamed), written for the sweep rather than for one
// of the client's services.
func (m matcher) overlaps(lo, hi netip.Addr, portNamed bool) bool {
	if !lo.IsValid() || !hi.IsValid() {
		return false
	}
	lo, hi = lo.Unmap(), hi.Unmap()
	switch {
	case m.any:
		return true
	case m.prefix.IsValid():
		first := m.prefix.Masked().Addr()
		return m.prefix.Contains(lo) || m.prefix.Contains(hi) || (lo.Less(first) && first.Less(hi))
	}
	return portNamed
}

// portsCover says whether the union of ws holds every port of r.
func portsCover(ws []catalog.PortRange, r catalog.PortRange) bool {
	p := int(r.Lo)
	for p <= int(r.Hi) {
		next := -1
		for _, w := range ws {
			if int(w.Lo) <= p && p <= int(w.Hi) && int(w.Hi) > next {
				next = int(w.Hi)
			}
		}
		if next < 0 {
			return false
		}
		p = next + 1
	}
	return true
}

// CoversSweep says whether the waiver accepts the whole sweep: its
// protocol, every port swept, the client, and every server the sweep
// could have touched. A "ports" sweep has one server, matched as a
// service's; a "hosts" sweep's servers are its extent (ServerLo to
// ServerHi, exact even when the count is approximate), which only "any"
// or an address block holding it covers: a waiver naming a host or a
// role cannot be shown to cover servers not kept one by one. A rule
// waiver covers no sweep.
func (w *Waiver) CoversSweep(s *Sweep) bool {
	if w.Rule != "" {
		return false
	}
	if w.HasProto && w.Proto != s.Proto {
		return false
	}
	if len(w.Ports) > 0 {
		if !catalog.HasPorts(s.Proto) || len(s.Ports) == 0 {
			return false
		}
		for _, r := range s.Ports {
			if !portsCover(w.Ports, r) {
				return false
			}
		}
	}
	if !w.client.match(s.Client, s.ClientHost) {
		return false
	}
	if s.Kind == "ports" {
		return w.server.match(s.Server, s.ServerHost)
	}
	return w.server.covers(s.ServerLo, s.ServerHi)
}

// nearSweep says why w, written for the sweep's client and protocol,
// does not cover it: "" when w is not meant for it (another client,
// protocol, port or server) or covers it.
func (w *Waiver) nearSweep(s *Sweep) string {
	if w.Rule != "" || w.HasProto && w.Proto != s.Proto || !w.client.match(s.Client, s.ClientHost) || w.CoversSweep(s) {
		return ""
	}
	some := len(w.Ports) == 0 // the waiver's ports hold at least one of the sweep's
	for _, r := range s.Ports {
		for _, p := range w.Ports {
			if p.Lo <= r.Hi && r.Lo <= p.Hi {
				some = true
			}
		}
	}
	if !some {
		return ""
	}
	if s.Kind == "ports" {
		if !w.server.match(s.Server, s.ServerHost) {
			return ""
		}
		return fmt.Sprintf("waiver %s (%s) holds only some of the ports swept (%s): a port sweep is waived when every port is", w.Ticket, w.Where(), s.PortsText())
	}
	if w.server.covers(s.ServerLo, s.ServerHi) || !w.server.overlaps(s.ServerLo, s.ServerHi, len(w.Ports) > 0) {
		return ""
	}
	return fmt.Sprintf("waiver %s (%s) does not cover every server swept (%s to %s): only a waiver with any server, or an address block holding them all, waives a host sweep",
		w.Ticket, w.Where(), s.ServerLo.Unmap(), s.ServerHi.Unmap())
}

// ApplySweeps marks the result's sweeps a waiver covers entirely
// (CoversSweep) as waived, in the file's order as for services: an
// expired waiver leaves the sweep a finding and says so, and a later
// waiver in force still applies. A waiver used only by sweeps leaves
// the unused list. ws may be nil.
func (ws *Waivers) ApplySweeps(res *Result, now time.Time) {
	if ws == nil {
		return
	}
	for _, s := range res.Sweeps {
		w, expired := ws.decide(now, func(w *Waiver) bool {
			if w.CoversSweep(s) {
				return true
			}
			if h := w.nearSweep(s); h != "" {
				s.Hints = append(s.Hints, h)
			}
			return false
		})
		if w != nil {
			s.Waiver, s.WaiverExpired = w, expired
		}
	}
	for _, s := range res.Sweeps {
		if s.Waived() {
			s.Hints = nil // a waiver in force covers it: the near misses do not matter
		}
	}
	unused := res.UnusedWaivers[:0]
	for _, w := range res.UnusedWaivers {
		if !w.Used {
			unused = append(unused, w)
		}
	}
	res.UnusedWaivers = unused
}

// decide is the waiver that decides a finding the waivers covers says
// they cover, in the file's order: the first in force, else the last
// expired one (nil: none covers it). Each waiver that covers it up to
// that one counts as used.
func (ws *Waivers) decide(now time.Time, covers func(*Waiver) bool) (w *Waiver, expired bool) {
	for _, c := range ws.List {
		if !covers(c) {
			continue
		}
		c.Used = true
		w, expired = c, c.Expired(now)
		if !expired {
			break
		}
	}
	return w, expired
}

// apply marks waived findings; an expired waiver leaves the finding
// standing and says so.
func (ws *Waivers) apply(res *Result, _ *inventory.Inventory, now time.Time) {
	for _, f := range res.Flows {
		if !f.Finding() {
			continue
		}
		if w, expired := ws.decide(now, func(w *Waiver) bool { return w.matchesFlow(f) }); w != nil {
			f.Waiver, f.WaiverExpired = w, expired
			if !expired {
				f.Status = Waived
			}
		}
	}
	for _, m := range res.Missing {
		if w, expired := ws.decide(now, func(w *Waiver) bool { return w.Rule == m.Rule.ID }); w != nil {
			m.Waiver, m.WaiverExpired = w, expired
		}
	}
	for _, w := range ws.List {
		if !w.Used {
			res.UnusedWaivers = append(res.UnusedWaivers, w)
		}
	}
	sortFlows(res.Flows)
}
