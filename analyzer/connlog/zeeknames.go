package connlog

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/flowaudit/flowaudit/analyzer/flow"
	"github.com/flowaudit/flowaudit/analyzer/names"
)

// Names are the host names Zeek's ssl.log (server_name: the TLS SNI) and
// http.log (host: the Host header) gave connections, by uid, and the DNS
// answers its dns.log recorded, by address, for naming the connections of
// a conn.log as a capture's SNI, Host headers and DNS answers name them
// (host-name rules). The uid map is bounded: past Max uids the names of
// others are counted in Overflow and not kept; so are the DNS answers,
// past Max answers (DNS.Overflow).
type Names struct {
	Max      int      // uids kept, and DNS answers kept; 0: DefaultMaxNames
	Overflow uint64   // names not kept: the map was full
	Files    []string // the logs read, in order
	// Kinds says what each of Files is: "ssl", "http" or "dns" (by its
	// #path, or its JSON lines' keys); "" for a file with no header or
	// line that said.
	Kinds []string
	// SHA256 are the hex SHA-256 of Files' bytes (as stored, compressed
	// or not), one each; ReadFile hashes the whole file as it reads it,
	// Read leaves "".
	SHA256 []string
	Lines  uint64 // ssl.log and http.log lines that named a connection
	// DNS are the address answers of the dns.logs (A and AAAA answers
	// of responses from port 53, each naming its address with the name
	// the client asked for), DNSResponses the dns.log lines that had a
	// response (rcode_name set).
	DNS          names.AnswerLog
	DNSResponses uint64
	// Stop, once set, ends the reading of a log at its next 1,024th line
	// with ErrStopped (the caller no longer needs the names), and
	// ReadFile hashes none of the rest of it.
	Stop   *atomic.Bool
	m      map[flow.UID]zeekName
	intern map[string]string
}

// ErrStopped ends reading a names log whose Names.Stop was set.
var ErrStopped = errors.New("reading stopped: no longer needed")

// DefaultMaxNames bounds the uids Names keeps (about 64 bytes each, the
// names shared), as the live connection table is bounded.
const DefaultMaxNames = 1 << 20

type zeekName struct {
	name string
	src  flow.NameSource
}

// NameLogKind says which Zeek log head starts: "ssl", "http", "dns", or
// "" for none of them. It is recognised by content: a TSV log's #path, or
// a JSON log's keys (server_name for ssl.log, host and method or uri for
// http.log, query, trans_id, qtype_name or rcode_name for dns.log).
func NameLogKind(head []byte) string {
	if len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(head))
		if err != nil {
			return ""
		}
		buf := make([]byte, SniffSize)
		n, _ := io.ReadFull(zr, buf)
		head = buf[:n]
	}
	head = bytes.TrimLeft(head, " \t\r\n")
	if len(head) > 0 && head[0] == '#' {
		sep := []byte{'\t'} // #path and its value are split by the #separator
		for _, line := range bytes.Split(head, []byte("\n")) {
			line = bytes.TrimRight(line, "\r")
			if v, ok := bytes.CutPrefix(line, []byte("#separator ")); ok {
				if s, err := unescapeZeek(bytes.TrimSpace(v)); err == nil && len(s) > 0 {
					sep = s
				}
				continue
			}
			if p, ok := bytes.CutPrefix(line, []byte("#path")); ok {
				if v, ok := bytes.CutPrefix(p, sep); ok {
					p = v
				}
				switch p := string(bytes.TrimSpace(p)); p {
				case "ssl", "http", "dns":
					return p
				}
				return ""
			}
		}
		return ""
	}
	line, _, _ := bytes.Cut(head, []byte("\n"))
	if len(line) == 0 || line[0] != '{' || !bytes.Contains(line, []byte(`"uid"`)) {
		return ""
	}
	has := func(key string) bool { return bytes.Contains(line, []byte(`"`+key+`":`)) }
	switch {
	case has("server_name") || has("ssl_history") || has("cipher"):
		return "ssl"
	case has("method") || has("trans_depth"):
		return "http"
	case has("query") || has("trans_id") || has("qtype_name") || has("rcode_name"):
		return "dns"
	}
	return ""
}

// NameLogsBeside lists the ssl, http and dns logs in the directory of a
// conn.log at path, as Zeek writes them beside it: ssl.log, http.log,
// dns.log, and rotated ssl.*.log(.gz), http.*.log(.gz), dns.*.log(.gz), in
// lexical (time) order.
func NameLogsBeside(path string) []string {
	dir := filepath.Dir(path)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if e.Type().IsRegular() && IsNameLogName(e.Name()) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	slices.Sort(out)
	return out
}

// IsNameLogName says whether a file name is one Zeek gives an ssl.log,
// http.log or dns.log (ssl.log, ssl.*.log, ssl*.log.gz; the same for http
// and dns).
func IsNameLogName(name string) bool {
	for _, p := range []string{"ssl", "http", "dns"} {
		if rest, ok := strings.CutPrefix(name, p); ok && (rest == ".log" ||
			strings.HasPrefix(rest, ".") && (strings.HasSuffix(rest, ".log") || strings.HasSuffix(rest, ".log.gz")) || rest == ".log.gz") {
			return true
		}
	}
	return false
}

// ReadFile reads the ssl.log, http.log or dns.log at path (gzip-compressed or
// not). An error names the file and line; the names of the lines before
// it are kept.
func (n *Names) ReadFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	before := len(n.Files)
	err = n.Read(path, io.TeeReader(f, h))
	if len(n.Files) > before && !errors.Is(err, ErrStopped) {
		// The file is cited with its hash, read to its end even where
		// its names stopped at an error.
		if _, cerr := io.Copy(h, f); cerr != nil && err == nil {
			err = &Error{Path: path, Err: cerr}
		}
		n.SHA256[before] = hex.EncodeToString(h.Sum(nil))
	}
	return err
}

// Read reads an ssl.log, http.log or dns.log, TSV or JSON, from r (named
// path in errors), gzip-compressed or not.
func (n *Names) Read(path string, r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	if h, _ := br.Peek(2); len(h) == 2 && h[0] == 0x1f && h[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return &Error{Path: path, Err: fmt.Errorf("gzip: %w", err)}
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 64<<10)
	}
	n.Files = append(n.Files, path)
	n.SHA256 = append(n.SHA256, "")
	n.Kinds = append(n.Kinds, "")
	st := nameLogState{sep: []byte{'\t'}, setSep: []byte{','}, unset: []byte("-"), empty: []byte("(empty)")}
	// The log is of the kind its head says (NameLogKind, as the caller
	// recognised it): a block or line of another kind after it is an
	// error, not names taken under the wrong kind.
	if h, _ := br.Peek(SniffSize); len(h) > 0 {
		st.kind = NameLogKind(h)
	}
	defer func(i int) { n.Kinds[i] = st.kind }(len(n.Kinds) - 1)
	for line, lineNo := []byte(nil), 1; ; lineNo++ {
		var err error
		line, err = br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return &Error{Path: path, Line: lineNo, Err: errors.New("a line over 64 KiB")}
		}
		if len(line) == 0 && err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return &Error{Path: path, Line: lineNo, Err: err}
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return &Error{Path: path, Line: lineNo, Err: err}
		}
		if lineNo%1024 == 0 && n.Stop != nil && n.Stop.Load() {
			return &Error{Path: path, Line: lineNo, Err: ErrStopped}
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			continue
		}
		if e := n.line(line, &st); e != nil {
			return &Error{Path: path, Line: lineNo, Err: e}
		}
	}
}

// Columns of a names log that are read.
const (
	ncUID     = iota
	ncName    // server_name (ssl), host (http)
	ncTS      // dns: ts, id.orig_h, id.resp_p, rtt, query, qclass, rcode_name, answers
	ncOrigH   //
	ncRespP   //
	ncRTT     //
	ncQuery   //
	ncQclass  //
	ncRcode   //
	ncAnswers //
	numNameCols
)

// nameLogState is what a names log declared so far: its kind (a TSV
// log's #path; a JSON line's keys), the TSV header and columns.
type nameLogState struct {
	kind                      string // "ssl", "http", "dns"
	sep, setSep, unset, empty []byte
	ncols                     int // columns of #fields; 0 before it
	col                       [numNameCols]int
}

// jsonNameLine is a line of a JSON ssl.log, http.log or dns.log.
type jsonNameLine struct {
	UID        *string         `json:"uid"`
	ServerName *string         `json:"server_name"` // ssl
	Host       *string         `json:"host"`        // http
	TS         json.RawMessage `json:"ts"`          // dns ...
	OrigH      *string         `json:"id.orig_h"`
	RespP      *uint16         `json:"id.resp_p"`
	RTT        *float64        `json:"rtt"`
	Query      *string         `json:"query"`
	Qclass     *uint64         `json:"qclass"`
	Rcode      *string         `json:"rcode_name"`
	Answers    []string        `json:"answers"`
	TransID    *uint64         `json:"trans_id"`
	QtypeName  *string         `json:"qtype_name"`
}

// line reads one line of a names log.
func (n *Names) line(line []byte, st *nameLogState) error {
	if line[0] == '{' {
		var j jsonNameLine
		if err := json.Unmarshal(line, &j); err != nil {
			return fmt.Errorf("not a JSON ssl.log, http.log or dns.log object: %w", err)
		}
		kind := ""
		switch {
		case j.ServerName != nil:
			kind = "ssl"
		case j.Host != nil:
			kind = "http"
		case j.Query != nil || j.Answers != nil || j.Rcode != nil || j.TransID != nil || j.QtypeName != nil:
			kind = "dns"
		}
		if kind != "" && st.kind != "" && kind != st.kind {
			return fmt.Errorf("%s %s.log line in %s %s.log: Zeek writes each log to its own file; give the %s.log as an input of its own", logArticle(kind), kind, logArticle(st.kind), st.kind, kind)
		}
		switch kind {
		case "ssl", "http":
			if j.UID == nil {
				return errors.New("no uid")
			}
			st.kind = kind
			if j.ServerName != nil {
				return n.add([]byte(*j.UID), []byte(*j.ServerName), flow.NameSNI)
			}
			return n.add([]byte(*j.UID), []byte(*j.Host), flow.NameHTTPHost)
		case "dns":
			st.kind = kind
			return n.jsonDNS(&j)
		}
		switch {
		case j.UID == nil:
			return errors.New("no uid")
		}
		return nil // no name (an ssl.log line without SNI)
	}
	if line[0] == '#' {
		return st.header(line)
	}
	if st.ncols == 0 {
		return errors.New("a data line before any #fields header")
	}
	cols := bytes.Split(line, st.sep)
	if len(cols) != st.ncols {
		return fmt.Errorf("%d columns, the #fields header names %d", len(cols), st.ncols)
	}
	if st.kind == "dns" {
		return n.tsvDNS(cols, st)
	}
	name := cols[st.col[ncName]]
	if bytes.Equal(name, st.unset) || len(name) == 0 {
		return nil
	}
	src := flow.NameSNI
	if st.kind == "http" {
		src = flow.NameHTTPHost
	}
	return n.add(cols[st.col[ncUID]], name, src)
}

// logArticle is the article of a name log's kind: "a dns.log", "an
// ssl.log".
func logArticle(kind string) string {
	if kind == "dns" {
		return "a"
	}
	return "an"
}

// header reads a '#' line of a TSV names log.
func (st *nameLogState) header(line []byte) error {
	if v, ok := bytes.CutPrefix(line, []byte("#separator ")); ok {
		s, err := unescapeZeek(bytes.TrimSpace(v))
		if err != nil || len(s) == 0 {
			return fmt.Errorf("#separator %q: not a separator", v)
		}
		st.sep = bytes.Clone(s)
		return nil
	}
	key, val, _ := bytes.Cut(line, st.sep)
	switch string(key) {
	case "#set_separator":
		s, err := unescapeZeek(val)
		if err != nil || len(s) == 0 {
			return fmt.Errorf("#set_separator %q: not a separator", val)
		}
		st.setSep = bytes.Clone(s)
	case "#unset_field":
		st.unset = bytes.Clone(val)
	case "#empty_field":
		st.empty = bytes.Clone(val)
	case "#path":
		switch string(val) {
		case "ssl", "http", "dns":
			if st.kind != "" && st.kind != string(val) {
				// Logs concatenated (cat ssl.log http.log): the file is
				// cited as one kind, so a block of another is refused.
				return fmt.Errorf("#path %s after #path %s: Zeek writes each log to its own file; give the %s.log as an input of its own", val, st.kind, val)
			}
			st.kind = string(val)
		default:
			return fmt.Errorf("#path %s: not an ssl.log, http.log or dns.log", val)
		}
	case "#fields":
		if st.kind == "" {
			return errors.New("#fields before #path ssl, http or dns")
		}
		fields := bytes.Split(val, st.sep)
		for i := range st.col {
			st.col[i] = -1
		}
		want := map[string]int{"uid": ncUID, "server_name": ncName}
		switch st.kind {
		case "http":
			want = map[string]int{"uid": ncUID, "host": ncName}
		case "dns":
			want = map[string]int{"ts": ncTS, "id.orig_h": ncOrigH, "id.resp_p": ncRespP, "rtt": ncRTT, "query": ncQuery,
				"qclass": ncQclass, "rcode_name": ncRcode, "answers": ncAnswers}
		}
		for i, f := range fields {
			if c, ok := want[string(f)]; ok {
				st.col[c] = i
			}
		}
		switch {
		case st.kind != "dns" && (st.col[ncUID] < 0 || st.col[ncName] < 0):
			name := "server_name"
			if st.kind == "http" {
				name = "host"
			}
			st.ncols = 0
			return fmt.Errorf("#fields: no uid or %s column", name)
		case st.kind == "dns" && (st.col[ncTS] < 0 || st.col[ncOrigH] < 0 || st.col[ncQuery] < 0 || st.col[ncAnswers] < 0):
			st.ncols = 0
			return errors.New("#fields: no ts, id.orig_h, query or answers column")
		case st.kind == "dns" && st.col[ncRespP] < 0:
			st.ncols = 0
			return errNoDNSPort
		}
		st.ncols = len(fields)
	}
	return nil
}

// add keeps name (from src) for uid; a name that is no host name (an
// address literal, as a Host header may be) is skipped, as a capture's is.
func (n *Names) add(uidText, name []byte, src flow.NameSource) error {
	uid, ok := flow.ParseUID(uidText)
	if !ok {
		return fmt.Errorf("uid %q: not a zeek uid", uidText)
	}
	host, ok := names.CleanHost(name, src == flow.NameHTTPHost)
	if !ok {
		return nil
	}
	n.Lines++
	if n.m == nil {
		n.m = make(map[flow.UID]zeekName)
		n.intern = make(map[string]string)
	}
	if old, there := n.m[uid]; there {
		if src < old.src { // SNI over Host, as in a capture
			n.m[uid] = zeekName{n.internName(host), src}
		}
		return nil
	}
	max := n.Max
	if max <= 0 {
		max = DefaultMaxNames
	}
	if len(n.m) >= max {
		n.Overflow++
		return nil
	}
	n.m[uid] = zeekName{n.internName(host), src}
	return nil
}

func (n *Names) internName(s string) string {
	if v, ok := n.intern[s]; ok {
		return v
	}
	n.intern[s] = s
	return s
}

// Len is how many uids have a name.
func (n *Names) Len() int { return len(n.m) }

// Name gives c the name its uid has, unless c has one already, then names
// it from the DNS answers as a capture's connections are (see
// names.AnswerLog).
func (n *Names) Name(c *flow.Connection) {
	if len(n.m) > 0 && !c.UID.IsZero() && c.ServerName == "" {
		if z, ok := n.m[c.UID]; ok {
			c.ServerName, c.NameSource = z.name, z.src
		}
	}
	n.DNS.Name(c)
}

// dnsPort is the server port whose answers name addresses: a capture's
// DNS answers are those from port 53 (Zeek's dns.log also has NetBIOS,
// mDNS and LLMNR, on 137, 5353 and 5355).
const dnsPort = 53

// errNoDNSPort: a dns.log must say each response's server port, the one
// thing that tells DNS (53) from mDNS (5353), LLMNR (5355) and NetBIOS
// (137), whose answers a capture does not take either.
var errNoDNSPort = errors.New("#fields: no id.resp_p column: the server port tells DNS (53) from mDNS (5353), LLMNR (5355) and NetBIOS (137), whose answers name nothing")

// tsvDNS reads a data line of a TSV dns.log.
func (n *Names) tsvDNS(cols [][]byte, st *nameLogState) error {
	val := func(c int) []byte {
		if i := st.col[c]; i >= 0 && !bytes.Equal(cols[i], st.unset) {
			return cols[i]
		}
		return nil
	}
	p := val(ncRespP)
	if p == nil {
		return errors.New("id.resp_p unset: the server port tells DNS (53) from mDNS (5353), LLMNR (5355) and NetBIOS (137)")
	}
	port, err := parsePort(p)
	if err != nil {
		return fmt.Errorf("id.resp_p: %w", err)
	}
	if port != dnsPort {
		return nil
	}
	if val(ncRcode) != nil {
		n.DNSResponses++
	}
	if q := val(ncQclass); q != nil {
		qc, err := parseCount(q)
		if err != nil {
			return fmt.Errorf("qclass %q: %w", q, err)
		}
		if qc&0x7fff != 1 {
			return nil // not class IN
		}
	}
	ts, err := parseTime(val(ncTS))
	if err != nil {
		return fmt.Errorf("ts %q: %w", cols[st.col[ncTS]], err)
	}
	client, err := netip.ParseAddr(string(val(ncOrigH)))
	if err != nil {
		return fmt.Errorf("id.orig_h %q: not an address", cols[st.col[ncOrigH]])
	}
	if r := val(ncRTT); r != nil {
		rtt, err := parseInterval(r)
		if err != nil || rtt < 0 {
			return fmt.Errorf("rtt %q: not an interval", r)
		}
		ts += int64(rtt)
	}
	query, answers := val(ncQuery), val(ncAnswers)
	if len(query) == 0 || answers == nil || bytes.Equal(answers, st.empty) {
		return nil
	}
	for a := range bytes.SplitSeq(answers, st.setSep) {
		if !n.dnsAnswer(client, a, query, ts) {
			break
		}
	}
	return nil
}

// jsonDNS reads a line of a JSON dns.log.
func (n *Names) jsonDNS(j *jsonNameLine) error {
	if j.RespP == nil {
		return errors.New("no id.resp_p: the server port tells DNS (53) from mDNS (5353), LLMNR (5355) and NetBIOS (137)")
	}
	if *j.RespP != dnsPort {
		return nil
	}
	if j.Rcode != nil {
		n.DNSResponses++
	}
	if j.Qclass != nil && *j.Qclass&0x7fff != 1 {
		return nil
	}
	switch {
	case len(j.TS) == 0:
		return errors.New("no ts")
	case j.OrigH == nil:
		return errors.New("no id.orig_h")
	}
	ts, err := jsonTime(j.TS)
	if err != nil {
		return err
	}
	client, err := netip.ParseAddr(*j.OrigH)
	if err != nil {
		return fmt.Errorf("id.orig_h %q: not an address", *j.OrigH)
	}
	if j.RTT != nil {
		if !(*j.RTT >= 0 && *j.RTT < 1e6) {
			return fmt.Errorf("rtt %v: not an interval", *j.RTT)
		}
		ts += int64(math.Round(*j.RTT * 1e9))
	}
	if j.Query == nil || *j.Query == "" {
		return nil
	}
	for _, a := range j.Answers {
		if !n.dnsAnswer(client, []byte(a), []byte(*j.Query), ts) {
			break
		}
	}
	return nil
}

// dnsAnswer records one answer of a dns.log line: an address (an A or
// AAAA answer; a CNAME's name, a TXT's text are not) names itself with
// the query, the head of any CNAME chain the answers hold. It reports
// false when the query is no host name, so no answer of the line counts.
func (n *Names) dnsAnswer(client netip.Addr, answer, query []byte, t int64) bool {
	addr, err := netip.ParseAddr(string(answer))
	if err != nil || addr.Zone() != "" {
		return true
	}
	if n.DNS.Max == 0 {
		n.DNS.Max = n.Max
		if n.DNS.Max <= 0 {
			n.DNS.Max = DefaultMaxNames
		}
	}
	return n.DNS.Add(client, addr, query, t)
}
