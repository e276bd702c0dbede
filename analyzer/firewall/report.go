package firewall

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/flowaudit/flowaudit/catalog"
)

// maxReportSize bounds an analyze report read into memory.
const maxReportSize = 512 << 20

// ReportInfo is what a request says of the analyze report it was built
// from.
type ReportInfo struct {
	Tool, Version, Generated string
	Captures                 []string
	// NameLogs are the Zeek ssl.log, http.log and dns.log files whose
	// host names named the analysis's connections (name_logs).
	NameLogs        []string
	InventorySHA256 string   // "" when the analysis had no inventory
	Products        []string // the analysis's --product
	CatalogFiles    []string
	// Incomplete says what the analysis did not read or keep (a capture
	// cut short, connections not kept); empty for a complete one.
	Incomplete []string
}

// The analyze JSON report, as much of it as a request needs. Unknown
// fields are ignored: a newer report has more.
type analyzeReport struct {
	Tool      string `json:"tool"`
	Version   string `json:"version"`
	Generated string `json:"generated"`
	Captures  []struct {
		Path string `json:"path"`
	} `json:"captures"`
	NameLogs []struct {
		Path string `json:"path"`
	} `json:"name_logs"`
	Inventory *struct {
		SHA256 string `json:"sha256"`
	} `json:"inventory"`
	Catalog struct {
		Files    []string `json:"files"`
		Products []string `json:"products"`
	} `json:"catalog"`
	Flows      *[]reportFlow `json:"flows"`
	Complete   *bool         `json:"complete"`
	Incomplete []string      `json:"incomplete"`
}

type reportFlow struct {
	Client      string `json:"client"`
	Server      string `json:"server"`
	Proto       string `json:"proto"`
	Port        *int   `json:"port"`
	Status      string `json:"status"`
	Connections int    `json:"connections"`
	Established int    `json:"established"`
	Outcome     string `json:"outcome"`
	FirstSeen   string `json:"first_seen"`
	FirstFile   string `json:"first_file"`
	FirstFrame  uint64 `json:"first_frame"`
	FirstUID    string `json:"first_uid"`
	Multicast   bool   `json:"multicast"`
	Blocked     *bool  `json:"blocked"`
	Rules       []struct {
		ID string `json:"id"`
	} `json:"rules"`
	Waiver *struct {
		Ticket  string `json:"ticket"`
		Reason  string `json:"reason"`
		Expired bool   `json:"expired"`
	} `json:"waiver"`
	BlockedBy   json.RawMessage `json:"blocked_by"`
	NameMatches []struct {
		Rule     string `json:"rule"`
		Name     string `json:"name"`
		Evidence string `json:"evidence"`
	} `json:"name_matches"`
}

// ReadReport reads the documented services of an analyze JSON report
// (flowaudit analyze -f json). name is used in errors.
func ReadReport(name string, r io.Reader) ([]Observation, *ReportInfo, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxReportSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > maxReportSize {
		return nil, nil, fmt.Errorf("%s: larger than %d MiB: not an analyze report", name, maxReportSize>>20)
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff")) // a UTF-8 byte order mark (a Windows editor's)
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 && t[0] != '{' {
		// A capture, a CSV report or a conn.log given to --from-report:
		// say what it wants, not where the JSON syntax broke.
		return nil, nil, fmt.Errorf("%s: not a flowaudit analyze JSON report (it does not start with '{'; a capture or a conn.log goes to --capture)", name)
	}
	var rep analyzeReport
	if err := json.Unmarshal(data, &rep); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, jsonPosition(data, err))
	}
	if rep.Tool != "flowaudit" || rep.Flows == nil {
		return nil, nil, fmt.Errorf("%s: not a flowaudit analyze JSON report (want \"tool\": \"flowaudit\" and a \"flows\" list)", name)
	}
	info := &ReportInfo{Tool: rep.Tool, Version: rep.Version, Generated: rep.Generated,
		Products: rep.Catalog.Products, CatalogFiles: rep.Catalog.Files}
	if rep.Inventory != nil {
		info.InventorySHA256 = rep.Inventory.SHA256
	}
	if rep.Complete != nil && !*rep.Complete {
		info.Incomplete = rep.Incomplete
		if len(info.Incomplete) == 0 {
			info.Incomplete = []string{"the report says it is incomplete"}
		}
	}
	for _, c := range rep.Captures {
		info.Captures = append(info.Captures, c.Path)
	}
	for _, l := range rep.NameLogs {
		info.NameLogs = append(info.NameLogs, l.Path)
	}
	var out []Observation
	for i, f := range *rep.Flows {
		if f.Status == "undocumented" || len(f.Rules) == 0 {
			continue
		}
		o, err := f.observation()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: flows[%d]: %w", name, i, err)
		}
		out = append(out, o)
	}
	return out, info, nil
}

func (f *reportFlow) observation() (Observation, error) {
	var o Observation
	var err error
	if o.Client, err = netip.ParseAddr(f.Client); err != nil {
		return o, fmt.Errorf("client: %w", err)
	}
	if o.Server, err = netip.ParseAddr(f.Server); err != nil {
		return o, fmt.Errorf("server: %w", err)
	}
	o.Client, o.Server = o.Client.Unmap(), o.Server.Unmap()
	if o.Proto, err = catalog.ParseProto(f.Proto); err != nil {
		return o, err
	}
	if f.Port != nil {
		if *f.Port < 0 || *f.Port > 65535 {
			return o, fmt.Errorf("port %d out of range", *f.Port)
		}
		o.Port = uint16(*f.Port)
	}
	if f.FirstSeen != "" {
		if o.FirstSeen, err = time.Parse(time.RFC3339Nano, f.FirstSeen); err != nil {
			return o, fmt.Errorf("first_seen: %w", err)
		}
	}
	o.Connections, o.Established = f.Connections, f.Established
	o.FirstFile, o.FirstFrame, o.FirstUID, o.Multicast = f.FirstFile, f.FirstFrame, f.FirstUID, f.Multicast
	if f.Blocked != nil {
		o.Blocked = *f.Blocked
	} else {
		o.Blocked = f.Outcome != "established" && !f.Multicast
	}
	o.Waived = f.Status == "waived"
	if f.Waiver != nil && !f.Waiver.Expired {
		o.Ticket, o.WaiverReason = f.Waiver.Ticket, f.Waiver.Reason
	}
	for _, r := range f.Rules {
		o.Rules = append(o.Rules, r.ID)
	}
	o.BlockedBy = blockedByText(f.BlockedBy)
	for _, m := range f.NameMatches {
		o.NameMatches = append(o.NameMatches, NameMatch{Rule: m.Rule, Name: m.Name, Evidence: m.Evidence})
	}
	return o, nil
}

// blockedByText renders the report's "blocked_by", a string or an object
// of evidence, as one line.
func blockedByText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) == nil {
		for _, k := range []string{"text", "summary", "description", "reason"} {
			if v, ok := m[k].(string); ok && v != "" {
				return v
			}
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s=%v", k, m[k]))
		}
		return strings.Join(parts, " ")
	}
	var c bytes.Buffer
	if json.Compact(&c, raw) == nil {
		return c.String()
	}
	return ""
}

// jsonPosition adds "line L, offset N" to a JSON decoding error.
func jsonPosition(data []byte, err error) error {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 || off > int64(len(data)) {
		return err
	}
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	return fmt.Errorf("line %d (offset %d): %w", line, off, err)
}
