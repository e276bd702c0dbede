package connlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/flowaudit/flowaudit/analyzer/decode"
	"github.com/flowaudit/flowaudit/analyzer/flow"
)

// Columns flowaudit reads; the others are skipped.
const (
	colOther = iota
	colTS
	colOrigH
	colOrigP
	colRespH
	colRespP
	colProto
	colService
	colDuration
	colOrigBytes
	colRespBytes
	colState
	colLocalOrig
	colLocalResp
	colMissed
	colHistory
	colOrigPkts
	colOrigIPBytes
	colRespPkts
	colRespIPBytes
	colIPProto
	colCommunityID
	colUID
	numCols
)

var colNames = map[string]int{
	"ts": colTS, "id.orig_h": colOrigH, "id.orig_p": colOrigP, "id.resp_h": colRespH, "id.resp_p": colRespP,
	"proto": colProto, "service": colService, "duration": colDuration, "orig_bytes": colOrigBytes,
	"resp_bytes": colRespBytes, "conn_state": colState, "local_orig": colLocalOrig, "local_resp": colLocalResp,
	"missed_bytes": colMissed, "history": colHistory, "orig_pkts": colOrigPkts, "orig_ip_bytes": colOrigIPBytes,
	"resp_pkts": colRespPkts, "resp_ip_bytes": colRespIPBytes, "ip_proto": colIPProto, "community_id": colCommunityID,
	"uid": colUID,
}

// required are the columns without which a line is no connection.
var required = []string{"ts", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto"}

// tsvState is what the header lines of a TSV log declared.
type tsvState struct {
	sep    []byte
	unset  []byte
	empty  []byte
	cols   []int // the role of each column (colOther for the rest); nil before #fields
	fields [numCols]int
	strs   map[string]string // interned history and service values
}

func (s *tsvState) reset() {
	s.sep, s.unset, s.empty, s.cols = []byte{'\t'}, []byte("-"), []byte("(empty)"), nil
	if s.strs == nil {
		s.strs = make(map[string]string)
	}
}

// unescapeZeek decodes the \xHH escapes of Zeek's ASCII writer.
func unescapeZeek(b []byte) ([]byte, error) {
	if bytes.IndexByte(b, '\\') < 0 {
		return b, nil
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			out = append(out, b[i])
			continue
		}
		if i+3 >= len(b) || b[i+1] != 'x' {
			return nil, fmt.Errorf("escape %q: want \\xHH", b[i:min(i+4, len(b))])
		}
		v, err := strconv.ParseUint(string(b[i+2:i+4]), 16, 8)
		if err != nil {
			return nil, fmt.Errorf("escape %q: want \\xHH", b[i:i+4])
		}
		out = append(out, byte(v))
		i += 3
	}
	return out, nil
}

// header reads a '#' line.
func (r *Reader) header(line []byte) error {
	s := &r.tsv
	if v, ok := bytes.CutPrefix(line, []byte("#separator ")); ok {
		sep, err := unescapeZeek(bytes.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("#separator: %w", err)
		}
		if len(sep) == 0 {
			return errors.New("#separator: empty")
		}
		s.sep = sep
		return nil
	}
	key, val, _ := bytes.Cut(line, s.sep)
	unesc := func() ([]byte, error) {
		v, err := unescapeZeek(val)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		return bytes.Clone(v), nil
	}
	var err error
	switch string(key) {
	case "#unset_field":
		s.unset, err = unesc()
	case "#empty_field":
		s.empty, err = unesc()
	case "#path":
		if p := string(val); p != "conn" && !strings.HasPrefix(p, "conn_") && !strings.HasSuffix(p, "conn") {
			return fmt.Errorf("#path %s: a %s log, not a conn.log", p, p)
		}
	case "#fields":
		names := bytes.Split(val, s.sep)
		s.cols = make([]int, len(names))
		for i := range s.fields {
			s.fields[i] = -1
		}
		for i, n := range names {
			c := colNames[string(n)]
			if c != colOther && s.fields[c] >= 0 {
				return fmt.Errorf("#fields: %s twice", n)
			}
			s.cols[i] = c
			if c != colOther {
				s.fields[c] = i
			}
		}
		var missing []string
		for _, n := range required {
			if s.fields[colNames[n]] < 0 {
				missing = append(missing, n)
			}
		}
		if len(missing) > 0 {
			s.cols = nil
			return fmt.Errorf("#fields: no %s column", strings.Join(missing, ", "))
		}
	}
	return err
}

// tsvLine reads one line of a TSV log; ok says it was a connection.
func (r *Reader) tsvLine(line []byte, c *flow.Connection) (ok bool, err error) {
	if line[0] == '#' {
		return false, r.header(line)
	}
	s := &r.tsv
	if s.cols == nil {
		return false, errors.New("a data line before any #fields header")
	}
	var vals [numCols][]byte
	rest := line
	for i := range s.cols {
		var v []byte
		var j int
		if len(s.sep) == 1 {
			j = bytes.IndexByte(rest, s.sep[0])
		} else {
			j = bytes.Index(rest, s.sep)
		}
		if j < 0 {
			if i != len(s.cols)-1 {
				return false, fmt.Errorf("%d columns, the #fields header names %d", i+1, len(s.cols))
			}
			v, rest = rest, nil
		} else {
			if i == len(s.cols)-1 {
				return false, fmt.Errorf("more columns than the %d the #fields header names", len(s.cols))
			}
			v, rest = rest[:j], rest[j+len(s.sep):]
		}
		if col := s.cols[i]; col != colOther && !bytes.Equal(v, s.unset) {
			vals[col] = v
			if bytes.Equal(v, s.empty) {
				vals[col] = v[:0]
			}
		}
	}
	*c = flow.Connection{ClientBy: flow.ByRecord}
	for _, col := range []int{colTS, colOrigH, colOrigP, colRespH, colRespP, colProto} {
		if vals[col] == nil {
			return false, fmt.Errorf("%s unset", fieldName(col))
		}
	}
	start, err := parseTime(vals[colTS])
	if err != nil {
		return false, fmt.Errorf("ts %q: %w", vals[colTS], err)
	}
	if c.Orig, err = r.addr(vals[colOrigH]); err != nil {
		return false, fmt.Errorf("id.orig_h: %w", err)
	}
	if c.Resp, err = r.addr(vals[colRespH]); err != nil {
		return false, fmt.Errorf("id.resp_h: %w", err)
	}
	if c.OrigPort, err = parsePort(vals[colOrigP]); err != nil {
		return false, fmt.Errorf("id.orig_p: %w", err)
	}
	if c.RespPort, err = parsePort(vals[colRespP]); err != nil {
		return false, fmt.Errorf("id.resp_p: %w", err)
	}
	var ipProto int = -1
	if v := vals[colIPProto]; v != nil {
		n, err := parseCount(v)
		if err != nil || n > 255 {
			return false, fmt.Errorf("ip_proto %q: not a protocol number", v)
		}
		ipProto = int(n)
	}
	if c.Proto, err = protoOf(vals[colProto], ipProto, c.Orig); err != nil {
		return false, err
	}
	var dur time.Duration
	if v := vals[colDuration]; v == nil {
		c.Unknown |= flow.FieldDuration
	} else {
		if dur, err = parseInterval(v); err == nil && dur < 0 {
			err = errors.New("negative")
		}
		if err != nil {
			return false, fmt.Errorf("duration %q: %w", v, err)
		}
	}
	counts := [...]struct {
		col   int
		dst   *uint64
		field flow.Fields
	}{{colOrigBytes, &c.OrigBytes, flow.FieldOrigBytes}, {colRespBytes, &c.RespBytes, flow.FieldRespBytes},
		{colMissed, &c.MissedBytes, flow.FieldMissedBytes}, {colOrigPkts, &c.OrigPkts, flow.FieldOrigPkts},
		{colOrigIPBytes, &c.OrigIPBytes, flow.FieldOrigIPBytes}, {colRespPkts, &c.RespPkts, flow.FieldRespPkts},
		{colRespIPBytes, &c.RespIPBytes, flow.FieldRespIPBytes}}
	for _, f := range counts {
		if v := vals[f.col]; v == nil {
			c.Unknown |= f.field // unset, or no such column
		} else {
			if *f.dst, err = parseCount(v); err != nil {
				return false, fmt.Errorf("%s %q: %w", fieldName(f.col), v, err)
			}
		}
	}
	state := vals[colState]
	c.State = internState(state)
	if c.State == "" && len(state) > 0 {
		return false, fmt.Errorf("conn_state %q: not a state zeek writes", state)
	}
	if c.LocalOrig, err = parseBool(vals[colLocalOrig]); err != nil {
		return false, fmt.Errorf("local_orig: %w", err)
	}
	if c.LocalResp, err = parseBool(vals[colLocalResp]); err != nil {
		return false, fmt.Errorf("local_resp: %w", err)
	}
	if c.History, err = r.intern(vals[colHistory]); err != nil {
		return false, fmt.Errorf("history: %w", err)
	}
	if c.Service, err = r.intern(vals[colService]); err != nil {
		return false, fmt.Errorf("service: %w", err)
	}
	if v := vals[colCommunityID]; len(v) > 0 && r.Full {
		c.CommunityID = string(v)
	}
	if err := setUID(c, vals[colUID]); err != nil {
		return false, err
	}
	r.finish(c, start, dur)
	return true, nil
}

// finish sets the times and the outcome of a record read.
func (r *Reader) finish(c *flow.Connection, start int64, dur time.Duration) {
	c.Start = time.Unix(0, start).UTC()
	c.End = c.Start.Add(dur)
	// Which sides carried packets (OTH): a log without the packet
	// columns (a site's Log::Filter) tells it by the bytes, or by the
	// history's letters (upper case the originator's, lower case the
	// responder's); with the columns, those agree with the packets.
	op, rp := c.OrigPkts, c.RespPkts
	if op == 0 && (c.OrigIPBytes > 0 || c.OrigBytes > 0 || strings.IndexFunc(c.History, unicode.IsUpper) >= 0) {
		op = 1
	}
	if rp == 0 && (c.RespIPBytes > 0 || c.RespBytes > 0 || strings.IndexFunc(c.History, unicode.IsLower) >= 0) {
		rp = 1
	}
	state := c.State
	if state == "" {
		state = "OTH"
	}
	c.Outcome, _ = Outcome(state, op, rp)
}

// intern returns the string of an unescaped value, shared between the
// lines that repeat it (a bounded set).
func (r *Reader) intern(v []byte) (string, error) {
	if len(v) == 0 {
		return "", nil
	}
	v, err := unescapeZeek(v)
	if err != nil {
		return "", err
	}
	if s, ok := r.tsv.strs[string(v)]; ok {
		return s, nil
	}
	s := string(v)
	if len(r.tsv.strs) < maxInterned {
		r.tsv.strs[s] = s
	}
	return s, nil
}

const maxInterned = 1 << 12

var states = []string{"S0", "S1", "SF", "REJ", "S2", "S3", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH", "SHR", "OTH"}

// internState is the state's constant string, "" for none or an unknown one.
func internState(b []byte) string {
	for _, s := range states {
		if string(b) == s {
			return s
		}
	}
	return ""
}

func fieldName(col int) string {
	for n, c := range colNames {
		if c == col {
			return n
		}
	}
	return "?"
}

// protoOf is the IP protocol of Zeek's proto enum: ip_proto when the log
// has it (Zeek 7.1 on), ICMPv6 for icmp between IPv6 addresses.
func protoOf(proto []byte, ipProto int, orig netip.Addr) (uint8, error) {
	var p uint8
	switch string(proto) {
	case "tcp":
		p = decode.ProtoTCP
	case "udp":
		p = decode.ProtoUDP
	case "icmp":
		p = decode.ProtoICMP
		if orig.Is6() && !orig.Is4In6() {
			p = decode.ProtoICMPv6
		}
	case "unknown_transport":
		if ipProto < 0 {
			return 0, errors.New("proto unknown_transport without an ip_proto column: the protocol is unknown")
		}
		return uint8(ipProto), nil
	default:
		return 0, fmt.Errorf("proto %q: want tcp, udp, icmp or unknown_transport", proto)
	}
	if ipProto >= 0 && uint8(ipProto) != p {
		return 0, fmt.Errorf("proto %s and ip_proto %d disagree", proto, ipProto)
	}
	return p, nil
}

// parseTime reads Zeek's time: seconds since the epoch with a fraction.
func parseTime(b []byte) (int64, error) {
	d, err := parseInterval(b)
	if err != nil {
		return 0, err
	}
	if d < 0 {
		return 0, errors.New("before 1970")
	}
	return int64(d), nil
}

// parseInterval reads seconds with up to nine decimals ("12.000345").
func parseInterval(b []byte) (time.Duration, error) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	ip, fp, _ := bytes.Cut(b, []byte("."))
	if len(ip) == 0 && len(fp) == 0 {
		return 0, errors.New("not a number of seconds")
	}
	var sec, frac uint64
	for _, ch := range ip {
		if ch < '0' || ch > '9' || sec > maxSeconds {
			return 0, errors.New("not a number of seconds")
		}
		sec = sec*10 + uint64(ch-'0')
	}
	if sec > maxSeconds {
		return 0, errors.New("out of range")
	}
	scale := uint64(1e9)
	for i, ch := range fp {
		if ch < '0' || ch > '9' {
			return 0, errors.New("not a number of seconds")
		}
		if i < 9 {
			scale /= 10
			frac += uint64(ch-'0') * scale
		}
	}
	d := time.Duration(sec)*time.Second + time.Duration(frac)
	if d < 0 {
		return 0, errors.New("out of range")
	}
	if neg {
		d = -d
	}
	return d, nil
}

// maxSeconds is the longest time a Duration holds (about 292 years).
const maxSeconds = uint64(math.MaxInt64 / int64(time.Second))

func parseCount(b []byte) (uint64, error) {
	if len(b) == 0 || len(b) > 20 {
		return 0, errors.New("not a count")
	}
	var n uint64
	for _, ch := range b {
		if ch < '0' || ch > '9' {
			return 0, errors.New("not a count")
		}
		d := uint64(ch - '0')
		if n > (math.MaxUint64-d)/10 {
			return 0, errors.New("count out of range")
		}
		n = n*10 + d
	}
	return n, nil
}

func parsePort(b []byte) (uint16, error) {
	n, err := parseCount(b)
	if err != nil || n > 65535 {
		return 0, fmt.Errorf("%q: not a port", b)
	}
	return uint16(n), nil
}

func parseBool(b []byte) (string, error) {
	switch string(b) {
	case "":
		return "", nil
	case "T":
		return "T", nil
	case "F":
		return "F", nil
	}
	return "", fmt.Errorf("%q: want T or F", b)
}

// jsonConn is a line of Zeek's JSON log; unset fields are absent.
type jsonConn struct {
	TS          json.RawMessage `json:"ts"` // seconds, or an ISO 8601 string (JSON::TS_ISO8601)
	OrigH       *string         `json:"id.orig_h"`
	OrigP       *uint16         `json:"id.orig_p"`
	RespH       *string         `json:"id.resp_h"`
	RespP       *uint16         `json:"id.resp_p"`
	Proto       *string         `json:"proto"`
	Service     *string         `json:"service"`
	Duration    *float64        `json:"duration"`
	OrigBytes   optCount        `json:"orig_bytes"`
	RespBytes   optCount        `json:"resp_bytes"`
	State       *string         `json:"conn_state"`
	LocalOrig   *bool           `json:"local_orig"`
	LocalResp   *bool           `json:"local_resp"`
	MissedBytes optCount        `json:"missed_bytes"`
	History     string          `json:"history"`
	OrigPkts    optCount        `json:"orig_pkts"`
	OrigIPBytes optCount        `json:"orig_ip_bytes"`
	RespPkts    optCount        `json:"resp_pkts"`
	RespIPBytes optCount        `json:"resp_ip_bytes"`
	IPProto     *uint8          `json:"ip_proto"`
	CommunityID string          `json:"community_id"`
	UID         string          `json:"uid"`
}

// optCount is a count a JSON log may leave out (unset): set says it was
// there. A null is unset too.
type optCount struct {
	v   uint64
	set bool
}

func (o *optCount) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	// A count is digits (Zeek writes nothing else): read here, without a
	// decoder per field.
	if len(b) == 0 || len(b) > 20 {
		return fmt.Errorf("count %s: not a count", b)
	}
	var v uint64
	for _, c := range b {
		d := uint64(c - '0')
		if d > 9 || v > (math.MaxUint64-d)/10 {
			return fmt.Errorf("count %s: not a count", b)
		}
		v = v*10 + d
	}
	o.v, o.set = v, true
	return nil
}

// jsonLine reads one line of a JSON log.
func (r *Reader) jsonLine(line []byte, c *flow.Connection) (bool, error) {
	var j jsonConn
	if err := json.Unmarshal(line, &j); err != nil {
		return false, fmt.Errorf("not a JSON conn.log object: %w", err)
	}
	switch {
	case len(j.TS) == 0:
		return false, errors.New("no ts")
	case j.OrigH == nil:
		return false, errors.New("no id.orig_h")
	case j.OrigP == nil:
		return false, errors.New("no id.orig_p")
	case j.RespH == nil:
		return false, errors.New("no id.resp_h")
	case j.RespP == nil:
		return false, errors.New("no id.resp_p")
	case j.Proto == nil:
		return false, errors.New("no proto")
	}
	start, err := jsonTime(j.TS)
	if err != nil {
		return false, err
	}
	*c = flow.Connection{ClientBy: flow.ByRecord, OrigPort: *j.OrigP, RespPort: *j.RespP, History: j.History}
	for _, f := range [...]struct {
		o     optCount
		dst   *uint64
		field flow.Fields
	}{{j.OrigBytes, &c.OrigBytes, flow.FieldOrigBytes}, {j.RespBytes, &c.RespBytes, flow.FieldRespBytes},
		{j.MissedBytes, &c.MissedBytes, flow.FieldMissedBytes}, {j.OrigPkts, &c.OrigPkts, flow.FieldOrigPkts},
		{j.OrigIPBytes, &c.OrigIPBytes, flow.FieldOrigIPBytes}, {j.RespPkts, &c.RespPkts, flow.FieldRespPkts},
		{j.RespIPBytes, &c.RespIPBytes, flow.FieldRespIPBytes}} {
		*f.dst = f.o.v
		if !f.o.set {
			c.Unknown |= f.field // left out: unset
		}
	}
	if c.Orig, err = r.addr([]byte(*j.OrigH)); err != nil {
		return false, fmt.Errorf("id.orig_h: %w", err)
	}
	if c.Resp, err = r.addr([]byte(*j.RespH)); err != nil {
		return false, fmt.Errorf("id.resp_h: %w", err)
	}
	ipProto := -1
	if j.IPProto != nil {
		ipProto = int(*j.IPProto)
	}
	if c.Proto, err = protoOf([]byte(*j.Proto), ipProto, c.Orig); err != nil {
		return false, err
	}
	var dur time.Duration
	if j.Duration == nil {
		c.Unknown |= flow.FieldDuration
	} else {
		if *j.Duration < 0 || *j.Duration > 1e9 || math.IsNaN(*j.Duration) {
			return false, fmt.Errorf("duration %v: out of range", *j.Duration)
		}
		dur = time.Duration(math.Round(*j.Duration*1e6)) * time.Microsecond
	}
	if j.State != nil {
		if c.State = internState([]byte(*j.State)); c.State == "" {
			return false, fmt.Errorf("conn_state %q: not a state zeek writes", *j.State)
		}
	}
	tf := func(b *bool) string {
		switch {
		case b == nil:
			return ""
		case *b:
			return "T"
		}
		return "F"
	}
	c.LocalOrig, c.LocalResp = tf(j.LocalOrig), tf(j.LocalResp)
	if j.Service != nil {
		c.Service = *j.Service
	}
	if r.Full {
		c.CommunityID = j.CommunityID
	}
	if j.UID != "" {
		if err := setUID(c, []byte(j.UID)); err != nil {
			return false, err
		}
	}
	r.finish(c, start, dur)
	return true, nil
}

// jsonTime reads the ts of a JSON log: epoch seconds, or an ISO 8601
// string (JSON::TS_ISO8601); Unix nanoseconds.
func jsonTime(ts json.RawMessage) (int64, error) {
	if ts[0] == '"' {
		var s string
		_ = json.Unmarshal(ts, &s)
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return 0, fmt.Errorf("ts %s: not a time", ts)
		}
		return t.UnixNano(), nil
	}
	start, err := parseTime(ts)
	if err != nil {
		f, ferr := strconv.ParseFloat(string(ts), 64)
		if ferr != nil || f < 0 || f > 9e9 {
			return 0, fmt.Errorf("ts %s: %w", ts, err)
		}
		start = int64(f * 1e9)
	}
	return start, nil
}

// setUID keeps the record's uid (nil: unset, or no uid column) on c, so
// that what is written of the connection matches Zeek's other logs.
func setUID(c *flow.Connection, v []byte) error {
	if v == nil {
		return nil
	}
	u, ok := flow.ParseUID(v)
	if !ok {
		return fmt.Errorf("uid %q: not a zeek uid (1 to %d letters and digits)", v, flow.MaxUIDLen)
	}
	c.UID = u
	return nil
}
