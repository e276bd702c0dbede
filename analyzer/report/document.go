package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/flowaudit/flowaudit/analyzer/diff"
)

// Document is a report as its JSON document: what `analyze -f json`
// writes and what ReadDocument reads back (for `flowaudit diff`). The
// aliases name the JSON types for other packages, so a field added to the
// JSON report is there for them too.
type (
	Document        = jsonReport
	DocumentFlow    = jsonFlow
	DocumentMissing = jsonMissing
	DocumentCapture = jsonCapture
	DocumentFile    = jsonFile
	DocumentCatalog = jsonCatalog
	DocumentWaiver  = jsonWaiver
	DocumentRule    = jsonRule
	DocumentSweep   = jsonSweep
	DocumentBlock   = jsonBlock
)

// maxDocumentSize bounds a JSON report read back into memory, as the
// firewall request's reader does; a variable so tests can lower it.
var maxDocumentSize int64 = 512 << 20

// ReadDocument reads a JSON report written by `analyze -f json`; name is
// used in error messages. Fields it does not know are ignored (a report
// from a newer flowaudit still reads), but the document must say it is a
// flowaudit report.
func ReadDocument(name string, r io.Reader) (*Document, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxDocumentSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if int64(len(data)) > maxDocumentSize {
		return nil, fmt.Errorf("%s: larger than %d MiB: not an analyze report", name, maxDocumentSize>>20)
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff")) // a UTF-8 byte order mark (a Windows editor's)
	dec := json.NewDecoder(bytes.NewReader(data))
	var d Document
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("%s: %w", name, positioned(data, err))
	}
	if d.Tool != "flowaudit" {
		return nil, fmt.Errorf("%s: not a flowaudit analyze JSON report (tool %q)", name, d.Tool)
	}
	if d.Flows == nil {
		// Another flowaudit document (a diff, a rules request) or a
		// fragment says "tool": "flowaudit" too; read as a report it
		// would be an analysis that saw nothing, and every service of
		// the other side would be new.
		return nil, fmt.Errorf("%s: not a flowaudit analyze JSON report (%s)", name, otherDocument(data))
	}
	if dec.More() {
		return nil, fmt.Errorf("%s: offset %d: data after the report's JSON object", name, dec.InputOffset())
	}
	return &d, nil
}

// otherDocument says what a JSON document with "tool": "flowaudit" but
// without a report's "flows" list is, for the error.
func otherDocument(data []byte) string {
	var keys map[string]json.RawMessage
	if json.Unmarshal(data, &keys) == nil {
		switch {
		case keys["changes"] != nil:
			return "it is a flowaudit diff report: compare the analyze reports it was made from"
		case keys["lines"] != nil:
			return "it is a flowaudit rules request"
		}
	}
	return `no "flows" list: want the JSON of flowaudit analyze -f json`
}

// positioned adds the line and column to a JSON decoding error.
func positioned(data []byte, err error) error {
	var off int64 = -1
	switch e := err.(type) {
	case *json.SyntaxError:
		off = e.Offset
	case *json.UnmarshalTypeError:
		off = e.Offset
	}
	if off < 0 || off > int64(len(data)) {
		return err
	}
	if off > 0 {
		off-- // the offset is past the byte at fault
	}
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := off - int64(bytes.LastIndexByte(data[:off], '\n'))
	return fmt.Errorf("line %d, column %d: %w", line, col, err)
}

// DiffReport is the document as `flowaudit diff` compares it; name says
// where it came from.
func (d *Document) DiffReport(name string) *diff.Report {
	r := &diff.Report{Name: name, Identity: diff.Identity{Version: d.Version, Generated: d.Generated,
		CatalogFiles: d.Catalog.Files, Products: d.Catalog.Products, Rules: d.Catalog.Rules}}
	r.Identity.Incomplete = d.Incomplete
	r.Identity.IncludeNoise = d.IncludeNoise
	r.Identity.InferRoles = d.InferRoles
	for _, w := range d.Sweeps {
		r.Sweeps = append(r.Sweeps, diff.Sweep{Kind: w.Kind, Client: w.Client, ClientHost: w.ClientHost, Server: w.Server,
			ServerHost: w.ServerHost, Proto: w.Proto, Ports: portList(w.Ports), Servers: w.Servers, Connections: w.Connections,
			Waived: w.Status == "waived"})
		if w.Waiver != nil {
			r.Sweeps[len(r.Sweeps)-1].Waiver, r.Sweeps[len(r.Sweeps)-1].WaiverExpired = w.Waiver.Ticket, w.Waiver.Expired
		}
	}
	if d.Inventory != nil {
		r.Identity.Inventory = &diff.File{Path: d.Inventory.Path, SHA256: d.Inventory.SHA256}
	}
	for _, l := range d.NameLogs {
		r.Identity.NameLogs = append(r.Identity.NameLogs, diff.File{Path: l.Path, SHA256: l.SHA256})
	}
	for _, c := range d.Captures {
		r.Identity.Captures = append(r.Identity.Captures, diff.File{Path: c.Path, SHA256: c.SHA256})
	}
	for _, f := range d.Flows {
		s := diff.Service{Client: f.Client, Server: f.Server, ClientHost: f.ClientHost, ServerHost: f.ServerHost,
			Proto: f.Proto, Port: f.Port, Status: f.Status, Outcome: f.Outcome, Blocked: f.Blocked, Connections: f.Connections}
		for _, rule := range f.Rules {
			s.Rules = append(s.Rules, rule.ID)
		}
		if f.Waiver != nil {
			s.Waiver, s.WaiverExpired = f.Waiver.Ticket, f.Waiver.Expired
		}
		r.Services = append(r.Services, s)
	}
	for _, m := range d.Missing {
		mr := diff.MissingRule{Rule: m.Rule, Proto: m.Proto, Clients: m.Clients, Servers: m.Servers,
			Optional: m.Optional, Description: m.Description}
		mr.Ports = portList(m.Ports)
		if m.Waiver != nil {
			mr.Waiver, mr.WaiverExpired, mr.Waived = m.Waiver.Ticket, m.Waiver.Expired, !m.Waiver.Expired
		}
		r.Missing = append(r.Missing, mr)
	}
	return r
}

// portList is "443" or "20001-20030,20009".
func portList(ps [][2]uint16) string {
	var out []string
	for _, p := range ps {
		if p[0] == p[1] {
			out = append(out, strconv.Itoa(int(p[0])))
		} else {
			out = append(out, fmt.Sprintf("%d-%d", p[0], p[1]))
		}
	}
	return strings.Join(out, ",")
}
