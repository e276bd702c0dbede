package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/netip"
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
)

const flowsHelp = `Usage:
  flowaudit flows [flags] CAPTURE...

Prints every connection in the captures, like Zeek's conn.log: client and
server (id.orig_h/id.resp_h), protocol, duration, payload and IP bytes and
packets each way, Zeek's conn_state and history, the Community ID, and
flowaudit's outcome (established, rejected, unanswered, partial), how the
client was chosen (client_by), the host name it was for (server_name:
TLS or QUIC SNI, HTTP Host, else a DNS answer; server_name_source says
which) and the file and frames where it was seen.

CAPTURE is a pcap or pcapng file, optionally gzip-compressed, or "-" for
standard input. Several files are read in order as one capture (rotated
files): frames are numbered per file, connections continue across files.
A Zeek conn.log (TSV or JSON, gzip or not, known by its content), or a
directory of them, is read too: each line is a finished connection, with
client_by "record" and no frames.

Connections are printed as they end (closed, idle past their timeout, or
replaced by a new SYN); those still open at the end of input follow, in
order of their first frame. The table format prints them in tables of
1,000 connections (one table for small captures), each sorted by first
frame, so memory stays bounded on a capture of millions.

--format zeek writes a Zeek conn.log in Zeek's TSV format (header lines,
"-" for unset fields, Zeek's columns and types), --format zeek-json the same
in Zeek's JSON log format, for zeek-cut, RITA and SIEM parsers; flowaudit's
own fields (outcome, client_by, server_name, frames) are not in them.

Examples:
  flowaudit flows pilot.pcapng
  flowaudit flows --port 3389 --format table pilot-*.pcap.gz
  flowaudit flows --host 10.20.0.0/16 --proto udp capture.pcap
  flowaudit flows --format csv capture.pcap > conn.csv
  tcpdump -i eth0 -w - | flowaudit flows -
  flowaudit flows --port 3389 /opt/zeek/logs/current/conn.log
  flowaudit flows capture.pcap | jq 'select(.outcome == "rejected")'
  flowaudit flows capture.pcap | jq 'select(.server_name_source == "sni") | .server_name'
  flowaudit flows --format zeek capture.pcap > conn.log
  flowaudit flows --format zeek capture.pcap | zeek-cut id.orig_h id.resp_h id.resp_p conn_state
  flowaudit flows --format zeek-json capture.pcap > conn.json

Exit codes:
  0  success (a capture cut short in its last record is a warning)
  1  error: a capture damaged before its end or unreadable (the connections
     of everything readable are still printed), no frame of any capture
     analysed, or the output could not be written
  2  usage error
`

func runFlows(e *env, args []string) int {
	fs := newFlagSet("flows", flowsHelp)
	format := fs.StringP("format", "f", "", "output format: jsonl, csv, table, zeek (conn.log TSV) or zeek-json (default: table on a terminal, jsonl otherwise)")
	hosts := fs.StringArray("host", nil, "only connections with an endpoint in `ADDR|CIDR` (repeatable)")
	ports := fs.StringSlice("port", nil, "only connections with either port `N` (repeatable, or comma-separated)")
	protos := fs.StringSlice("proto", nil, "only protocol `NAME` (tcp, udp, icmp, icmpv6, vrrp, ip/N; repeatable)")
	var cf captureFlags
	cf.register(fs)
	_ = fs.MarkHidden("max-services") // flows prints connections; it keeps no services
	_ = fs.MarkHidden("sweep-threshold")
	if done, err := e.parseFlags(fs, flowsHelp, args); done {
		if err != nil {
			return e.fail(err)
		}
		return exitOK
	}
	paths := fs.Args()
	if len(paths) == 0 {
		return e.fail(usagef("flows: no capture file given (see 'flowaudit flows --help')"))
	}
	if *format == "" {
		*format = "jsonl"
		if e.stdoutTTY {
			*format = "table"
		}
	}
	if err := checkFormat("flows", *format, "jsonl", "csv", "table", "zeek", "zeek-json"); err != nil {
		return e.fail(err)
	}
	if err := cf.validate("flows"); err != nil {
		return e.fail(err)
	}
	stopProfile, err := cf.profile("flows")
	if err != nil {
		return e.fail(err)
	}
	defer stopProfile()
	filter, err := parseFlowFilter(*hosts, *ports, *protos)
	if err != nil {
		return e.fail(err)
	}

	out := newFlowWriter(e, *format, paths)
	res, runErr := e.readCaptures(paths, nil, cf, func(c *flow.Connection) {
		if filter.match(c) {
			out.add(c)
		}
	})
	if res != nil {
		out.end = lastPacket(res)
	}
	if werr := out.finish(); werr != nil && runErr == nil {
		runErr = fmt.Errorf("writing output: %w", werr)
	}
	if res != nil && e.stderrTTY {
		fmt.Fprintf(e.stderr, "%d connections printed\n", out.n)
	} else if res != nil && len(res.Skipped) > 0 {
		// Not on a terminal the summary is not printed, but frames that
		// are in no connection are always said, by reason.
		fmt.Fprintf(e.stderr, "flowaudit: flows: %s\n", skippedText(res))
	}
	if runErr != nil {
		return e.fail(fmt.Errorf("flows: %w", runErr))
	}
	return exitOK
}

// flowFilter keeps connections matching every given criterion.
type flowFilter struct {
	prefixes []netip.Prefix
	ports    []uint16
	protos   []uint8
}

func parseFlowFilter(hosts, ports, protos []string) (*flowFilter, error) {
	f := &flowFilter{}
	for _, h := range hosts {
		h = strings.TrimSpace(h)
		if p, err := netip.ParsePrefix(h); err == nil {
			f.prefixes = append(f.prefixes, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(h)
		if err != nil {
			return nil, usagef("flows: --host %q is neither an address nor a CIDR", h)
		}
		f.prefixes = append(f.prefixes, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	for _, s := range ports {
		n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 16)
		if err != nil {
			return nil, usagef("flows: --port %q is not a port number (0-65535)", s)
		}
		f.ports = append(f.ports, uint16(n))
	}
	for _, s := range protos {
		p, err := catalog.ParseProto(s)
		if err != nil {
			if n, nerr := strconv.ParseUint(strings.TrimSpace(s), 10, 8); nerr == nil {
				p, err = uint8(n), nil
			}
		}
		if err != nil {
			return nil, usagef("flows: --proto %q: want tcp, udp, icmp, icmpv6, vrrp, gre, esp, ... or ip/N", s)
		}
		f.protos = append(f.protos, p)
	}
	return f, nil
}

func (f *flowFilter) match(c *flow.Connection) bool {
	if len(f.protos) > 0 && !slices.Contains(f.protos, c.Proto) {
		return false
	}
	if len(f.ports) > 0 {
		if !catalog.HasPorts(c.Proto) || (!slices.Contains(f.ports, c.OrigPort) && !slices.Contains(f.ports, c.RespPort)) {
			return false
		}
	}
	if len(f.prefixes) > 0 {
		o, r := c.Orig.Unmap(), c.Resp.Unmap()
		found := false
		for _, p := range f.prefixes {
			if p.Contains(o) || p.Contains(r) {
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

// flowRecord is one connection as printed, with Zeek conn.log names.
// ts and duration are decimal seconds with microseconds, as Zeek writes.
type flowRecord struct {
	TS          json.Number `json:"ts"`
	OrigH       string      `json:"id.orig_h"`
	OrigP       uint16      `json:"id.orig_p"`
	RespH       string      `json:"id.resp_h"`
	RespP       uint16      `json:"id.resp_p"`
	Proto       string      `json:"proto"`
	Duration    json.Number `json:"duration"`
	OrigBytes   uint64      `json:"orig_bytes"`
	RespBytes   uint64      `json:"resp_bytes"`
	ConnState   string      `json:"conn_state"`
	MissedBytes uint64      `json:"missed_bytes"`
	History     string      `json:"history,omitempty"`
	OrigPkts    uint64      `json:"orig_pkts"`
	OrigIPBytes uint64      `json:"orig_ip_bytes"`
	RespPkts    uint64      `json:"resp_pkts"`
	RespIPBytes uint64      `json:"resp_ip_bytes"`
	VLAN        uint16      `json:"vlan,omitempty"`
	InnerVLAN   uint16      `json:"inner_vlan,omitempty"`
	Tunnel      string      `json:"tunnel,omitempty"`
	CommunityID string      `json:"community_id"`
	Outcome     string      `json:"outcome"`
	ClientBy    string      `json:"client_by"`
	ICMPErrors  uint64      `json:"icmp_errors,omitempty"`
	ServerName  string      `json:"server_name,omitempty"`
	NameSource  string      `json:"server_name_source,omitempty"`
	File        string      `json:"file"`
	FirstFrame  uint64      `json:"first_frame"`
	LastFile    string      `json:"last_file,omitempty"`
	LastFrame   uint64      `json:"last_frame"`

	start   time.Time // for the table
	fileIdx int
}

var flowColumns = []string{"ts", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "duration",
	"orig_bytes", "resp_bytes", "conn_state", "missed_bytes", "history", "orig_pkts", "orig_ip_bytes", "resp_pkts",
	"resp_ip_bytes", "vlan", "inner_vlan", "tunnel", "community_id", "outcome", "client_by", "icmp_errors",
	"server_name", "server_name_source", "file", "first_frame", "last_file", "last_frame"}

func (r *flowRecord) csv() []string {
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	opt := func(v uint64) string {
		if v == 0 {
			return ""
		}
		return u(v)
	}
	return []string{string(r.TS), r.OrigH, u(uint64(r.OrigP)), r.RespH, u(uint64(r.RespP)), r.Proto,
		string(r.Duration), u(r.OrigBytes), u(r.RespBytes), r.ConnState, u(r.MissedBytes), r.History, u(r.OrigPkts),
		u(r.OrigIPBytes), u(r.RespPkts), u(r.RespIPBytes), opt(uint64(r.VLAN)), opt(uint64(r.InnerVLAN)),
		r.Tunnel, r.CommunityID, r.Outcome, r.ClientBy, opt(r.ICMPErrors), r.ServerName, r.NameSource, r.File, opt(r.FirstFrame),
		r.LastFile, opt(r.LastFrame)} // frames: none in a sensor's flow record
}

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
	return json.Number(appendSeconds(nil, d))
}

func appendSeconds(b []byte, d time.Duration) []byte {
	us := d.Microseconds()
	if us < 0 {
		b = append(b, '-')
		us = -us
	}
	b = strconv.AppendInt(b, us/1e6, 10)
	// The six fraction digits, zero-padded: 1e6+frac has seven digits,
	// and its leading 1 becomes the decimal point.
	b = strconv.AppendInt(b, 1e6+us%1e6, 10)
	b[len(b)-7] = '.'
	return b
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
		OrigH:       c.Orig.String(),
		OrigP:       c.OrigPort,
		RespH:       c.Resp.String(),
		RespP:       c.RespPort,
		Proto:       catalog.ProtoName(c.Proto),
		Duration:    seconds(c.Duration()),
		OrigBytes:   c.OrigBytes,
		RespBytes:   c.RespBytes,
		ConnState:   c.State,
		MissedBytes: c.MissedBytes,
		History:     c.History,
		OrigPkts:    c.OrigPkts,
		OrigIPBytes: c.OrigIPBytes,
		RespPkts:    c.RespPkts,
		RespIPBytes: c.RespIPBytes,
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
	return r
}

// flowWriter prints connections in one format: JSON lines and CSV as they
// come, the table at the end.
type flowWriter struct {
	e       *env
	w       *bufio.Writer
	format  string
	paths   []string
	quoted  jsonPaths // paths as JSON strings, for jsonl
	buf     []byte
	cw      *csv.Writer
	rows    []flowRecord // the table's current page
	printed bool         // a page of the table was printed
	zeek    *zeeklog.Writer
	end     time.Time // the capture's last packet, for the conn.log's #close
	n       int
	err     error
}

func newFlowWriter(e *env, format string, paths []string) *flowWriter {
	w := bufio.NewWriterSize(e.stdout, 64<<10)
	fw := &flowWriter{e: e, w: w, format: format, paths: paths, quoted: quotePaths(paths)}
	switch format {
	case "csv":
		fw.cw = csv.NewWriter(w)
		fw.err = fw.cw.Write(flowColumns)
	case "zeek":
		fw.zeek = zeeklog.NewTSV(w)
	case "zeek-json":
		fw.zeek = zeeklog.NewJSON(w)
	}
	return fw
}

func (fw *flowWriter) add(c *flow.Connection) {
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
	r := makeFlowRecord(c, fw.paths)
	switch fw.format {
	case "csv":
		fw.err = fw.cw.Write(r.csv())
	default:
		fw.rows = append(fw.rows, r)
		if len(fw.rows) == tablePage {
			fw.table()
		}
	}
}

// tablePage is how many connections one table holds: the table format
// prints a table per page, so it keeps no more than this many rows.
const tablePage = 1000

func (fw *flowWriter) finish() error {
	switch fw.format {
	case "csv":
		fw.cw.Flush()
		if fw.err == nil {
			fw.err = fw.cw.Error()
		}
	case "table":
		if len(fw.rows) > 0 || !fw.printed {
			fw.table()
		}
	case "zeek", "zeek-json":
		if fw.err == nil {
			fw.err = fw.zeek.Close(fw.end)
		}
	}
	if err := fw.w.Flush(); err != nil && fw.err == nil {
		fw.err = err
	}
	return fw.err
}

// table prints the page of rows, sorted by first frame.
func (fw *flowWriter) table() {
	slices.SortStableFunc(fw.rows, func(a, b flowRecord) int {
		if a.fileIdx != b.fileIdx {
			return a.fileIdx - b.fileIdx
		}
		return cmpUint(a.FirstFrame, b.FirstFrame)
	})
	t := fw.e.newTable("start", "proto", "client", "server", "server name", "state", "history", "outcome", "client by",
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
			frames = "" // a sensor's flow record
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
			fmt.Sprintf("%d/%d", r.OrigPkts, r.RespPkts), fmt.Sprintf("%d/%d", r.OrigBytes, r.RespBytes),
			string(r.Duration), frames})
	}
	t.SetOutputMirror(fw.w)
	t.Render()
	clear(fw.rows)
	fw.rows = fw.rows[:0]
	fw.printed = true
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
