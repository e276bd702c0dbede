// Package connlog reads connection records that sensors already wrote —
// Zeek's conn.log, in its ASCII (TSV) and JSON formats, NetFlow/IPFIX
// records as `nfdump -o csv` and `-o json` print them, and IPFIX and
// NetFlow v9 files (RFC 7011 messages, RFC 3954 packets, decoded by
// goflow2's netflow package), one-way
// records paired with their reverse — into flow.Connection values, so a
// site that runs Zeek or a flow collector rather than keeping captures
// can feed the same service aggregation and audit as a capture does.
//
// A file is recognised by its content, not its name: a TSV conn.log by its
// #separator or #fields header line, a JSON log by a first object with the
// "id.orig_h" key, nfdump's CSV by its header line, nfdump's JSON by its
// keys, IPFIX by its first message header; any may be
// gzip-compressed (as Zeek's log rotation
// leaves them: conn.2026-11-29-10-00-00.log.gz). Sniff tells a conn.log
// from anything else (a capture) by its first bytes; Files lists the
// conn.log files of a directory of rotated logs, in time order.
//
// The TSV header decides the columns: any order, Zeek's own or a subset
// (ts, id.orig_h, id.orig_p, id.resp_h, id.resp_p and proto are required),
// with the #separator (\xHH escapes), #set_separator, #empty_field and
// #unset_field a log declares; a new header part-way (logs concatenated)
// starts new columns. conn_state, history, packets and bytes are taken as
// Zeek wrote them, and a connection's outcome follows from conn_state
// (Outcome); service, local_orig and local_resp are kept where present.
// What a flow record cannot give — frame numbers, the packets themselves,
// TTLs, the ICMP errors that quoted a connection — is left zero; the
// counts and duration it did not give (a conn.log's unset fields, a
// NetFlow record's payload bytes and missed_bytes, its end or octets when
// missing) are marked in flow.Connection.Unknown, so that outputs leave
// them absent instead of printing a zero.
//
// A line that cannot be read is an *Error naming the file and line (an
// IPFIX message: its number and offset; an nfdump JSON record: its
// index). Reading a conn.log allocates nothing per line once the
// addresses seen have been parsed (they are kept in a bounded cache);
// IPFIX allocates per record in goflow2.
package connlog

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/flowaudit/flowaudit/analyzer/flow"
)

// Format is a kind of connection log.
type Format uint8

// Formats.
const (
	None       Format = iota // not a connection log
	ZeekTSV                  // Zeek's ASCII writer: header lines and tab-separated columns
	ZeekJSON                 // Zeek's JSON writer: one object per line
	NfdumpCSV                // nfdump -o csv: NetFlow/IPFIX records, a header line naming the columns
	NfdumpJSON               // nfdump -o json (an array of records) or -o json-log (one record a line)
	IPFIX                    // RFC 7011 messages one after another (RFC 5655's file format)
	NetFlowV9                // RFC 3954 packets one after another (a raw dump of an exporter's datagrams)
)

func (f Format) String() string {
	switch f {
	case ZeekTSV:
		return "zeek conn.log (TSV)"
	case ZeekJSON:
		return "zeek conn.log (JSON)"
	case NfdumpCSV:
		return "nfdump csv"
	case NfdumpJSON:
		return "nfdump json"
	case IPFIX:
		return "ipfix"
	case NetFlowV9:
		return "netflow v9"
	}
	return "none"
}

// SniffSize is how many leading bytes Sniff wants to see (fewer do when
// the file is shorter).
const SniffSize = 4096

// Sniff says which connection log head starts, or None. head is the
// file's first bytes as stored; a gzip stream is decompressed as far as
// head holds it.
func Sniff(head []byte) Format {
	if len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(head))
		if err != nil {
			return None
		}
		buf := make([]byte, SniffSize)
		n, _ := io.ReadFull(zr, buf) // a head cut inside the stream still gives its start
		head = buf[:n]
	}
	if sniffIPFIX(head) {
		return IPFIX
	}
	if sniffNFv9(head) {
		return NetFlowV9
	}
	head = bytes.TrimLeft(head, " \t\r\n")
	switch {
	case sniffNfdumpJSON(head):
		return NfdumpJSON
	case bytes.HasPrefix(head, []byte("#separator")), bytes.HasPrefix(head, []byte("#fields")):
		return ZeekTSV
	case len(head) > 0 && head[0] == '{':
		line, _, _ := bytes.Cut(head, []byte("\n"))
		if bytes.Contains(line, []byte(`"id.orig_h"`)) {
			return ZeekJSON
		}
	default:
		line, _, _ := bytes.Cut(head, []byte("\n"))
		if _, ok := nfHeader(bytes.TrimSuffix(line, []byte("\r"))); ok {
			return NfdumpCSV
		}
	}
	return None
}

// SniffFile reads the head of the file at path and sniffs it.
func SniffFile(path string) (Format, error) {
	head, err := readHead(path)
	if err != nil {
		return None, err
	}
	return Sniff(head), nil
}

// readHead reads the first SniffSize bytes of the file at path (fewer
// when it is shorter).
func readHead(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, SniffSize)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return head[:n], nil
}

// Files lists the connection logs in dir and the directories below it
// (Zeek's archive keeps a directory per day), in lexical order, which is
// time order for Zeek's rotated names (conn.2026-11-29-10-00-00.log.gz,
// 2026-11-29/conn.10:00:00-11:00:00.log.gz): files named conn.log,
// conn.*.log and conn*.log.gz, or any other file whose content is a
// connection log; not Zeek's ssl, http and dns logs, by name (read beside
// the conn.log: NameLogsBeside) or by content. An empty list is an error.
func Files(dir string) ([]string, error) {
	var out []string
	others := 0 // regular files that are no flow records
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		name := d.Name()
		if IsNameLogName(name) {
			return nil // ssl.log, http.log: read beside the conn.log (Names)
		}
		if strings.HasPrefix(name, "conn") && (strings.HasSuffix(name, ".log") || strings.HasSuffix(name, ".log.gz")) {
			out = append(out, path)
			return nil
		}
		head, err := readHead(path)
		switch {
		case err == nil && NameLogKind(head) != "":
			// An ssl.log, http.log or dns.log under another name: its
			// columns would read as connections. Not a conn.log.
		case err == nil && Sniff(head) != None:
			out = append(out, path)
		default:
			others++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		why := ""
		if others > 0 {
			// A directory of captures: they are not looked for.
			why = fmt.Sprintf("; its %d other files are not read: give captures as files, not their directory", others)
		}
		return nil, fmt.Errorf("%s: a directory without conn.log files (conn.log, conn.*.log, conn.*.log.gz)%s", dir, why)
	}
	slices.Sort(out)
	return out, nil
}

// Error is a line of a log that could not be read, or a message of an
// IPFIX file, or a record of nfdump's JSON.
type Error struct {
	Path string
	Line int // 1-based; 0 when the error is not in a line (the gzip layer at the end, a binary or JSON file)
	// Message is the 1-based IPFIX message the error is in and Offset
	// its byte offset in the (decompressed) file; Record is the 1-based
	// record of nfdump's JSON and Offset where it ends. 0 when not so.
	Message, Record int
	Offset          int64
	Err             error
	// CutShort: the file ends inside its last record (a log copied
	// while written): a last line without its newline (TSV or nfdump
	// csv, whether it reads or not; a JSON line that does not read), an
	// nfdump JSON record or an IPFIX message the file ends inside; every
	// record before it was read.
	CutShort bool
	// AtEnd: the file was read to its end, but some of its records were
	// not (IPFIX data sets without a template, records that are no
	// connection): Err says how many and why.
	AtEnd bool
}

func (e *Error) Error() string {
	name := e.Path
	if name == "-" {
		name = "<stdin>"
	}
	switch {
	case e.Message > 0:
		return fmt.Sprintf("%s: offset %d (message %d): %v", name, e.Offset, e.Message, e.Err)
	case e.Record > 0:
		return fmt.Sprintf("%s: record %d (offset %d): %v", name, e.Record, e.Offset, e.Err)
	case e.Line == 0:
		return fmt.Sprintf("%s: %v", name, e.Err)
	}
	return fmt.Sprintf("%s:%d: %v", name, e.Line, e.Err)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Outcome is the outcome of a connection of Zeek's conn_state: SF, S1,
// S2, S3, RSTO and RSTR established; REJ, RSTOS0 and RSTRH rejected; S0,
// SH and SHR unanswered; OTH (mid-stream, no SYN seen) established when
// both directions carried packets, else unanswered. ok is false for a
// state Zeek does not write.
func Outcome(state string, origPkts, respPkts uint64) (o flow.Outcome, ok bool) {
	switch state {
	case "SF", "S1", "S2", "S3", "RSTO", "RSTR":
		return flow.Established, true
	case "REJ", "RSTOS0", "RSTRH":
		return flow.Rejected, true
	case "S0", "SH", "SHR":
		return flow.Unanswered, true
	case "OTH":
		if origPkts > 0 && respPkts > 0 {
			return flow.Established, true
		}
		return flow.Unanswered, true
	}
	return flow.Unanswered, false
}

// Reader reads the connections of one log.
type Reader struct {
	path   string
	format Format
	gz     bool
	zr     *gzip.Reader
	br     *bufio.Reader
	line   int
	err    error

	tsv   tsvState
	nf    nfState
	nfOut int // the next of nf.out to hand out
	ix    ipfixState
	js    nfJSONState
	addrs map[string]netip.Addr

	// ServerPorts decides the client of a NetFlow record whose reverse
	// never came (nil: port numbers alone).
	ServerPorts flow.ServerPorts

	// Full keeps each record's community_id (a string per line); the
	// service aggregates do not need it.
	Full bool
}

// NewReader reads the log in r (gzip-compressed or not); path names it in
// errors. A stream that is no conn.log is an error.
func NewReader(path string, r io.Reader) (*Reader, error) {
	rd := &Reader{path: path, addrs: make(map[string]netip.Addr)}
	br := bufio.NewReaderSize(r, 256<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, &Error{Path: path, Err: fmt.Errorf("gzip: %w", err)}
		}
		rd.zr, rd.gz = zr, true
		br = bufio.NewReaderSize(zr, 256<<10)
	}
	rd.br = br
	head, _ := br.Peek(SniffSize)
	rd.format = Sniff(head)
	if rd.format == None {
		return nil, &Error{Path: path, Err: errors.New("not a zeek conn.log (no #separator or #fields header, no JSON object with id.orig_h), nfdump csv or json, IPFIX nor NetFlow v9")}
	}
	rd.tsv.reset()
	for i := range rd.nf.cols {
		rd.nf.cols[i] = -1
	}
	rd.nf.pending = make(map[nfKey]*nfRecord)
	return rd, nil
}

// Format describes the log: "zeek conn.log (TSV)", "… , gzip".
func (r *Reader) Format() string {
	if r.gz {
		return r.format.String() + ", gzip"
	}
	return r.format.String()
}

// Kind is the log's Format.
func (r *Reader) Kind() Format { return r.format }

// Line is the number of the last line read.
func (r *Reader) Line() int { return r.line }

// Next reads the next connection into c. It returns io.EOF after the
// last, or an *Error for a line that does not read (reading stops there).
func (r *Reader) Next(c *flow.Connection) error {
	if r.err != nil {
		return r.err
	}
	if r.format >= NfdumpCSV {
		return r.nfNext(c)
	}
	for {
		line, last, err := r.readLine()
		if err != nil {
			if errors.Is(err, io.EOF) {
				r.err = io.EOF
			}
			return err
		}
		var ok bool
		switch r.format {
		case ZeekTSV:
			ok, err = r.tsvLine(line, c)
		default:
			ok, err = r.jsonLine(line, c)
		}
		if err != nil {
			return r.fail(err, last)
		}
		if ok && last && r.format == ZeekTSV {
			// Zeek ends every line with a newline. A last line
			// without one that reads may still be cut in its last
			// column ("1582" bytes cut to "15"): it is not taken. A
			// JSON line shows it is whole by its closing brace.
			return r.fail(errors.New("the last line has no newline: cut short (a log copied while written?)"), true)
		}
		if ok {
			return nil
		}
	}
}

// readLine is the next non-empty line without its line ending; last says
// it had no newline (the end of the file). It returns io.EOF at the end;
// any other error has stopped the reader (see fail).
func (r *Reader) readLine() (line []byte, last bool, err error) {
	for {
		line, err = r.br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			r.line++
			return nil, false, r.fail(errors.New("line longer than 256 KiB"), false)
		}
		if len(line) == 0 && err != nil {
			if errors.Is(err, io.EOF) {
				return nil, false, io.EOF
			}
			return nil, false, r.fail(err, false)
		}
		r.line++
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, false, r.fail(err, false)
		}
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
		if len(line) > 0 {
			return line, err != nil, nil
		}
	}
}

// fail stops the reader at an error of the current line.
func (r *Reader) fail(err error, cutShort bool) error {
	r.err = &Error{Path: r.path, Line: r.line, Err: err, CutShort: cutShort}
	return r.err
}

// addr parses an address: a dotted quad directly, others through the
// cache.
func (r *Reader) addr(b []byte) (netip.Addr, error) {
	if a, ok := parseIPv4(b); ok {
		return a, nil
	}
	if a, ok := r.addrs[string(b)]; ok {
		return a, nil
	}
	a, err := netip.ParseAddr(string(b))
	if err != nil {
		return a, fmt.Errorf("address %q: not an IP address", b)
	}
	if len(r.addrs) < maxCachedAddrs {
		r.addrs[string(b)] = a
	}
	return a, nil
}

// parseIPv4 reads a dotted quad without leading zeros, as Zeek writes
// IPv4 addresses; anything else is left to netip.
func parseIPv4(b []byte) (netip.Addr, bool) {
	var ip [4]byte
	part, digits, val := 0, 0, 0
	for _, ch := range b {
		switch {
		case ch >= '0' && ch <= '9':
			if digits > 0 && val == 0 {
				return netip.Addr{}, false // a leading zero
			}
			val = val*10 + int(ch-'0')
			digits++
			if val > 255 {
				return netip.Addr{}, false
			}
		case ch == '.' && digits > 0 && part < 3:
			ip[part] = byte(val)
			part, digits, val = part+1, 0, 0
		default:
			return netip.Addr{}, false
		}
	}
	if part != 3 || digits == 0 {
		return netip.Addr{}, false
	}
	ip[3] = byte(val)
	return netip.AddrFrom4(ip), true
}

// maxCachedAddrs bounds the address cache (about 5 MiB).
const maxCachedAddrs = 1 << 16

// Close releases the gzip layer; it does not close the underlying reader.
func (r *Reader) Close() error {
	if r.zr != nil {
		return r.zr.Close()
	}
	return nil
}

// nfNext hands out the next NetFlow connection, reading records until
// one is complete (its reverse came, or can no longer come). When reading
// stops, at the end or at an error, the records still waiting for their
// reverse are handed out first: what was read is never lost.
func (r *Reader) nfNext(c *flow.Connection) error {
	s := &r.nf
	for r.nfOut >= len(s.out) {
		if s.stop != nil {
			r.err = s.stop
			return s.stop
		}
		s.out, r.nfOut = s.out[:0], 0
		if err := r.nfFill(); err != nil {
			r.err = nil // until the waiting records are out
			s.stop = err
			r.nfFlush()
		}
	}
	*c = s.out[r.nfOut]
	r.nfOut++
	return nil
}

// nfFill reads the next record of a NetFlow format (a CSV line, a JSON
// record, an IPFIX message) into the pending table. It returns io.EOF at
// the end, or the *Error that stopped reading.
func (r *Reader) nfFill() error {
	switch r.format {
	case IPFIX:
		return r.ipfixMessage()
	case NetFlowV9:
		return r.v9Packet()
	case NfdumpJSON:
		return r.nfJSONRecord()
	}
	line, last, err := r.readLine()
	if err != nil {
		return err
	}
	rec, perr := r.nfLine(line)
	if perr != nil {
		return r.fail(perr, last)
	}
	if rec != nil && last {
		// nfdump ends every line with a newline, as Zeek does: a last
		// record without one that reads may still be cut in its last
		// column ("1582" bytes cut to "15"): it is not taken.
		return r.fail(errors.New("the last line has no newline: cut short (a file copied while written?)"), true)
	}
	if rec != nil {
		r.nfAdd(rec)
	}
	return nil
}
