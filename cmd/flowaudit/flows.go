package main

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/flow"
	"github.com/flowaudit/flowaudit/analyzer/inventory"
	"github.com/flowaudit/flowaudit/analyzer/report/connout"
	"github.com/flowaudit/flowaudit/catalog"
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
client_by "record" and no frames; so are nfdump -o csv and -o json, and
IPFIX and NetFlow v9 files, their one-way records paired. What a record
does not give is absent, never 0 or "": left out of jsonl and zeek-json,
"-" in zeek, empty in csv and the table. NetFlow/IPFIX octets count IP
headers: they are orig_ip_bytes/resp_ip_bytes, and orig_bytes,
resp_bytes, missed_bytes, conn_state and history are absent; a conn.log's
unset fields stay unset and the rest is written back as the log had it.

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
	if err := checkFormat("flows", *format, connout.Formats...); err != nil {
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

	out, err := connout.NewWriter(e.stdout, *format, paths, connout.Options{Color: e.color})
	if err != nil {
		return e.fail(err)
	}
	// A directory's logs and the Zeek name logs among the paths are not
	// the files the connections' positions count: Run says which are.
	cf.onFiles = out.SetPaths
	res, runErr := e.readCaptures(paths, nil, cf, func(c *flow.Connection) {
		if filter.match(c) {
			out.Add(c)
		}
	})
	var end time.Time // the capture's last packet, for the conn.log's #close
	if res != nil {
		end = res.LastPacket()
	}
	if werr := out.Close(end); werr != nil && runErr == nil {
		runErr = fmt.Errorf("writing output: %w", werr)
	}
	if res != nil && e.stderrTTY {
		fmt.Fprintf(e.stderr, "%d connections printed\n", out.N())
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
			if p.Masked() != p {
				// As in the inventory and waivers: 192.0.2.1/24 is a
				// typo for a host or for its block, not the block.
				return nil, usagef("flows: --host %q has host bits set (did you mean %s?)", h, p.Masked())
			}
			// A mapped block stands for its IPv4 one: addresses are
			// matched unmapped.
			f.prefixes = append(f.prefixes, inventory.UnmapPrefix(p))
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
