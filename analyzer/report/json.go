package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/flowaudit/flowaudit/analyzer/audit"
	"github.com/flowaudit/flowaudit/catalog"
)

// The JSON report. Field names up to "rules" in flowJSON, and the hosts,
// captures and missing names, are the ones scripts depend on; the rest are
// extra and documented in the README.

type jsonReport struct {
	Tool          string             `json:"tool"`
	Version       string             `json:"version"`
	Generated     string             `json:"generated"`
	Complete      bool               `json:"complete"`
	Incomplete    []string           `json:"incomplete"`
	FrameNote     string             `json:"frame_note,omitempty"` // inputs that were flow records: what their findings lack
	Inventory     *jsonFile          `json:"inventory"`
	NameLogs      []jsonNameLog      `json:"name_logs,omitempty"`       // zeek ssl.log, http.log, dns.log whose host names named the conn.log's connections
	NameLogErrors []string           `json:"name_log_errors,omitempty"` // what stopped the reading of a name log ("zeek/dns.log:10: ..."): the report is incomplete
	InferRoles    bool               `json:"infer_roles"`
	IncludeNoise  bool               `json:"include_noise,omitempty"` // --include-noise: noise listed as flows, not counted in noise
	Catalog       jsonCatalog        `json:"catalog"`
	Summary       jsonSummary        `json:"summary"`
	Hosts         []jsonHost         `json:"hosts"`
	Captures      []jsonCapture      `json:"captures"`
	Flows         []jsonFlow         `json:"flows"`
	Sweeps        []jsonSweep        `json:"sweeps"`
	Missing       []jsonMissing      `json:"missing"`
	Unverifiable  []jsonUnverifiable `json:"unverifiable"`
	Noise         []audit.Noise      `json:"noise"`
	UnusedWaivers []jsonWaiver       `json:"unused_waivers"`
	Skipped       map[string]uint64  `json:"skipped_packets"`
	Limits        jsonLimits         `json:"limits"`
}

type jsonFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// jsonNameLog is a Zeek log whose host names named connections; kind is
// ssl, http or dns.
type jsonNameLog struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Kind   string `json:"kind,omitempty"`
}

type jsonCatalog struct {
	Files    []string `json:"files"`
	Products []string `json:"products"`
	Scope    []string `json:"scope,omitempty"` // products hints drew on; absent: every product
	Rules    int      `json:"rules"`
}

type jsonSummary struct {
	Flows           int      `json:"flows"`
	Documented      int      `json:"documented"`
	Undocumented    int      `json:"undocumented"`
	Blocked         int      `json:"blocked"`
	Waived          int      `json:"waived"`
	Missing         int      `json:"missing"`
	OptionalMissing int      `json:"optional_missing"`
	ExpiredWaivers  int      `json:"expired_waivers"`
	Sweeps          int      `json:"sweeps"`
	Unobservable    int      `json:"unobservable_rules"`
	FailOn          []string `json:"fail_on"`
	Findings        int      `json:"findings"`
}

// jsonLimits count what a bound left out of the report.
type jsonLimits struct {
	EvictedConnections      uint64 `json:"evicted_connections"`
	UnaggregatedServices    uint64 `json:"unaggregated_services"`
	UnaggregatedConnections uint64 `json:"unaggregated_connections"`
	// UnaggregatedAtLeast: unaggregated_services is a lower bound.
	UnaggregatedAtLeast bool `json:"unaggregated_services_at_least,omitempty"`
	EvidenceNotWritten  int  `json:"evidence_not_written"`
	MaxConnections      int  `json:"max_connections"`
	MaxServices         int  `json:"max_services"`
	// NameLogOverflow: host names of Zeek's ssl.log and http.log not kept
	// (past the uid bound); left out when none.
	NameLogOverflow uint64 `json:"name_log_overflow,omitempty"`
	// DNSLogOverflow: address answers of Zeek's dns.log not kept (past
	// the same bound); left out when none.
	DNSLogOverflow uint64 `json:"dns_log_overflow,omitempty"`
}

type jsonHost struct {
	Name      string   `json:"name"`
	Addresses []string `json:"addresses"`
	Roles     []string `json:"roles"`
	Inferred  bool     `json:"inferred,omitempty"`
}

type jsonCapture struct {
	Path    string `json:"path"`
	SHA256  string `json:"sha256"`
	Packets uint64 `json:"packets"`
	First   string `json:"first"`
	Last    string `json:"last"`
	Format  string `json:"format"`
	Bytes   uint64 `json:"bytes"`
	Error   string `json:"error,omitempty"`
	// Status: complete, cut-short, damaged or unreadable; offset and
	// frame say where reading stopped (cut-short, damaged, and unreadable
	// at its first record).
	Status          string  `json:"status"`
	Offset          *int64  `json:"offset,omitempty"`
	Frame           *uint64 `json:"frame,omitempty"`
	Analysed        uint64  `json:"analysed_frames"`
	NothingAnalysed string  `json:"nothing_analysed,omitempty"`
	NotDecoded      string  `json:"not_decoded,omitempty"`
	Records         uint64  `json:"records,omitempty"`           // connection records of a flow log (zeek conn.log)
	Uncounted       uint64  `json:"uncounted_records,omitempty"` // records without a packet or byte count (counted as 0)
	OneWay          bool    `json:"one_way,omitempty"`           // NetFlow/IPFIX records none of which saw packets both ways
}

type jsonRule struct {
	ID          string `json:"id"`
	Description string `json:"description"`
	Source      string `json:"source"`      // the documents, as cited
	SourceFile  string `json:"source_file"` // their seed files, or a site rule's catalog file
}

type jsonWaiver struct {
	Ticket  string `json:"ticket"`
	Reason  string `json:"reason"`
	Expires string `json:"expires,omitempty"`
	Expired bool   `json:"expired"`
	Where   string `json:"where"`
}

type jsonFlow struct {
	Client         string      `json:"client"`
	Server         string      `json:"server"`
	Proto          string      `json:"proto"`
	Port           *uint16     `json:"port"`
	ClientRoles    []string    `json:"client_roles"`
	ServerRoles    []string    `json:"server_roles"`
	Status         string      `json:"status"`
	Outcome        string      `json:"outcome"`
	Connections    int         `json:"connections"`
	Packets        *uint64     `json:"packets"` // null: flow records that gave no count
	Bytes          *uint64     `json:"bytes"`
	FirstSeen      string      `json:"first_seen"`
	LastSeen       string      `json:"last_seen"`
	FirstFrame     *uint64     `json:"first_frame"`         // null: from flow records, no frame
	FirstUID       string      `json:"first_uid,omitempty"` // no frame: the first Zeek uid from a conn.log
	Filter         *string     `json:"filter"`              // null: from flow records
	Rules          []jsonRule  `json:"rules"`
	ClientHost     string      `json:"client_host,omitempty"`
	ServerHost     string      `json:"server_host,omitempty"`
	ClientInferred bool        `json:"client_inferred,omitempty"`
	ServerInferred bool        `json:"server_inferred,omitempty"`
	FirstFile      string      `json:"first_file"`
	Blocked        bool        `json:"blocked"`
	Established    int         `json:"established"`
	Rejected       int         `json:"rejected"`
	Unanswered     int         `json:"unanswered"`
	ICMPErrors     uint64      `json:"icmp_errors"`
	Multicast      bool        `json:"multicast,omitempty"`
	ICMPType       *uint16     `json:"icmp_type,omitempty"`
	Hints          []string    `json:"hints,omitempty"`
	Waiver         *jsonWaiver `json:"waiver,omitempty"`
	BlockedBy      *jsonBlock  `json:"blocked_by,omitempty"`
	// Host names of the service's connections with their evidence, the
	// names that documented it by host-pattern rules, and what DNS called
	// the server where a connection named it otherwise.
	Names       []audit.Name      `json:"names,omitempty"`
	NameMatches []audit.NameMatch `json:"name_matches,omitempty"`
	DNSNames    []string          `json:"dns_names,omitempty"`
}

// jsonBlock is a flow's BlockEvidence: what answered instead of the
// server, for a flow that never established.
type jsonBlock struct {
	Kind      string       `json:"kind"`
	Text      string       `json:"text"`
	RSTTTL    *uint8       `json:"rst_ttl,omitempty"`
	ServerTTL *[2]uint8    `json:"server_ttl,omitempty"`
	ICMPType  *uint8       `json:"icmp_type,omitempty"`
	ICMPCode  *uint8       `json:"icmp_code,omitempty"`
	ICMPName  string       `json:"icmp_name,omitempty"`
	ICMPFrom  string       `json:"icmp_from,omitempty"`
	Attempts  *uint64      `json:"attempts,omitempty"`
	Seconds   *json.Number `json:"seconds,omitempty"`
}

// jsonSweep is one sweep: a client that contacted many servers on one
// port (kind "hosts") or many ports of one server (kind "ports").
type jsonSweep struct {
	Kind          string      `json:"kind"`
	Client        string      `json:"client"`
	ClientHost    string      `json:"client_host,omitempty"`
	ClientRoles   []string    `json:"client_roles"`
	Server        string      `json:"server,omitempty"`
	ServerHost    string      `json:"server_host,omitempty"`
	Proto         string      `json:"proto"`
	Ports         [][2]uint16 `json:"ports"`
	Servers       uint64      `json:"servers"`
	ServersApprox bool        `json:"servers_approx,omitempty"`
	// ServerRange is a hosts sweep's lowest and highest server address:
	// the extent a waiver's server side must cover.
	ServerRange []string    `json:"server_range,omitempty"`
	Status      string      `json:"status"` // "sweep", or "waived" when a waiver in force covers it
	Waiver      *jsonWaiver `json:"waiver,omitempty"`
	Hints       []string    `json:"hints,omitempty"` // why a waiver for its client does not cover it
	Connections uint64      `json:"connections"`
	Established uint64      `json:"established"`
	Rejected    uint64      `json:"rejected"`
	Unanswered  uint64      `json:"unanswered"`
	Packets     *uint64     `json:"packets"` // null: flow records that gave no count
	Bytes       *uint64     `json:"bytes"`
	FirstSeen   string      `json:"first_seen"`
	LastSeen    string      `json:"last_seen"`
	FirstFile   string      `json:"first_file"`
	FirstFrame  *uint64     `json:"first_frame"`         // null: from flow records, no frame
	FirstUID    string      `json:"first_uid,omitempty"` // no frame: the first Zeek uid from a conn.log
	Filter      *string     `json:"filter"`              // null: from flow records
}

// countJSON is a service's packet or byte count for JSON: null when its
// flow records gave none (audit.Service.PacketsCounted), not 0.
func countJSON(counted bool, v uint64) *uint64 {
	if !counted {
		return nil
	}
	return &v
}

// frameJSON is a first frame for JSON: null for flow records, which have
// none (0), rather than a frame number 0 no capture has.
func frameJSON(frame uint64) *uint64 {
	if frame == 0 {
		return nil
	}
	return &frame
}

// filterJSON is a Wireshark filter for JSON: null where there is no frame
// to show (flow records).
func filterJSON(filter string) *string {
	if filter == "" {
		return nil
	}
	return &filter
}

func blockJSON(e *audit.BlockEvidence) *jsonBlock {
	if e == nil {
		return nil
	}
	j := &jsonBlock{Kind: e.Kind, Text: e.Text}
	switch e.Kind {
	case audit.BlockHostReset, audit.BlockMiddleboxReset:
		j.RSTTTL, j.ServerTTL = &e.RSTTTL, &[2]uint8{e.ServerTTLMin, e.ServerTTLMax}
	case audit.BlockReset:
		j.RSTTTL = &e.RSTTTL
	case audit.BlockICMP:
		j.ICMPType, j.ICMPCode, j.ICMPName, j.ICMPFrom = &e.ICMPType, &e.ICMPCode, e.ICMPName, e.ICMPFrom.String()
	case audit.BlockNoAnswer:
		sec := json.Number(strconv.FormatFloat(e.Over.Seconds(), 'f', 6, 64))
		j.Attempts, j.Seconds = &e.Attempts, &sec
		if e.Uncounted {
			j.Attempts = nil // flow records without packet counts: not known
		}
	}
	return j
}

func sweepJSON(s *audit.Sweep) jsonSweep {
	j := jsonSweep{Kind: s.Kind, Client: s.Client.Unmap().String(), ClientRoles: Roles(s.ClientHost), Proto: catalog.ProtoName(s.Proto),
		Ports: [][2]uint16{}, Servers: s.Servers, ServersApprox: s.ServersApprox, Connections: s.Connections,
		Established: s.Established, Rejected: s.Rejected, Unanswered: s.Unanswered, Packets: countJSON(s.PacketsCounted(), s.Packets), Bytes: countJSON(s.BytesCounted(), s.Bytes),
		FirstSeen: TS(s.FirstSeen), LastSeen: TS(s.LastSeen), FirstFile: s.FirstFrame.File, FirstFrame: frameJSON(s.FirstFrame.Frame), FirstUID: s.FirstFrame.UID,
		Filter: filterJSON(SweepFilter(s)), Status: "sweep", Waiver: waiverJSON(s.Waiver, s.WaiverExpired), Hints: s.Hints}
	if s.Waived() {
		j.Status = "waived"
	}
	if s.Kind == "hosts" && s.ServerLo.IsValid() {
		j.ServerRange = []string{s.ServerLo.Unmap().String(), s.ServerHi.Unmap().String()}
	}
	j.ClientHost = hostName(s.ClientHost)
	if s.Server.IsValid() {
		j.Server = s.Server.Unmap().String()
		j.ServerHost = hostName(s.ServerHost)
	}
	for _, p := range s.Ports {
		j.Ports = append(j.Ports, [2]uint16{p.Lo, p.Hi})
	}
	return j
}

type jsonMissing struct {
	Rule        string      `json:"rule"`
	Product     string      `json:"product"`
	FromRole    string      `json:"from_role"`
	ToRole      string      `json:"to_role"`
	Proto       string      `json:"proto"`
	Ports       [][2]uint16 `json:"ports"`
	Optional    bool        `json:"optional"`
	Clients     []string    `json:"clients"`
	Servers     []string    `json:"servers"`
	Description string      `json:"description"`
	Source      string      `json:"source"`
	SourceFile  string      `json:"source_file"`
	Waiver      *jsonWaiver `json:"waiver,omitempty"`
	// Caveat: the report is incomplete, so the flow may be in the part
	// not read.
	Caveat string `json:"caveat,omitempty"`
}

type jsonUnverifiable struct {
	Rule   string `json:"rule"`
	Reason string `json:"reason"`
}

func waiverJSON(w *audit.Waiver, expired bool) *jsonWaiver {
	if w == nil {
		return nil
	}
	return &jsonWaiver{Ticket: w.Ticket, Reason: w.Reason, Expires: w.ExpiryText(), Expired: expired, Where: w.Where()}
}

func names(hs []string) []string {
	if hs == nil {
		return []string{}
	}
	return hs
}

// JSON writes the report as indented JSON.
func (r *Report) JSON(w io.Writer) error { return writeIndented(w, r.Document()) }

// Document is the report as its JSON document, what JSON writes.
func (r *Report) Document() *Document {
	c := r.counts()
	out := jsonReport{
		Tool: r.Tool, Version: r.Version, Generated: TS(r.Generated),
		Catalog: jsonCatalog{Files: names(r.CatalogFiles), Products: names(r.Products), Scope: r.Scope, Rules: r.Result.Rules},
		Summary: jsonSummary{Flows: len(r.Result.Flows), Documented: r.DocumentedCount(), Undocumented: c.Undocumented, Blocked: c.Blocked,
			Waived: c.Waived, Missing: c.Missing, OptionalMissing: c.MissingOptional, ExpiredWaivers: c.ExpiredWaivers,
			Sweeps: c.Sweeps, Unobservable: r.Result.Unobservable, FailOn: names(r.FailOn), Findings: r.FindingCount()},
		Hosts: []jsonHost{}, Captures: []jsonCapture{}, Flows: []jsonFlow{}, Sweeps: []jsonSweep{}, Missing: []jsonMissing{},
		Unverifiable: []jsonUnverifiable{}, Noise: r.Result.Noise, UnusedWaivers: []jsonWaiver{}, Skipped: r.Skipped,
	}
	out.Incomplete = names(r.Incomplete())
	out.FrameNote = r.FrameNote()
	out.Complete = len(out.Incomplete) == 0
	l := r.Limits
	out.Limits = jsonLimits{EvictedConnections: l.EvictedConnections, UnaggregatedServices: l.UnaggregatedServices,
		UnaggregatedConnections: l.UnaggregatedConnections, UnaggregatedAtLeast: l.UnaggregatedServicesMore,
		MaxConnections: l.MaxConnections, MaxServices: l.MaxServices, EvidenceNotWritten: l.EvidenceNotWritten,
		NameLogOverflow: l.NameLogOverflow, DNSLogOverflow: l.DNSLogOverflow}
	if out.Noise == nil {
		out.Noise = []audit.Noise{}
	}
	if out.Skipped == nil {
		out.Skipped = map[string]uint64{}
	}
	if r.Inventory != "" {
		out.Inventory = &jsonFile{r.Inventory, r.InventorySHA}
	}
	for _, l := range r.NameLogs {
		out.NameLogs = append(out.NameLogs, jsonNameLog(l))
	}
	out.NameLogErrors = r.NameLogErrors
	out.InferRoles = r.InferRoles
	out.IncludeNoise = r.IncludeNoise
	for _, h := range r.Hosts {
		out.Hosts = append(out.Hosts, jsonHost{Name: h.Name, Addresses: h.AddressStrings(), Roles: h.RoleNames(), Inferred: h.Inferred})
	}
	for _, cp := range r.Captures {
		jc := jsonCapture{Path: cp.Path, SHA256: cp.SHA256, Packets: cp.Packets,
			First: TS(cp.First), Last: TS(cp.Last), Format: cp.Format, Bytes: cp.Bytes, Error: cp.Error,
			Status: cp.Status, Analysed: cp.Analysed, NothingAnalysed: cp.NothingAnalysed, NotDecoded: cp.NotDecoded,
			Records: cp.Records, Uncounted: cp.Uncounted, OneWay: cp.OneWay}
		if jc.Status == "" {
			jc.Status = StatusComplete
		}
		if jc.Status == StatusCutShort || jc.Status == StatusDamaged || jc.Status == StatusUnreadable && cp.Frame > 0 {
			off, frame := cp.Offset, cp.Frame
			jc.Offset, jc.Frame = &off, &frame
		}
		out.Captures = append(out.Captures, jc)
	}
	for _, f := range r.Result.Flows {
		jf := jsonFlow{
			Client: f.Client.Unmap().String(), Server: f.Server.Unmap().String(), Proto: catalog.ProtoName(f.Proto), Port: Port(f),
			ClientRoles: Roles(f.ClientHost), ServerRoles: Roles(f.ServerHost), Status: string(f.Status), Outcome: string(f.Outcome),
			Connections: f.Connections, Packets: countJSON(f.PacketsCounted(), f.Packets), Bytes: countJSON(f.BytesCounted(), f.Bytes), FirstSeen: TS(f.FirstSeen), LastSeen: TS(f.LastSeen),
			FirstFrame: frameJSON(f.FirstFrame.Frame), FirstUID: f.FirstFrame.UID, Filter: filterJSON(Filter(f)), Rules: []jsonRule{}, FirstFile: f.FirstFrame.File,
			Blocked: f.Blocked && f.Status != audit.Undocumented, Established: f.Established, Rejected: f.Rejected, Unanswered: f.Unanswered,
			ICMPErrors: f.ICMPErrors, Multicast: f.Multicast, Hints: f.Hints, Waiver: waiverJSON(f.Waiver, f.WaiverExpired),
			BlockedBy: blockJSON(f.BlockedBy), Names: f.Names, NameMatches: f.NameMatches, DNSNames: f.DNSNames,
		}
		if f.ClientHost != nil {
			jf.ClientHost = f.ClientHost.Name
			jf.ClientInferred = Inferred(f.ClientHost)
		}
		if f.ServerHost != nil {
			jf.ServerHost = f.ServerHost.Name
			jf.ServerInferred = Inferred(f.ServerHost)
		}
		if f.Proto == 1 || f.Proto == 58 {
			t := f.Port
			jf.ICMPType = &t
		}
		for _, rule := range f.Rules {
			jf.Rules = append(jf.Rules, jsonRule{rule.ID, rule.Description, rule.SourceText(), rule.SourceFiles()})
		}
		out.Flows = append(out.Flows, jf)
	}
	for _, sw := range r.Result.Sweeps {
		out.Sweeps = append(out.Sweeps, sweepJSON(sw))
	}
	for _, m := range r.Result.Missing {
		jm := jsonMissing{Rule: m.Rule.ID, Product: m.Rule.Product, FromRole: m.Rule.From.String(), ToRole: m.Rule.To.String(),
			Proto: catalog.ProtoName(m.Proto), Ports: [][2]uint16{}, Optional: m.Optional(), Clients: []string{}, Servers: []string{},
			Description: m.Rule.Description, Source: m.Rule.SourceText(), SourceFile: m.Rule.SourceFiles(), Waiver: waiverJSON(m.Waiver, m.WaiverExpired)}
		if !out.Complete {
			jm.Caveat = incompleteNote
		}
		if catalog.HasPorts(m.Proto) {
			for _, p := range m.Rule.Ports {
				jm.Ports = append(jm.Ports, [2]uint16{p.Lo, p.Hi})
			}
		}
		for _, h := range m.Clients {
			jm.Clients = append(jm.Clients, h.Name)
		}
		for _, h := range m.Servers {
			jm.Servers = append(jm.Servers, h.Name)
		}
		sort.Strings(jm.Clients)
		sort.Strings(jm.Servers)
		out.Missing = append(out.Missing, jm)
	}
	for _, u := range r.Result.Unverifiable {
		out.Unverifiable = append(out.Unverifiable, jsonUnverifiable{u.Rule.ID, u.Reason})
	}
	for _, wv := range r.Result.UnusedWaivers {
		out.UnusedWaivers = append(out.UnusedWaivers, *waiverJSON(wv, false))
	}
	return &out
}

// writeIndented writes a struct as an indented JSON object, as
// json.Encoder with SetIndent("", "  ") would, but one element at a time
// for list fields: a report of a large capture holds hundreds of thousands
// of flows, and the whole document is never built in memory.
func writeIndented(w io.Writer, v any) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	rv := reflect.ValueOf(v).Elem()
	rt := rv.Type()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	encode := func(x any, prefix string) ([]byte, error) {
		buf.Reset()
		enc.SetIndent(prefix, "  ")
		if err := enc.Encode(x); err != nil {
			return nil, err
		}
		return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
	}
	bw.WriteString("{")
	sep := "\n"
	for i := 0; i < rt.NumField(); i++ {
		tag := strings.Split(rt.Field(i).Tag.Get("json"), ",")
		name := tag[0]
		fv := rv.Field(i)
		if len(tag) > 1 && tag[1] == "omitempty" && fv.IsZero() {
			continue
		}
		bw.WriteString(sep)
		sep = ",\n"
		fmt.Fprintf(bw, "  %q: ", name)
		if fv.Kind() == reflect.Slice && fv.Len() > 0 {
			bw.WriteString("[\n")
			for j := 0; j < fv.Len(); j++ {
				b, err := encode(fv.Index(j).Interface(), "    ")
				if err != nil {
					return err
				}
				bw.WriteString("    ")
				bw.Write(b)
				if j < fv.Len()-1 {
					bw.WriteByte(',')
				}
				bw.WriteByte('\n')
			}
			bw.WriteString("  ]")
		} else {
			b, err := encode(fv.Interface(), "  ")
			if err != nil {
				return err
			}
			bw.Write(b)
		}
	}
	bw.WriteString("\n}\n")
	return bw.Flush()
}
