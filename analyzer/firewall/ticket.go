package firewall

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/flowaudit/flowaudit/catalog"
)

// TicketHeader is the CSV columns: one row per line, then one per waived
// rule (action "waived").
var TicketHeader = []string{"line", "source_object", "source_addresses", "destination_object", "destination_addresses",
	"proto", "ports", "action", "status", "justification", "rule_ids"}

// CSV writes one row per line for a spreadsheet, then the waived rules.
func (r *Request) CSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(TicketHeader); err != nil {
		return err
	}
	for _, l := range r.Lines {
		row := []string{fmt.Sprint(l.N), l.Src.Name, strings.Join(l.Src.AddressStrings(), " "), l.Dst.Name,
			strings.Join(l.Dst.AddressStrings(), " "), l.ProtoName(), l.PortsText(), "accept", l.StatusText(),
			strings.Join(ruleTexts(l), "\n"), strings.Join(l.RuleIDs(), " ")}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	for _, wr := range r.Waived {
		row := []string{"", wr.Rule.From.String(), "", wr.Rule.To.String(), "", strings.Join(wr.Rule.ProtocolNames(), "+"),
			catalog.FormatPorts(wr.Rule.Ports), "waived", string(wr.Status), wr.Text(), wr.Rule.ID}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// Markdown writes the request for the change ticket: the header, the
// lines, the address objects and the waived rules.
func (r *Request) Markdown(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("# Firewall change request\n\n")
	for i, h := range r.HeaderLines() {
		if i == 0 {
			fmt.Fprintf(bw, "**%s**\n\n", mdText(h))
			continue
		}
		fmt.Fprintf(bw, "- %s\n", mdText(h))
	}
	bw.WriteString("\n## Lines\n\n")
	if len(r.Lines) == 0 {
		bw.WriteString("None.\n")
	} else {
		bw.WriteString("| # | source | destination | protocol | ports | action | status | justification | rules |\n")
		bw.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
		for _, l := range r.Lines {
			just := make([]string, len(l.Why))
			for i, j := range l.Why {
				just[i] = mdText(j.Text())
			}
			fmt.Fprintf(bw, "| %d | %s | %s | %s | %s | accept | %s | %s | %s |\n", l.N, mdObject(l.Src), mdObject(l.Dst),
				l.ProtoName(), l.PortsText(), l.StatusText(), strings.Join(just, "<br>"), strings.Join(l.RuleIDs(), ", "))
		}
	}
	bw.WriteString("\n## Address objects\n\n")
	if len(r.Objects) == 0 {
		bw.WriteString("None.\n")
	} else {
		bw.WriteString("| object | kind | addresses | hosts |\n| --- | --- | --- | --- |\n")
		for _, o := range r.Objects {
			fmt.Fprintf(bw, "| `%s` | %s | %s | %s |\n", o.Name, o.Kind, mdText(strings.Join(o.AddressStrings(), ", ")), mdText(strings.Join(o.Hosts, ", ")))
		}
	}
	bw.WriteString("\n## Waived, left out\n\n")
	if len(r.Waived) == 0 {
		bw.WriteString("None.\n")
	}
	for _, wr := range r.Waived {
		fmt.Fprintf(bw, "- %s\n", mdText(wr.Text()))
	}
	return bw.Flush()
}

// mdObject is "`name` (addresses)", or "any".
func mdObject(o *Object) string {
	if o.IsAny() {
		return "any"
	}
	return fmt.Sprintf("`%s` (%s)", o.Name, mdText(strings.Join(o.AddressStrings(), ", ")))
}

func mdText(s string) string {
	s = oneLine(s)
	return strings.NewReplacer("|", "\\|", "*", "\\*", "_", "\\_", "`", "\\`", "<", "&lt;", ">", "&gt;", "[", "\\[", "]", "\\]").Replace(s)
}

type jsonRequest struct {
	Tool       string       `json:"tool"`
	Version    string       `json:"version"`
	Note       string       `json:"note"`
	Inventory  string       `json:"inventory"`
	Inputs     []string     `json:"inputs"`
	Evidence   bool         `json:"evidence"`
	Only       string       `json:"only"`
	GroupBy    string       `json:"group_by"`
	Rules      int          `json:"catalog_rules"`
	Applicable int          `json:"applicable_rules"`
	Warnings   []string     `json:"warnings"`
	Lines      []jsonLine   `json:"lines"`
	Objects    []jsonObject `json:"objects"`
	Waived     []jsonWaived `json:"waived"`
	Expired    []jsonWaived `json:"expired_waivers"`
}

type jsonLine struct {
	Line          int             `json:"line"`
	SourceObject  string          `json:"source_object"`
	SourceAddrs   []string        `json:"source_addresses"`
	DestObject    string          `json:"destination_object"`
	DestAddrs     []string        `json:"destination_addresses"`
	Proto         string          `json:"proto"`
	Ports         [][2]uint16     `json:"ports"`
	Action        string          `json:"action"`
	Status        []Status        `json:"status"`
	Justification []jsonJustified `json:"justification"`
	RuleIDs       []string        `json:"rule_ids"`
}

type jsonJustified struct {
	Rule        string   `json:"rule"`
	Product     string   `json:"product"`
	Reverse     bool     `json:"reverse"`
	Source      string   `json:"source"`
	Description string   `json:"description"`
	Direction   string   `json:"direction,omitempty"`
	Status      Status   `json:"status"`
	Services    int      `json:"services"`
	Connections int      `json:"connections"`
	Established int      `json:"established"`
	FirstSeen   string   `json:"first_seen,omitempty"`
	FirstFile   string   `json:"first_file,omitempty"`
	FirstFrame  uint64   `json:"first_frame,omitempty"`
	FirstUID    string   `json:"first_uid,omitempty"` // no frame: the Zeek uid of the first record from a conn.log
	BlockedBy   []string `json:"blocked_by,omitempty"`
	NamesSeen   []string `json:"names_seen,omitempty"`
}

type jsonObject struct {
	Name      string   `json:"name"`
	Kind      string   `json:"kind"`
	Label     string   `json:"label"`
	Addresses []string `json:"addresses"`
	Hosts     []string `json:"hosts"`
	FQDN      string   `json:"fqdn,omitempty"`
}

type jsonWaived struct {
	Rule    string `json:"rule"`
	Ticket  string `json:"ticket"`
	Reason  string `json:"reason"`
	Expires string `json:"expires,omitempty"`
	Where   string `json:"where,omitempty"`
	Status  Status `json:"status"`
}

// JSON writes the request as indented JSON.
func (r *Request) JSON(w io.Writer) error {
	out := jsonRequest{Tool: "flowaudit", Version: r.Version, Note: r.HeaderLines()[0], Inventory: r.Inventory, Inputs: strs(r.Inputs),
		Evidence: r.Evidence, Only: string(r.Only), GroupBy: r.GroupBy, Rules: r.Rules, Applicable: r.Applicable,
		Warnings: strs(r.Warnings), Lines: []jsonLine{}, Objects: []jsonObject{}, Waived: waivedJSON(r.Waived), Expired: waivedJSON(r.Expired)}
	for _, l := range r.Lines {
		jl := jsonLine{Line: l.N, SourceObject: l.Src.Name, SourceAddrs: l.Src.AddressStrings(), DestObject: l.Dst.Name,
			DestAddrs: l.Dst.AddressStrings(), Proto: l.ProtoName(), Ports: [][2]uint16{}, Action: "accept", Status: l.Status, RuleIDs: l.RuleIDs()}
		for _, p := range l.Ports {
			jl.Ports = append(jl.Ports, [2]uint16{p.Lo, p.Hi})
		}
		for _, j := range l.Why {
			e := j.Evidence
			jl.Justification = append(jl.Justification, jsonJustified{Rule: j.Rule.ID, Product: j.Rule.Product, Reverse: j.Reverse,
				Source: j.Rule.SourceText(), Description: j.Rule.Description, Direction: j.Rule.Direction, Status: j.Status,
				Services: e.Services, Connections: e.Connections, Established: e.Established, FirstSeen: timeText(e.FirstSeen),
				FirstFile: e.FirstFile, FirstFrame: e.FirstFrame, FirstUID: e.FirstUID,
				BlockedBy: e.BlockedBy, NamesSeen: e.Seen})
		}
		out.Lines = append(out.Lines, jl)
	}
	for _, o := range r.Objects {
		out.Objects = append(out.Objects, jsonObject{Name: o.Name, Kind: o.Kind, Label: o.Label, Addresses: o.AddressStrings(),
			Hosts: strs(o.Hosts), FQDN: o.FQDN})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(&out)
}

func waivedJSON(ws []*WaivedRule) []jsonWaived {
	out := []jsonWaived{}
	for _, w := range ws {
		out = append(out, jsonWaived{Rule: w.Rule.ID, Ticket: w.Ticket, Reason: w.Reason, Expires: w.Expiry, Where: w.Where, Status: w.Status})
	}
	return out
}

func strs(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// timeText is RFC 3339 in UTC with microseconds, as the analyze report
// writes times; "" for the zero time.
func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000000Z")
}
