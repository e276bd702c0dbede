// Package connout writes the connections flowaudit flows prints, one per
// finished connection, in the formats flows offers: JSON lines (Zeek
// conn.log field names) and CSV, both with zero-allocation encoders, a
// terminal table printed in pages of TablePage connections, and Zeek's
// conn.log in TSV and JSON (through package zeeklog). What a connection's
// source did not give (a sensor's record: flow.Connection.Unknown, an empty
// conn_state, history or Community ID) is absent in every format — left out
// of JSON, "-" in Zeek's TSV, an empty CSV field, a blank table cell —
// never printed as 0 or "".
package connout

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/decode"
	"github.com/flowaudit/flowaudit/analyzer/flow"
	"github.com/flowaudit/flowaudit/analyzer/zeeklog"
	"github.com/flowaudit/flowaudit/catalog"
	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"
)

// flowRecord is one connection as printed, with Zeek conn.log names.
// ts and duration are decimal seconds with microseconds, as Zeek writes.
// What the connection's source could not give (a sensor's flow record:
// flow.Connection.Unknown, an empty state or Community ID) is left out,
// as Zeek's JSON writer leaves out unset fields.
type flowRecord struct {
	TS          json.Number `json:"ts"`
	UID         string      `json:"uid,omitempty"` // a Zeek conn.log's uid
	OrigH       string      `json:"id.orig_h"`
	OrigP       uint16      `json:"id.orig_p"`
	RespH       string      `json:"id.resp_h"`
	RespP       uint16      `json:"id.resp_p"`
	Proto       string      `json:"proto"`
	Service     string      `json:"service,omitempty"` // a sensor's record: Zeek's service
	Duration    json.Number `json:"duration,omitempty"`
	OrigBytes   *uint64     `json:"orig_bytes,omitempty"`
	RespBytes   *uint64     `json:"resp_bytes,omitempty"`
	ConnState   string      `json:"conn_state,omitempty"`
	LocalOrig   *bool       `json:"local_orig,omitempty"` // a sensor's record: Zeek's local_orig, local_resp
	LocalResp   *bool       `json:"local_resp,omitempty"`
	MissedBytes *uint64     `json:"missed_bytes,omitempty"`
	History     string      `json:"history,omitempty"`
	OrigPkts    *uint64     `json:"orig_pkts,omitempty"`
	OrigIPBytes *uint64     `json:"orig_ip_bytes,omitempty"`
	RespPkts    *uint64     `json:"resp_pkts,omitempty"`
	RespIPBytes *uint64     `json:"resp_ip_bytes,omitempty"`
	VLAN        uint16      `json:"vlan,omitempty"`
	InnerVLAN   uint16      `json:"inner_vlan,omitempty"`
	Tunnel      string      `json:"tunnel,omitempty"`
	CommunityID string      `json:"community_id,omitempty"`
	Outcome     string      `json:"outcome"`
	ClientBy    string      `json:"client_by"`
	ICMPErrors  uint64      `json:"icmp_errors,omitempty"`
	ServerName  string      `json:"server_name,omitempty"`
	NameSource  string      `json:"server_name_source,omitempty"`
	File        string      `json:"file"`
	FirstFrame  uint64      `json:"first_frame,omitempty"` // left out for a sensor's record, which has no frames
	LastFile    string      `json:"last_file,omitempty"`
	LastFrame   uint64      `json:"last_frame,omitempty"`

	start   time.Time // for the table
	fileIdx int
}

// Columns are the CSV header: the JSON lines' keys, in their order, but
// uid last (a Zeek conn.log's uid; empty for a capture's connections).
var Columns = []string{"ts", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service", "duration",
	"orig_bytes", "resp_bytes", "conn_state", "local_orig", "local_resp", "missed_bytes", "history", "orig_pkts", "orig_ip_bytes", "resp_pkts",
	"resp_ip_bytes", "vlan", "inner_vlan", "tunnel", "community_id", "outcome", "client_by", "icmp_errors",
	"server_name", "server_name_source", "file", "first_frame", "last_file", "last_frame", "uid"}

var tunnelNames = [...]string{
	decode.TunnelVXLAN: "vxlan", decode.TunnelGENEVE: "geneve", decode.TunnelGRE: "gre",
	decode.TunnelERSPAN: "erspan", decode.TunnelIPinIP: "ip-in-ip",
}

// tunnelName is the name flows prints for a tunnel; "" for none.
func tunnelName(t decode.Tunnel) string {
	if int(t) < len(tunnelNames) {
		return tunnelNames[t]
	}
	return ""
}

// seconds formats t as Zeek does: seconds since the epoch with six decimals.
func seconds(d time.Duration) json.Number {
	return json.Number(zeeklog.AppendSeconds(nil, d))
}

func makeFlowRecord(c *flow.Connection, paths []string) flowRecord {
	file := func(i int) string {
		if i >= 0 && i < len(paths) {
			return paths[i]
		}
		return ""
	}
	r := flowRecord{
		TS:          seconds(time.Duration(c.Start.UnixNano())),
		UID:         c.UID.String(),
		OrigH:       c.Orig.String(),
		OrigP:       c.OrigPort,
		RespH:       c.Resp.String(),
		RespP:       c.RespPort,
		Proto:       catalog.ProtoName(c.Proto),
		Service:     c.Service,
		ConnState:   c.State,
		LocalOrig:   zeekBool(c.LocalOrig),
		LocalResp:   zeekBool(c.LocalResp),
		History:     c.History,
		VLAN:        c.VLAN,
		InnerVLAN:   c.InnerVLAN,
		Tunnel:      tunnelName(c.Tunnel),
		CommunityID: c.CommunityID,
		Outcome:     c.Outcome.String(),
		ClientBy:    c.ClientBy.String(),
		ICMPErrors:  c.ICMPErrors,
		ServerName:  c.ServerName,
		NameSource:  c.NameSource.String(),
		File:        file(c.FirstPos.File),
		FirstFrame:  c.FirstPos.Frame,
		LastFrame:   c.LastPos.Frame,
		start:       c.Start,
		fileIdx:     c.FirstPos.File,
	}
	if c.LastPos.File != c.FirstPos.File {
		r.LastFile = file(c.LastPos.File)
	}
	if c.Known(flow.FieldDuration) {
		r.Duration = seconds(c.Duration())
	}
	count := func(f flow.Fields, v uint64) *uint64 {
		if !c.Known(f) {
			return nil
		}
		return &v
	}
	r.OrigBytes = count(flow.FieldOrigBytes, c.OrigBytes)
	r.RespBytes = count(flow.FieldRespBytes, c.RespBytes)
	r.MissedBytes = count(flow.FieldMissedBytes, c.MissedBytes)
	r.OrigPkts = count(flow.FieldOrigPkts, c.OrigPkts)
	r.OrigIPBytes = count(flow.FieldOrigIPBytes, c.OrigIPBytes)
	r.RespPkts = count(flow.FieldRespPkts, c.RespPkts)
	r.RespIPBytes = count(flow.FieldRespIPBytes, c.RespIPBytes)
	return r
}

// zeekBool is a record's local_orig or local_resp ("T", "F", "" unset)
// as JSON: true, false, or nil (left out).
func zeekBool(v string) *bool {
	if v == "" {
		return nil
	}
	b := v == "T"
	return &b
}

// pair is a c/s pair of the table: blank when neither side is known, "-"
// for the side that is not.
func pair(c, s *uint64) string {
	if c == nil && s == nil {
		return ""
	}
	side := func(v *uint64) string {
		if v == nil {
			return "-"
		}
		return strconv.FormatUint(*v, 10)
	}
	return side(c) + "/" + side(s)
}

// Formats are the formats a Writer writes: JSON lines, CSV, the terminal
// table, and Zeek's conn.log as TSV (zeek) and JSON (zeek-json).
var Formats = []string{"jsonl", "csv", "table", "zeek", "zeek-json"}

// Options steer a Writer.
type Options struct {
	Color bool // the table's header in bold (a terminal, NO_COLOR unset); upper-case otherwise
}

// Writer prints connections in one format: JSON lines, CSV and Zeek's
// logs as they come, the table a page at a time.
type Writer struct {
	w       *bufio.Writer
	format  string
	paths   []string
	quoted  jsonPaths // paths as JSON strings, for jsonl
	csvPath []string  // paths as CSV fields, for csv
	color   bool
	buf     []byte
	rows    []flowRecord // the table's current page
	printed bool         // a page of the table was printed
	zeek    *zeeklog.Writer
	n       int
	err     error
}

// NewWriter returns a Writer of connections to w in format (one of
// Formats); paths are the capture files, in the order of the connections'
// flow.Pos.File.
func NewWriter(w io.Writer, format string, paths []string, o Options) (*Writer, error) {
	if !slices.Contains(Formats, format) {
		return nil, fmt.Errorf("unknown connection format %q: want %s", format, strings.Join(Formats, ", "))
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	fw := &Writer{w: bw, format: format, color: o.Color}
	fw.SetPaths(paths)
	switch format {
	case "csv":
		_, fw.err = bw.Write(appendCSVRecord(nil, Columns))
	case "zeek":
		fw.zeek = zeeklog.NewTSV(bw)
	case "zeek-json":
		fw.zeek = zeeklog.NewJSON(bw)
	}
	return fw, nil
}

// SetPaths replaces the capture files NewWriter was given, before the
// first Add: the files read, once a directory is replaced by the logs in
// it and Zeek's name logs are taken out (analyzer.Options.OnFiles), are
// what the connections' flow.Pos.File count.
func (fw *Writer) SetPaths(paths []string) {
	fw.paths, fw.quoted = paths, quotePaths(paths)
	if fw.format == "csv" {
		fw.csvPath = csvPaths(paths)
	}
}

// N is how many connections were given to Add.
func (fw *Writer) N() int { return fw.n }

// Add writes c (the table keeps it for its page). After a write error it
// only counts; Close returns the error.
func (fw *Writer) Add(c *flow.Connection) {
	fw.n++
	if fw.err != nil {
		return
	}
	if fw.zeek != nil {
		fw.err = fw.zeek.Write(c)
		return
	}
	if fw.format == "jsonl" {
		fw.buf = appendConnJSON(fw.buf[:0], c, fw.quoted)
		fw.buf = append(fw.buf, '\n')
		_, fw.err = fw.w.Write(fw.buf)
		return
	}
	if fw.format == "csv" {
		fw.buf = appendConnCSV(fw.buf[:0], c, fw.csvPath)
		_, fw.err = fw.w.Write(fw.buf)
		return
	}
	fw.rows = append(fw.rows, makeFlowRecord(c, fw.paths))
	if len(fw.rows) == TablePage {
		fw.table()
	}
}

// TablePage is how many connections one table holds: the table format
// prints a table per page, so it keeps no more than this many rows.
const TablePage = 1000

// Close writes what is left (the table's last page, or an empty table if
// none was printed; the conn.log's #close line with end, the capture's
// last packet) and flushes. It returns the first write error.
func (fw *Writer) Close(end time.Time) error {
	switch fw.format {
	case "table":
		if len(fw.rows) > 0 || !fw.printed {
			fw.table()
		}
	case "zeek", "zeek-json":
		if fw.err == nil {
			fw.err = fw.zeek.Close(end)
		}
	}
	if err := fw.w.Flush(); err != nil && fw.err == nil {
		fw.err = err
	}
	return fw.err
}

// newTable is a go-pretty table in the style of flowaudit's other
// terminal tables.
func (fw *Writer) newTable(header ...any) table.Writer {
	t := table.NewWriter()
	style := table.StyleLight
	if !fw.color {
		style.Color = table.ColorOptions{}
		style.Format.Header = text.FormatUpper
	} else {
		style.Color.Header = text.Colors{text.Bold}
	}
	t.SetStyle(style)
	t.AppendHeader(table.Row(header))
	return t
}

// table prints the page of rows, sorted by first frame.
func (fw *Writer) table() {
	slices.SortStableFunc(fw.rows, func(a, b flowRecord) int {
		if a.fileIdx != b.fileIdx {
			return a.fileIdx - b.fileIdx
		}
		return cmp.Compare(a.FirstFrame, b.FirstFrame)
	})
	t := fw.newTable("start", "proto", "client", "server", "server name", "state", "history", "outcome", "client by",
		"pkts c/s", "bytes c/s", "duration", "frames")
	hostPort := func(h string, p uint16, proto string) string {
		if proto != "tcp" && proto != "udp" && proto != "sctp" {
			return h
		}
		if strings.Contains(h, ":") {
			return "[" + h + "]:" + strconv.Itoa(int(p))
		}
		return h + ":" + strconv.Itoa(int(p))
	}
	multi := len(fw.paths) > 1
	for _, r := range fw.rows {
		start := r.start.UTC().Format("2006-01-02 15:04:05.000")
		proto := r.Proto
		if strings.HasPrefix(proto, "icmp") {
			proto += fmt.Sprintf(" %d/%d", r.OrigP, r.RespP)
		}
		frames := fmt.Sprintf("%d-%d", r.FirstFrame, r.LastFrame)
		if r.FirstFrame == 0 {
			frames = "" // a sensor's flow record: its Zeek uid, if any
			if r.UID != "" {
				frames = "uid " + r.UID
			}
		}
		if multi {
			frames = filepath.Base(r.File) + ":" + frames
		}
		name := r.ServerName
		if name != "" {
			name += " (" + r.NameSource + ")"
		}
		t.AppendRow(table.Row{start, proto, hostPort(r.OrigH, r.OrigP, r.Proto), hostPort(r.RespH, r.RespP, r.Proto),
			name, r.ConnState, r.History, r.Outcome, r.ClientBy,
			pair(r.OrigPkts, r.RespPkts), pair(r.OrigBytes, r.RespBytes),
			string(r.Duration), frames})
	}
	t.SetOutputMirror(fw.w)
	t.Render()
	clear(fw.rows)
	fw.rows = fw.rows[:0]
	fw.printed = true
}
