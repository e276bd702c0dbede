// Package zeeklog writes finished connections as a Zeek conn.log, in the
// two formats Zeek's logging framework writes: the ASCII (TSV) writer, with
// its #separator, #set_separator, #empty_field, #unset_field, #path, #open,
// #fields, #types and #close lines, and the JSON writer (one object per line,
// "id.orig_h" keys, unset fields left out). Existing Zeek tooling (zeek-cut,
// RITA, SIEM parsers) reads the result unchanged, and flowaudit reads it back
// as an input.
//
// The columns are base/protocols/conn/main.zeek's Conn::Info in its order,
// Zeek 7.1's ip_proto included, then community_id as the
// policy/protocols/conn/community-id-logging.zeek script adds it. Fields
// flowaudit cannot know are unset, as Zeek leaves them without the
// corresponding analysis: service (no protocol detection), local_orig and
// local_resp (no Site::local_nets) — unless the connection came from a
// sensor's conn.log that had them (connlog) —, tunnel_parents (a tunnel is analysed by
// its inner flow; the outer connection is not logged). So is what a
// sensor's record did not give (flow.Connection.Unknown, an empty
// conn_state or history): a NetFlow/IPFIX record's payload bytes,
// missed_bytes, conn_state and history, a conn.log's unset fields.
//
// Output is deterministic: uid is derived from the connection (its
// creation order, addresses, ports, protocol and start), and #open and
// #close carry capture times in UTC (the first logged connection's start,
// the end of the capture) where Zeek writes the wall clock.
package zeeklog

import (
	"encoding/binary"
	"hash/fnv"
	"io"
	"strconv"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/decode"
	"github.com/flowaudit/flowaudit/analyzer/flow"
)

// Fields are the conn.log columns, in Zeek's order.
var Fields = []string{"ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service",
	"duration", "orig_bytes", "resp_bytes", "conn_state", "local_orig", "local_resp", "missed_bytes", "history",
	"orig_pkts", "orig_ip_bytes", "resp_pkts", "resp_ip_bytes", "tunnel_parents", "ip_proto", "community_id"}

// Types are the Zeek types of Fields, as the #types line gives them.
var Types = []string{"time", "string", "addr", "port", "addr", "port", "enum", "string",
	"interval", "count", "count", "string", "bool", "bool", "count", "string",
	"count", "count", "count", "count", "set[string]", "count", "string"}

// The ASCII writer's defaults (LogAscii::separator, set_separator,
// empty_field, unset_field).
const (
	Separator    = '\t'
	SetSeparator = ','
	EmptyField   = "(empty)"
	UnsetField   = "-"
	// TimeFormat is the layout of #open and #close (Zeek's
	// "%Y-%m-%d-%H-%M-%S").
	TimeFormat = "2006-01-02-15-04-05"
)

// Writer writes a conn.log. It is not safe for concurrent use.
type Writer struct {
	w      io.Writer
	json   bool
	opened bool
	buf    []byte
	err    error
}

// NewTSV returns a Writer of Zeek's ASCII (TSV) format.
func NewTSV(w io.Writer) *Writer { return &Writer{w: w} }

// NewJSON returns a Writer of Zeek's JSON format.
func NewJSON(w io.Writer) *Writer { return &Writer{w: w, json: true} }

// open writes the TSV header once, with t as the #open time.
func (w *Writer) open(t time.Time) {
	if w.opened {
		return
	}
	w.opened = true
	if w.json {
		return
	}
	b := w.buf[:0]
	b = append(b, "#separator \\x09\n"...)
	b = append(b, "#set_separator\t,\n"...)
	b = append(b, "#empty_field\t"+EmptyField+"\n"...)
	b = append(b, "#unset_field\t"+UnsetField+"\n"...)
	b = append(b, "#path\tconn\n"...)
	b = append(b, "#open\t"...)
	b = t.UTC().AppendFormat(b, TimeFormat)
	b = append(b, "\n#fields"...)
	for _, f := range Fields {
		b = append(append(b, '\t'), f...)
	}
	b = append(b, "\n#types"...)
	for _, f := range Types {
		b = append(append(b, '\t'), f...)
	}
	w.buf = append(b, '\n')
	w.flush()
}

func (w *Writer) flush() {
	if w.err == nil {
		_, w.err = w.w.Write(w.buf)
	}
}

// Write writes one connection. The first one opens the log: its start is
// the #open time.
func (w *Writer) Write(c *flow.Connection) error {
	w.open(c.Start)
	if w.json {
		w.buf = AppendJSON(w.buf[:0], c)
	} else {
		w.buf = AppendTSV(w.buf[:0], c)
	}
	w.buf = append(w.buf, '\n')
	w.flush()
	return w.err
}

// Close ends the log: the TSV format's #close line with t, the end of the
// capture (a log without connections gets its header too, opened at t).
func (w *Writer) Close(t time.Time) error {
	w.open(t)
	if !w.json {
		w.buf = t.UTC().AppendFormat(append(w.buf[:0], "#close\t"...), TimeFormat)
		w.buf = append(w.buf, '\n')
		w.flush()
	}
	return w.err
}

// Proto is the transport_proto enum Zeek logs: tcp, udp, icmp (ICMPv6 too),
// or unknown_transport, with the number in ip_proto.
func Proto(p uint8) string {
	switch p {
	case decode.ProtoTCP:
		return "tcp"
	case decode.ProtoUDP:
		return "udp"
	case decode.ProtoICMP, decode.ProtoICMPv6:
		return "icmp"
	}
	return "unknown_transport"
}

// appendUID appends UID(c), without a string for a conn.log's uid.
func appendUID(b []byte, c *flow.Connection) []byte {
	if !c.UID.IsZero() {
		return c.UID.AppendTo(b)
	}
	return append(b, UID(c)...)
}

// UID is the connection's uid: "C" and 17 base-62 digits, as Zeek's look,
// from a hash of the connection's creation order, endpoints, protocol and
// start, so the same capture always gives the same uids; a connection
// from a Zeek conn.log keeps the uid Zeek gave it.
func UID(c *flow.Connection) string {
	if !c.UID.IsZero() {
		return c.UID.String()
	}
	var b [40 + 8 + 8 + 5]byte
	o, r := c.Orig.As16(), c.Resp.As16()
	k := append(b[:0], o[:]...)
	k = append(k, r[:]...)
	k = binary.BigEndian.AppendUint64(k, c.ID)
	k = binary.BigEndian.AppendUint64(k, uint64(c.Start.UnixNano()))
	k = binary.BigEndian.AppendUint16(k, c.OrigPort)
	k = binary.BigEndian.AppendUint16(k, c.RespPort)
	k = append(k, c.Proto)
	h := fnv.New128a()
	h.Write(k)
	var sum [16]byte
	s := h.Sum(sum[:0])
	out := make([]byte, 0, 18)
	out = append(out, 'C')
	out = base62(out, binary.BigEndian.Uint64(s[0:8]), 11)
	out = base62(out, uint64(binary.BigEndian.Uint32(s[8:12])), 6)
	return string(out)
}

const digits62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// base62 appends v in base 62, n digits (zero-padded, or cut to the lower
// digits).
func base62(b []byte, v uint64, n int) []byte {
	start := len(b)
	for range n {
		b = append(b, digits62[v%62])
		v /= 62
	}
	for i, j := start, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return b
}

// AppendSeconds appends d in seconds with six decimals, as Zeek writes
// time and interval values.
func AppendSeconds(b []byte, d time.Duration) []byte {
	us := d.Microseconds()
	if us < 0 {
		b = append(b, '-')
		us = -us
	}
	b = strconv.AppendInt(b, us/1e6, 10)
	b = strconv.AppendInt(b, 1e6+us%1e6, 10) // seven digits: the 1 becomes the point
	b[len(b)-7] = '.'
	return b
}

// appendEscaped appends s as the ASCII writer writes a string field: the
// separators, the backslash and bytes that are not printable ASCII as
// \xHH; a value that reads as the unset or empty marker has its first
// byte escaped.
func appendEscaped(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	for i := 0; i < len(s); i++ {
		c := s[i]
		esc := c < 0x20 || c >= 0x7f || c == '\\' || c == Separator || c == SetSeparator
		if i == 0 && (s == UnsetField || s == EmptyField) {
			esc = true
		}
		if esc {
			b = append(b, '\\', 'x', hex[c>>4], hex[c&15])
		} else {
			b = append(b, c)
		}
	}
	return b
}

// durationSet says whether the log sets the connection's duration: as
// Zeek, only for one that lasted, and only when its source knew it.
func durationSet(c *flow.Connection) bool {
	return c.Duration() > 0 && c.Known(flow.FieldDuration)
}

// AppendTSV appends the connection as one conn.log line, without the
// newline.
func AppendTSV(b []byte, c *flow.Connection) []byte {
	tab := func(b []byte) []byte { return append(b, Separator) }
	num := func(b []byte, v uint64) []byte { return strconv.AppendUint(append(b, Separator), v, 10) }
	b = AppendSeconds(b, time.Duration(c.Start.UnixNano()))
	b = appendUID(tab(b), c)
	b = c.Orig.Unmap().AppendTo(tab(b))
	b = num(b, uint64(c.OrigPort))
	b = c.Resp.Unmap().AppendTo(tab(b))
	b = num(b, uint64(c.RespPort))
	b = append(tab(b), Proto(c.Proto)...)
	if c.Service != "" { // from a sensor's record (connlog)
		b = appendEscaped(tab(b), c.Service)
	} else {
		b = append(tab(b), UnsetField...) // service
	}
	// What the source could not give (a sensor's record) is unset.
	opt := func(b []byte, f flow.Fields, v uint64) []byte {
		if !c.Known(f) {
			return append(tab(b), UnsetField...)
		}
		return num(b, v)
	}
	// As Zeek: duration and the payload byte counts only for a
	// connection that lasted (or, from a log without its duration, as
	// the log gave them).
	lasted := durationSet(c)
	if lasted {
		b = AppendSeconds(tab(b), c.Duration())
	} else {
		b = append(tab(b), UnsetField...)
	}
	for _, f := range [2]struct {
		f flow.Fields
		v uint64
	}{{flow.FieldOrigBytes, c.OrigBytes}, {flow.FieldRespBytes, c.RespBytes}} {
		if lasted || !c.Known(flow.FieldDuration) {
			b = opt(b, f.f, f.v)
		} else {
			b = append(tab(b), UnsetField...)
		}
	}
	if c.State != "" {
		b = appendEscaped(tab(b), c.State)
	} else {
		b = append(tab(b), UnsetField...) // a NetFlow record has none
	}
	for _, l := range [2]string{c.LocalOrig, c.LocalResp} {
		if l == "" {
			l = UnsetField
		}
		b = append(tab(b), l...)
	}
	b = opt(b, flow.FieldMissedBytes, c.MissedBytes)
	if c.History != "" {
		b = appendEscaped(tab(b), c.History)
	} else {
		b = append(tab(b), UnsetField...)
	}
	b = opt(b, flow.FieldOrigPkts, c.OrigPkts)
	b = opt(b, flow.FieldOrigIPBytes, c.OrigIPBytes)
	b = opt(b, flow.FieldRespPkts, c.RespPkts)
	b = opt(b, flow.FieldRespIPBytes, c.RespIPBytes)
	b = append(tab(b), UnsetField...) // tunnel_parents
	b = num(b, uint64(c.Proto))
	if c.CommunityID != "" {
		b = appendEscaped(tab(b), c.CommunityID)
	} else {
		b = append(tab(b), UnsetField...)
	}
	return b
}

// AppendJSON appends the connection as one JSON object in Zeek's JSON log
// format (unset fields left out), without the newline.
func AppendJSON(b []byte, c *flow.Connection) []byte {
	str := func(b []byte, key, v string) []byte {
		b = append(append(append(b, ",\""...), key...), "\":\""...)
		return append(appendJSONString(b, v), '"')
	}
	num := func(b []byte, key string, v uint64) []byte {
		return strconv.AppendUint(append(append(append(b, ",\""...), key...), "\":"...), v, 10)
	}
	b = AppendSeconds(append(b, `{"ts":`...), time.Duration(c.Start.UnixNano()))
	b = str(b, "uid", UID(c))
	b = append(c.Orig.Unmap().AppendTo(append(b, `,"id.orig_h":"`...)), '"')
	b = num(b, "id.orig_p", uint64(c.OrigPort))
	b = append(c.Resp.Unmap().AppendTo(append(b, `,"id.resp_h":"`...)), '"')
	b = num(b, "id.resp_p", uint64(c.RespPort))
	b = str(b, "proto", Proto(c.Proto))
	if c.Service != "" {
		b = str(b, "service", c.Service)
	}
	opt := func(b []byte, f flow.Fields, key string, v uint64) []byte {
		if !c.Known(f) {
			return b
		}
		return num(b, key, v)
	}
	lasted := durationSet(c)
	if lasted {
		b = AppendSeconds(append(b, `,"duration":`...), c.Duration())
	}
	if lasted || !c.Known(flow.FieldDuration) {
		b = opt(b, flow.FieldOrigBytes, "orig_bytes", c.OrigBytes)
		b = opt(b, flow.FieldRespBytes, "resp_bytes", c.RespBytes)
	}
	if c.State != "" {
		b = str(b, "conn_state", c.State)
	}
	if c.LocalOrig != "" {
		b = append(append(b, `,"local_orig":`...), strconv.FormatBool(c.LocalOrig == "T")...)
	}
	if c.LocalResp != "" {
		b = append(append(b, `,"local_resp":`...), strconv.FormatBool(c.LocalResp == "T")...)
	}
	b = opt(b, flow.FieldMissedBytes, "missed_bytes", c.MissedBytes)
	if c.History != "" {
		b = str(b, "history", c.History)
	}
	b = opt(b, flow.FieldOrigPkts, "orig_pkts", c.OrigPkts)
	b = opt(b, flow.FieldOrigIPBytes, "orig_ip_bytes", c.OrigIPBytes)
	b = opt(b, flow.FieldRespPkts, "resp_pkts", c.RespPkts)
	b = opt(b, flow.FieldRespIPBytes, "resp_ip_bytes", c.RespIPBytes)
	b = num(b, "ip_proto", uint64(c.Proto))
	if c.CommunityID != "" {
		b = str(b, "community_id", c.CommunityID)
	}
	return append(b, '}')
}

// appendJSONString appends the inside of a JSON string: quotes,
// backslashes and control characters escaped (the values here are
// flowaudit's own ASCII names, so nothing else needs it).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		default:
			b = append(b, c)
		}
	}
	return b
}
