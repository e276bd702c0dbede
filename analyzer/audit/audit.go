// Package audit labels the services seen in captures against the catalog
// and the inventory: documented (and by which rules), undocumented (and
// what came closest), blocked (documented but never established), and the
// documented flows between the roles present that never appeared.
package audit

import (
	"fmt"
	"maps"
	"net/netip"
	"path"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/inventory"
	"github.com/flowaudit/flowaudit/analyzer/prefault"
	"github.com/flowaudit/flowaudit/catalog"
)

// Frame names one packet: a capture file and its 1-based frame number.
// From a sensor's records there is no packet (Frame 0): UID is then the
// Zeek uid of the earliest connection from a conn.log, if any, which finds
// the evidence in Zeek's logs.
type Frame struct {
	File  string
	Frame uint64
	UID   string
}

// Service is every connection between one client and one server over one
// protocol and server port, as the flow tracker aggregated them.
type Service struct {
	Client, Server netip.Addr
	Proto          uint8
	Port           uint16 // server port; 0 for port-less protocols
	Connections    int
	Established    int
	Rejected       int
	Unanswered     int
	Packets        uint64
	Bytes          uint64
	ICMPErrors     uint64 // ICMP errors that quoted its connections, counted in Packets
	FirstSeen      time.Time
	LastSeen       time.Time
	FirstFrame     Frame

	// NoPackets and NoBytes are the connections whose flow records gave
	// no packet, or no byte, count, taken as 0 in Packets and Bytes (see
	// PacketsCounted, BytesCounted).
	NoPackets, NoBytes int

	// Evidence of who answered for the server (see BlockEvidence).
	ClientPackets uint64 // packets the client sent: SYNs or datagrams when unanswered
	ServerTTLMin  uint8  // lowest and highest TTL of the server's packets other than RSTs (0: none seen)
	ServerTTLMax  uint8
	RSTTTL        uint8      // TTL of the server's first RST
	RSTs          int        // connections the server's address reset
	ICMPFrom      netip.Addr // sender of the first ICMP error
	ICMPType      uint8
	ICMPCode      uint8
	ICMPName      string // its type and code by name

	// Names are the host names its connections were for, each with its
	// evidence (see Evidence*); DNSNames what DNS called the server where
	// that differs from a connection's own name (SNI, Host).
	Names    []Name
	DNSNames []string
}

// Name is a host name some of a service's connections were for.
type Name struct {
	Name        string `json:"name"`
	Evidence    string `json:"evidence"`
	Connections int    `json:"connections"`
}

// Evidence of a connection's host name, strongest first: the TLS
// server_name (SNI) or HTTP Host header the connection sent, a DNS answer
// the client received before it started, any other DNS answer for the
// server's address.
const (
	EvidenceSNI      = "sni"
	EvidenceHTTPHost = "http-host"
	EvidenceDNS      = "dns"
	EvidenceDNSOther = "dns (other client)"
	evidenceUnknown  = 9
)

// EvidenceRank orders evidence: SNI and HTTP Host (0, authoritative), DNS
// to the client (1), DNS to another client (2).
func EvidenceRank(e string) int {
	switch e {
	case EvidenceSNI, EvidenceHTTPHost:
		return 0
	case EvidenceDNS:
		return 1
	case EvidenceDNSOther:
		return 2
	}
	return evidenceUnknown
}

// NameMatch is the evidence that a host-pattern rule documents a flow: the
// host name of its connections and where that name came from.
type NameMatch struct {
	Rule     string `json:"rule"`
	Name     string `json:"name"`
	Evidence string `json:"evidence"`
}

// Status is a service's label.
type Status string

// Statuses.
const (
	Documented   Status = "documented"
	Undocumented Status = "undocumented"
	Waived       Status = "waived"
)

// Outcome is the best outcome among a service's connections.
type Outcome string

// Outcomes, best first.
const (
	Established Outcome = "established"
	Rejected    Outcome = "rejected"
	Unanswered  Outcome = "unanswered"
)

// Outcome of the service: established > rejected > unanswered.
func (s *Service) Outcome() Outcome {
	switch {
	case s.Established > 0:
		return Established
	case s.Rejected > 0:
		return Rejected
	}
	return Unanswered
}

// PacketsCounted says whether the service's Packets count anything:
// false when every connection came from a flow record that gave no packet
// count (the sum is not a zero seen but a count unknown).
func (s *Service) PacketsCounted() bool { return s.NoPackets < s.Connections || s.Connections == 0 }

// BytesCounted is PacketsCounted for Bytes.
func (s *Service) BytesCounted() bool { return s.NoBytes < s.Connections || s.Connections == 0 }

// Flow is a labelled service. It points to the service it labels, in
// the slice Audit was given (a copy would cost a scan's hundred thousand
// services their size again): the services must not change afterwards.
type Flow struct {
	*Service
	ClientHost, ServerHost *inventory.Host // nil when not in the inventory
	Status                 Status
	Outcome                Outcome
	Rules                  []*catalog.Rule // every rule that documents it, by id
	Blocked                bool            // documented but never established
	Multicast              bool            // to a broadcast or multicast address
	Hints                  []string        // why undocumented, what came closest
	Waiver                 *Waiver         // the waiver that accepted it, or an expired one
	WaiverExpired          bool
	BlockedBy              *BlockEvidence // what answered instead of the server; nil when established
	// NameMatches say which host names documented the flow by which
	// host-pattern rules (empty when roles or addresses did).
	NameMatches []NameMatch
}

// Finding says whether the flow is a finding: undocumented or blocked and
// not waived.
func (f *Flow) Finding() bool {
	return f.Status == Undocumented || f.Status == Documented && f.Blocked
}

// Missing is a documented flow, between roles present in the inventory,
// that was never attempted.
type Missing struct {
	Rule          *catalog.Rule
	Proto         uint8
	Clients       []*inventory.Host // hosts of the from role; empty for Any
	Servers       []*inventory.Host // hosts of the to role; empty for Any or an address
	Waiver        *Waiver
	WaiverExpired bool
}

// Optional says whether the rule is optional.
func (m *Missing) Optional() bool { return m.Rule.Optional }

// Unverifiable is a rule that applies to the inventory but whose
// destination cannot be seen by address in a capture.
type Unverifiable struct {
	Rule   *catalog.Rule
	Reason string
}

// Noise counts traffic summarized rather than listed: neighbour discovery,
// link-local name resolution, group management.
type Noise struct {
	Kind        string `json:"kind"`
	Services    int    `json:"services"`
	Connections uint64 `json:"connections"`
	Packets     uint64 `json:"packets"`
}

// Options steer an audit.
type Options struct {
	// Products: only rules of these products (and site rules, which are
	// always in scope); empty for all.
	Products []string
	// Scope is the products hints draw on ("443/tcp is documented for
	// ..."): those of the inventory's roles. The zero Scope: Products, or
	// every product.
	Scope        catalog.Scope
	IncludeNoise bool      // list noise as flows instead of summarizing it
	Now          time.Time // waivers expire against this time
	Waivers      *Waivers
	// Workers bounds the cores a large audit labels on (0: every core);
	// 1 while another core is busy with work that must not wait (a
	// capture's digest), which a second worker would take turns with.
	Workers int
}

// Result is an audit's answer.
type Result struct {
	Flows        []*Flow // sorted by status, then client, server, proto, port
	Missing      []*Missing
	Unverifiable []*Unverifiable
	Noise        []Noise
	// UnusedWaivers matched nothing: stale entries to remove.
	UnusedWaivers []*Waiver
	// Unobservable counts rules that apply but whose traffic never reaches
	// the wire (loopback).
	Unobservable int
	Rules        int // rules considered (after the product filter)
	// Sweeps are clients that contacted many servers on one port, or many
	// ports of one server: their services are summarized here, not in
	// Flows.
	Sweeps []*Sweep
}

// Counts of each kind of finding.
type Counts struct {
	Documented, Undocumented, Blocked, Waived, Missing, MissingOptional, ExpiredWaivers int
	Sweeps                                                                              int // not waived
}

// Counts tallies the result.
func (r *Result) Counts() Counts {
	var c Counts
	for _, f := range r.Flows {
		switch f.Status {
		case Documented:
			c.Documented++
			if f.Blocked {
				c.Blocked++
			}
		case Undocumented:
			c.Undocumented++
		case Waived:
			c.Waived++
		}
		if f.WaiverExpired {
			c.ExpiredWaivers++
		}
	}
	for _, s := range r.Sweeps {
		switch {
		case s.Waived():
			c.Waived++
			continue
		case s.WaiverExpired:
			c.ExpiredWaivers++
		}
		c.Sweeps++
	}
	for _, m := range r.Missing {
		if m.Waiver != nil && !m.WaiverExpired {
			c.Waived++
			continue
		}
		if m.WaiverExpired {
			c.ExpiredWaivers++
		}
		if m.Optional() {
			c.MissingOptional++
		} else {
			c.Missing++
		}
	}
	return c
}

// AddNoise adds housekeeping counted outside the flows (ARP, which is not
// IP) to the noise summary, keeping it sorted by kind.
func (r *Result) AddNoise(kind string, packets uint64) {
	if packets == 0 {
		return
	}
	r.Noise = append(r.Noise, Noise{Kind: kind, Packets: packets})
	sort.SliceStable(r.Noise, func(i, j int) bool { return r.Noise[i].Kind < r.Noise[j].Kind })
}

type protoPort struct {
	proto uint8
	port  uint16
}

type auditor struct {
	cat   *catalog.Catalog
	inv   *inventory.Inventory
	rules []*catalog.Rule
	opts  Options
	ports *portRuns // the runs of ports the same rules cover
	seen  flowRules // what the flows labelled showed (labelAll)
	bcast map[netip.Addr]bool
	// hintScope limits the rules hints name to the products in scope.
	hintScope catalog.Scope
	c         caches // this core's
}

// Audit labels services and finds what never appeared.
func Audit(services []Service, inv *inventory.Inventory, cat *catalog.Catalog, opts Options) *Result {
	if inv == nil {
		inv = inventory.New()
	}
	a := &auditor{cat: cat, inv: inv, opts: opts, bcast: map[netip.Addr]bool{}}
	products := catalog.NewScope(opts.Products...)
	for _, r := range cat.Rules() {
		if products.HasRule(r) {
			a.rules = append(a.rules, r)
		}
	}
	a.ports = newPortRuns(a.rules)
	a.hintScope = opts.Scope
	if a.hintScope.All() {
		a.hintScope = products
	}
	for _, h := range inv.Hosts {
		for _, p := range h.Addresses {
			if !p.IsSingleIP() && p.Addr().Is4() && p.Bits() < 31 {
				a.bcast[lastAddr(p)] = true
			}
		}
	}
	res := &Result{Rules: len(a.rules)}
	noise := map[string]*Noise{}
	flows := make([]*Service, 0, len(services))
	for i := range services {
		s := &services[i]
		if kind := noiseKind(s); kind != "" && !opts.IncludeNoise {
			n := noise[kind]
			if n == nil {
				n = &Noise{Kind: kind}
				noise[kind] = n
			}
			n.Services++
			n.Connections += uint64(s.Connections)
			n.Packets += s.Packets
			continue
		}
		flows = append(flows, s)
	}
	res.Flows = a.labelAll(flows)
	for _, k := range slices.Sorted(maps.Keys(noise)) {
		res.Noise = append(res.Noise, *noise[k])
	}
	sortFlows(res.Flows)
	a.missing(res)
	if opts.Waivers != nil {
		opts.Waivers.apply(res, inv, opts.Now)
	}
	return res
}

// isBroadcast says whether addr reaches many hosts: multicast, the limited
// broadcast, or the last address of an inventory block.
func (a *auditor) isBroadcast(addr netip.Addr) bool {
	addr = addr.Unmap()
	return addr.IsMulticast() || addr == netip.AddrFrom4([4]byte{255, 255, 255, 255}) || a.bcast[addr]
}

// sideMatches says whether a host (or address) fits a rule side.
func sideMatches(ep catalog.Endpoint, h *inventory.Host, addr netip.Addr) bool {
	switch {
	case ep.Role != nil:
		return h.Plays(ep)
	case len(ep.Addrs) > 0:
		return ep.MatchesAddr(addr)
	case ep.Host != "":
		return h != nil && hostMatches(ep.Host, h.Name)
	}
	return true // Any
}

// hostMatches matches a host pattern against a host name, case-
// insensitively and without trailing dots. A leading "*" stands for one or
// more characters, dots included, so "*.digicert.com" matches
// ocsp.digicert.com and a.b.digicert.com but neither digicert.com nor
// digicert.com.evil.example, and "*xt.blob.core.windows.net" matches
// accountxt.blob.core.windows.net. Other wildcards match within a label
// (path.Match); a pattern without one matches only the same name.
func hostMatches(pattern, name string) bool {
	pattern = strings.TrimSuffix(strings.ToLower(pattern), ".")
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	if suffix, ok := strings.CutPrefix(pattern, "*"); ok && !strings.ContainsAny(suffix, "*?[\\") {
		return len(name) > len(suffix) && strings.HasSuffix(name, suffix)
	}
	if !strings.ContainsAny(pattern, "*?[\\") {
		return pattern == name
	}
	ok, err := path.Match(pattern, name)
	return err == nil && ok
}

// ruleMatches says whether rule r documents service s between hosts ch and
// sh. Broadcast and multicast match by the sender's role: the receivers are
// every host of the destination role.
func (a *auditor) ruleMatches(r *catalog.Rule, s *Service, ch, sh *inventory.Host, multicast bool) bool {
	to := func(ep catalog.Endpoint, h *inventory.Host, addr netip.Addr) bool {
		if multicast && (ep.Role != nil || ep.IsAny()) {
			return true
		}
		return sideMatches(ep, h, addr)
	}
	if sideMatches(r.From, ch, s.Client) && to(r.To, sh, s.Server) {
		return true
	}
	// A bidirectional rule may be opened from either side.
	return r.Bidirectional && !multicast && sideMatches(r.To, ch, s.Client) && sideMatches(r.From, sh, s.Server)
}

// labelChunk is the fewest services a core labels on its own: below it,
// starting a goroutine costs more than it saves.
const labelChunk = 4096

// labelAll labels the services, in order, on every core: each core takes
// a run of them with an auditor whose caches are its own (label reads the
// rules, the inventory and the catalog and writes nothing else), so the
// flows are what one auditor labelling them in turn makes. A scan's tens
// of thousands of undocumented services are labelled in half the time on
// two cores, the second one free once analyze's digest is done.
func (a *auditor) labelAll(services []*Service) []*Flow {
	out := make([]*Flow, len(services))
	// Each core allocates (and clears) its run of flows at once, not
	// one by one.
	run := func(a *auditor, from, to int) {
		a.c = newCaches()
		flows := make([]Flow, to-from)
		prefault.Slice(flows)
		for i := from; i < to; i++ {
			f := &flows[i-from]
			a.label(services[i], f)
			out[i] = f
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(services)/labelChunk)
	if a.opts.Workers > 0 {
		workers = min(workers, a.opts.Workers)
	}
	if workers <= 1 {
		run(a, 0, len(services))
		a.seen = a.c.seen
		return out
	}
	per := (len(services) + workers - 1) / workers
	var wg sync.WaitGroup
	var ws []*auditor
	for from := 0; from < len(services); from += per {
		to := min(from+per, len(services))
		w := *a
		ws = append(ws, &w)
		wg.Go(func() { run(&w, from, to) })
	}
	wg.Wait()
	a.seen = newFlowRules()
	for _, w := range ws {
		maps.Copy(a.seen.documented, w.c.seen.documented)
		maps.Copy(a.seen.attempted, w.c.seen.attempted)
	}
	return out
}

// label labels service s into f.
func (a *auditor) label(s *Service, f *Flow) {
	*f = Flow{
		Service:    s,
		ClientHost: a.lookupClient(s.Client),
		ServerHost: a.inv.Lookup(s.Server),
		Outcome:    s.Outcome(),
		Multicast:  a.isBroadcast(s.Server),
	}
	cs := a.candidates(s.Proto, s.Port)
	f.Rules = a.matching(cs, s, f.ClientHost, f.ServerHost, f.Multicast)
	byRule := len(f.Rules)
	nameHints := a.byName(f, cs.rules)
	if f.Outcome != Established && !f.Multicast {
		f.BlockedBy = a.c.evidence.new()
		readBlockEvidence(f.BlockedBy, s)
	}
	if len(f.Rules) > 0 {
		if len(f.Rules) > byRule { // byName added some: a copy, not the cached slice
			slices.SortFunc(f.Rules, byID)
		}
		f.Status = Documented
		// A broadcast or multicast is never answered from the address it
		// was sent to, so it cannot be blocked: it is documented by its
		// sender's role and that is all.
		f.Blocked = f.Outcome != Established && !f.Multicast
		return
	}
	f.Status = Undocumented
	f.Hints = a.c.strs.copy(a.hints(nameHints, f, cs))
}

// strongestNames are the names of a service with its strongest evidence.
func strongestNames(s *Service) []Name {
	best := evidenceUnknown
	for _, n := range s.Names {
		best = min(best, EvidenceRank(n.Evidence))
	}
	var out []Name
	for _, n := range s.Names {
		if EvidenceRank(n.Evidence) == best {
			out = append(out, n)
		}
	}
	return out
}

// byName adds to f the host-pattern rules its host names match: the rules
// among cands whose destination is a host pattern and whose source fits
// the client. Only the names of the strongest evidence count (SNI and HTTP
// Host over DNS to the client, over DNS to others), and every one of them
// must match one of these rules: a connection that named another host is
// undocumented, whatever DNS called the address. It returns hints for an
// undocumented flow: the names no rule matched, and the DNS name they
// contradict.
func (a *auditor) byName(f *Flow, cands []*catalog.Rule) []string {
	if len(f.Names) == 0 || f.Multicast {
		return nil
	}
	var hostRules []*catalog.Rule
	for _, r := range cands {
		if r.To.Host != "" && sideMatches(r.From, f.ClientHost, f.Client) && !slices.Contains(f.Rules, r) {
			hostRules = append(hostRules, r)
		}
	}
	names := strongestNames(f.Service)
	var matches []NameMatch
	var matched []*catalog.Rule
	var unmatched []Name
	for _, n := range names {
		found := false
		for _, r := range hostRules {
			if hostMatches(r.To.Host, n.Name) {
				matches = append(matches, NameMatch{Rule: r.ID, Name: n.Name, Evidence: n.Evidence})
				if !slices.Contains(matched, r) {
					matched = append(matched, r)
				}
				found = true
			}
		}
		if !found {
			unmatched = append(unmatched, n)
		}
	}
	if len(unmatched) == 0 {
		f.Rules = append(f.Rules, matched...)
		for _, r := range matched {
			a.c.seen.documented[ruleProto{r, f.Proto}] = true
		}
		f.NameMatches = matches
		return nil
	}
	if len(hostRules) == 0 {
		return nil
	}
	var hints []string
	for _, n := range unmatched {
		h := fmt.Sprintf("host name %s (%s) matches no host rule of %s for this client", n.Name, n.Evidence, ServiceName(f.Proto, f.Port))
		for _, d := range f.DNSNames {
			for _, r := range hostRules {
				if hostMatches(r.To.Host, d) {
					h = fmt.Sprintf("%s %s contradicts DNS, which called %s %s: %s (%s) is not applied", n.Evidence, n.Name, f.Server, d, r.ID, r.To.Host)
					break
				}
			}
		}
		if !slices.Contains(hints, h) {
			hints = append(hints, h)
		}
	}
	return hints
}

// hints explain an undocumented flow: which hosts have no role, which
// roles the port is documented for, and which rules between these roles
// exist on other ports.
// They follow the hints given (byName's), in a scratch slice the caller
// copies.
func (a *auditor) hints(given []string, f *Flow, cs *candSet) []string {
	out := append(a.c.scratch[:0], given...)
	defer func() { a.c.scratch = out[:0] }()
	if f.ClientHost == nil {
		if f.Client != a.c.lastClientHintAddr || a.c.lastClientHint == "" {
			a.c.lastClientHintAddr, a.c.lastClientHint = f.Client, noRoleHint(a.c.clientHint, "client", f.Client)
		}
		out = append(out, a.c.lastClientHint)
	}
	if f.ServerHost == nil && !f.Multicast {
		out = append(out, noRoleHint(a.c.serverHint, "server", f.Server))
	}
	pp := protoPort{f.Proto, f.Port}
	if !catalog.HasPorts(f.Proto) {
		pp.port = 0
	}
	h, ok := a.c.portHint[pp]
	if !ok {
		suffix, ok := a.c.portSuffix[cs.key]
		if !ok {
			suffix = a.portHintText(cs.rules)
			a.c.portSuffix[cs.key] = suffix
		}
		h = ServiceName(f.Proto, f.Port) + suffix
		a.c.portHint[pp] = h
	}
	out = append(out, h)
	if f.ServerHost != nil {
		k := hintKey{f.ClientHost, f.ServerHost, cs.key}
		c, ok := a.c.closestHint[k]
		if !ok {
			c = a.closestText(f)
			a.c.closestHint[k] = c
		}
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}

// wideRule says whether a rule's ports are picked at random or span more
// than 20,000 ports.
func wideRule(r *catalog.Rule) bool {
	if r.Dynamic {
		return true
	}
	for _, p := range r.Ports {
		if int(p.Hi)-int(p.Lo) > 20000 {
			return true
		}
	}
	return false
}

// portHintText says which roles a port, covered by the candidate rules
// cands, is documented for: the hint without the service name it starts
// with ("443/tcp").
func (a *auditor) portHintText(cands []*catalog.Rule) string {
	others := len(cands)
	cands = a.inHintScope(cands)
	others -= len(cands)
	// Rules with randomly picked or very wide port ranges say little about
	// this port; name them only when nothing narrower documents it.
	var narrow []*catalog.Rule
	for _, r := range cands {
		if !wideRule(r) {
			narrow = append(narrow, r)
		}
	}
	documentedFor := "is documented for"
	if len(narrow) > 0 {
		cands = narrow
	} else if len(cands) > 0 {
		documentedFor = "falls only in wide or randomly picked port ranges, of"
	}
	if len(cands) == 0 {
		if others > 0 {
			return fmt.Sprintf(" is not documented for any role of %s (other products document it: --all-products names them)", a.hintScope)
		}
		if !a.hintScope.All() {
			return fmt.Sprintf(" is not documented for any role of %s", a.hintScope)
		}
		return " is not documented for any role"
	}
	pairs := map[string]bool{}
	var list []string
	for _, r := range cands {
		p := r.From.String() + " → " + r.To.String()
		if !pairs[p] {
			pairs[p] = true
			list = append(list, p)
		}
	}
	sort.Strings(list)
	more := ""
	if len(list) > 4 {
		more = fmt.Sprintf(" and %d more", len(list)-4)
		list = list[:4]
	}
	return fmt.Sprintf(" %s %s%s", documentedFor, strings.Join(list, "; "), more)
}

// inHintScope is the rules of the products in the hint scope.
func (a *auditor) inHintScope(rules []*catalog.Rule) []*catalog.Rule {
	if a.hintScope.All() {
		return rules
	}
	var out []*catalog.Rule
	for _, r := range rules {
		if a.hintScope.HasRule(r) {
			out = append(out, r)
		}
	}
	return out
}

// closestText names the rules between the two hosts' roles on other ports;
// failing those, the rules that let any host reach the server's role.
func (a *auditor) closestText(f *Flow) string {
	var closest, fromAny []string
	for _, c := range a.closeRules(f.ClientHost, f.ServerHost) {
		if c.r.HasProto(f.Proto) && c.r.CoversPort(f.Proto, f.Port) {
			continue
		}
		if c.fromAny {
			fromAny = append(fromAny, c.desc)
		} else {
			closest = append(closest, c.desc)
		}
	}
	if len(closest) == 0 {
		closest = fromAny
	}
	if len(closest) == 0 {
		return ""
	}
	sort.Strings(closest)
	more := ""
	if len(closest) > 3 {
		more = fmt.Sprintf(" and %d more", len(closest)-3)
		closest = closest[:3]
	}
	return fmt.Sprintf("closest rules between these roles: %s%s", strings.Join(closest, ", "), more)
}

// closeRule is a rule closestText may name, "c-login (tcp/443)".
type closeRule struct {
	r       *catalog.Rule
	desc    string
	fromAny bool
}

// closeRules are the rules closestText may name between two hosts, on
// any port: to the server's role (not wide), from the client's or from
// any host; in the catalog's order. Rule ids are unique, so each
// description is named once.
func (a *auditor) closeRules(ch, sh *inventory.Host) []closeRule {
	k := [2]*inventory.Host{ch, sh}
	if cs, ok := a.c.closeRules[k]; ok {
		return cs
	}
	var cs []closeRule
	for _, r := range a.rules {
		if !a.hintScope.HasRule(r) || !sh.Plays(r.To) || wideRule(r) {
			continue
		}
		fromAny := r.From.IsAny()
		if fromAny || ch != nil && ch.Plays(r.From) {
			cs = append(cs, closeRule{r, r.ID + " (" + protoPorts(r) + ")", fromAny})
		}
	}
	a.c.closeRules[k] = cs
	return cs
}

func protoPorts(r *catalog.Rule) string {
	ps := catalog.FormatPorts(r.Ports)
	names := strings.Join(r.ProtocolNames(), "+")
	if ps == "" {
		return names
	}
	return names + "/" + ps
}

// ServiceName is "443/tcp", or the protocol name for port-less ones.
func ServiceName(proto uint8, port uint16) string {
	if !catalog.HasPorts(proto) {
		return catalog.ProtoName(proto)
	}
	return strconv.Itoa(int(port)) + "/" + catalog.ProtoName(proto)
}

// missing finds the rules between roles present that were never attempted.
func (a *auditor) missing(res *Result) {
	seen := a.seen
	for _, r := range a.rules {
		if r.From.IsAny() && r.To.IsAny() {
			continue
		}
		var clients, servers []*inventory.Host
		if r.From.Role != nil {
			if clients = a.hostsPlaying(r.From, a.everyMode(r, false)); len(clients) == 0 {
				continue
			}
		}
		switch {
		case r.To.Role != nil:
			if servers = a.hostsPlaying(r.To, a.everyMode(r, true)); len(servers) == 0 {
				continue
			}
		case len(r.To.Addrs) > 0 && allLoopback(r.To.Addrs):
			res.Unobservable++
			continue
		case r.To.Host != "":
			for _, h := range a.inv.Hosts {
				if hostMatches(r.To.Host, h.Name) {
					servers = append(servers, h)
				}
			}
			if len(servers) == 0 {
				if r.From.Role == nil {
					continue
				}
				// Without an inventory host of that name, the capture's
				// own names (DNS answers, SNI, HTTP Host) check the
				// rule, if its clients' traffic held any.
				if !namesFor(res.Flows, clients) {
					res.Unverifiable = append(res.Unverifiable, &Unverifiable{Rule: r,
						Reason: fmt.Sprintf("destination %s is a host name and the capture held no host names (DNS answers, TLS SNI, HTTP Host) for its clients' traffic: name an inventory host %q, or capture the clients' DNS", r.To.Host, r.To.Host)})
					continue
				}
				for _, p := range r.Protocols {
					if !seen.documented[ruleProto{r, p}] {
						res.Missing = append(res.Missing, &Missing{Rule: r, Proto: p, Clients: clients})
					}
				}
				continue
			}
		}
		if r.From.Role != nil && r.To.Role != nil && !distinctPair(clients, servers) {
			continue
		}
		for _, p := range r.Protocols {
			if !seen.attempted[ruleProto{r, p}] {
				res.Missing = append(res.Missing, &Missing{Rule: r, Proto: p, Clients: clients, Servers: servers})
			}
		}
	}
}

// namesFor says whether any flow of the clients given carried a host name.
func namesFor(flows []*Flow, clients []*inventory.Host) bool {
	for _, f := range flows {
		if len(f.Names) > 0 && f.ClientHost != nil && slices.Contains(clients, f.ClientHost) {
			return true
		}
	}
	return false
}

// ruleProto is a rule and one of its protocols.
type ruleProto struct {
	r     *catalog.Rule
	proto uint8
}

// flowRules are the rules the flows showed, by protocol: documented, every
// rule that documents one (Flow.Rules); attempted, those whose sides the
// flow's hosts or addresses fit, on a port of the rule: Flow.Rules but
// for the rules only the flow's host names matched (byName). Labelling
// records them as it finds them, once per pair of hosts rather than per
// flow, so that missing need not go through every flow again for every
// rule.
type flowRules struct {
	documented, attempted map[ruleProto]bool
}

func newFlowRules() flowRules { return flowRules{map[ruleProto]bool{}, map[ruleProto]bool{}} }

// hostsPlaying are the hosts expected to take part in a rule side: those
// playing its role. For a rule written for one mode of a role, hosts given
// that mode are expected; a host given the plain role may use the mode's
// flows (they are documented for it) but is expected to only when plain
// is true: every mode of the role documents the flow.
func (a *auditor) hostsPlaying(ep catalog.Endpoint, plain bool) []*inventory.Host {
	var out []*inventory.Host
	for _, h := range a.inv.Hosts {
		if !h.Plays(ep) {
			continue
		}
		if ep.Mode != "" && !h.PlaysMode(ep) && !(plain && playsPlain(h, ep.Role)) {
			continue
		}
		out = append(out, h)
	}
	return out
}

// playsPlain says whether h was given role r without a mode.
func playsPlain(h *inventory.Host, r *catalog.Role) bool {
	for _, as := range h.Roles {
		if as.Role == r && as.Mode == "" {
			return true
		}
	}
	return false
}

// everyMode says whether a host given the plain role of a rule side
// written for one mode of a role (the destination if toSide) is expected to carry rule r: every mode of the role has a
// rule with the same other side, protocols and ports, so whatever mode
// the host runs in, the flow is needed. It answers for the rule of the
// role's first mode only, so the expectation is counted once.
func (a *auditor) everyMode(r *catalog.Rule, toSide bool) bool {
	ep := r.From
	if toSide {
		ep = r.To
	}
	if ep.Role == nil || ep.Mode == "" || len(ep.Role.Modes) < 2 || ep.Role.Modes[0].ID != ep.Mode {
		return false
	}
	for _, m := range ep.Role.Modes[1:] {
		found := false
		for _, o := range a.rules {
			self, other, rOther := o.From, o.To, r.To
			if toSide {
				self, other, rOther = o.To, o.From, r.From
			}
			if self.Role == ep.Role && self.Mode == m.ID && sameEndpoint(other, rOther) &&
				slices.Equal(o.Protocols, r.Protocols) && slices.Equal(o.Ports, r.Ports) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// sameEndpoint says whether two rule sides name the same role and mode,
// host pattern or addresses.
func sameEndpoint(x, y catalog.Endpoint) bool {
	return x.Role == y.Role && x.Mode == y.Mode && x.Host == y.Host && slices.Equal(x.Addrs, y.Addrs)
}

// distinctPair says whether some client and server are different hosts: a
// rule between two hosts of one role needs two of them.
func distinctPair(clients, servers []*inventory.Host) bool {
	for _, c := range clients {
		for _, s := range servers {
			if c != s {
				return true
			}
		}
	}
	return false
}

func allLoopback(ps []netip.Prefix) bool {
	for _, p := range ps {
		if !p.Addr().IsLoopback() {
			return false
		}
	}
	return true
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	hostBits := 32 - p.Bits()
	for i := 3; i >= 0 && hostBits > 0; i-- {
		n := min(hostBits, 8)
		b[i] |= byte(1<<n - 1)
		hostBits -= n
	}
	return netip.AddrFrom4(b)
}

var (
	linkLocal6 = netip.MustParsePrefix("fe80::/10")
	linkScope6 = netip.MustParsePrefix("ff02::/16")
	mdns4      = netip.MustParseAddr("224.0.0.251")
	llmnr4     = netip.MustParseAddr("224.0.0.252")
	mdns6      = netip.MustParseAddr("ff02::fb")
	llmnr6     = netip.MustParseAddr("ff02::1:3")
)

// noiseKind classifies link-local housekeeping traffic: IPv6 neighbour and
// router discovery, link-local multicast name resolution (LLMNR, mDNS) and
// group management (IGMP, MLD). Everything else is a flow. For ICMPv6 the
// service port is the type of the client's message.
func noiseKind(s *Service) string {
	switch s.Proto {
	case 58: // ICMPv6 within the link: ND and RD (133-137), MLD (130-132, 143)
		switch {
		case s.Port >= 133 && s.Port <= 137:
			return "ipv6-neighbour-discovery"
		case s.Port >= 130 && s.Port <= 132 || s.Port == 143:
			return "mld"
		case linkLocal6.Contains(s.Client) || linkLocal6.Contains(s.Server) || linkScope6.Contains(s.Server) || s.Client.IsUnspecified():
			return "ipv6-neighbour-discovery"
		}
	case 2:
		return "igmp"
	case 17:
		switch {
		case s.Port == 5355:
			return "llmnr"
		case s.Port == 5353 && (s.Server == mdns4 || s.Server == mdns6):
			return "mdns"
		case s.Server == llmnr4 || s.Server == llmnr6:
			return "llmnr"
		}
	}
	return ""
}

// sortFlows sorts flows by status (undocumented, documented, waived),
// then by service (client, server, proto, port), keeping the order of
// equal ones. Services come sorted (the flow tracker's order): then
// grouping them by status is all there is to do.
func sortFlows(fs []*Flow) {
	var n [3]int // flows of each status rank
	byService := true
	for i, f := range fs {
		n[statusRank(f.Status)]++
		if byService && i > 0 && compareServices(fs[i-1], f) > 0 {
			byService = false
		}
	}
	switch {
	case byService && slices.Contains(n[:], len(fs)): // one status
	case byService:
		at := [3]int{0, n[0], n[0] + n[1]} // where each rank's flows start
		grouped := make([]*Flow, len(fs))
		for _, f := range fs {
			r := statusRank(f.Status)
			grouped[at[r]] = f
			at[r]++
		}
		copy(fs, grouped)
	case slices.IsSortedFunc(fs, compareFlows):
	default:
		slices.SortStableFunc(fs, compareFlows)
	}
}

func statusRank(s Status) int {
	switch s {
	case Documented:
		return 1
	case Waived:
		return 2
	}
	return 0 // Undocumented
}

func compareFlows(a, b *Flow) int {
	if ra, rb := statusRank(a.Status), statusRank(b.Status); ra != rb {
		return ra - rb
	}
	return compareServices(a, b)
}

func compareServices(a, b *Flow) int { return compareKeys(a.Service, b.Service) }

// compareKeys orders services as the flow tracker hands them out: by
// client, server, protocol and port.
func compareKeys(a, b *Service) int {
	if c := a.Client.Compare(b.Client); c != 0 {
		return c
	}
	if c := a.Server.Compare(b.Server); c != 0 {
		return c
	}
	if a.Proto != b.Proto {
		return int(a.Proto) - int(b.Proto)
	}
	return int(a.Port) - int(b.Port)
}
