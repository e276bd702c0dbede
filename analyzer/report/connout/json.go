package connout

import (
	"net/netip"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/flowaudit/flowaudit/analyzer/flow"
	"github.com/flowaudit/flowaudit/analyzer/zeeklog"
	"github.com/flowaudit/flowaudit/catalog"
)

// jsonPaths are the capture paths written once as JSON strings (quoted
// and escaped), so that each line copies its file name instead of escaping
// it again.
type jsonPaths []string

func quotePaths(paths []string) jsonPaths {
	q := make(jsonPaths, len(paths))
	for i, p := range paths {
		q[i] = string(appendJSONString(nil, p))
	}
	return q
}

// appendConnJSON appends one connection as a JSON object with the same
// fields, order and omissions as encoding/json gives makeFlowRecord's
// flowRecord (a test holds the two equal), straight from the connection:
// flows prints one line per connection, millions on a large capture, and
// this path makes no string or reflection garbage.
//
// The protocol, state, history, tunnel, Community ID, outcome and client
// rule are names flowaudit makes from letters, digits and "+/=:^-", which
// JSON takes as they are (a test checks every one): they are copied
// between quotes without the escaping pass.
func appendConnJSON(b []byte, c *flow.Connection, paths jsonPaths) []byte {
	// Each key is appended with its punctuation as one constant.
	name := func(b []byte, key, v string) []byte {
		b = append(append(b, key...), '"')
		return append(append(b, v...), '"')
	}
	num := func(b []byte, key string, v uint64) []byte { return strconv.AppendUint(append(b, key...), v, 10) }
	addr := func(b []byte, key string, a netip.Addr) []byte {
		b = a.AppendTo(append(b, key...))
		return append(b, '"')
	}
	file := func(i int) string {
		if i >= 0 && i < len(paths) {
			return paths[i]
		}
		return `""`
	}
	b = zeeklog.AppendSeconds(append(b, `{"ts":`...), time.Duration(c.Start.UnixNano()))
	if !c.UID.IsZero() { // a Zeek conn.log's uid: letters and digits
		b = append(c.UID.AppendTo(append(b, `,"uid":"`...)), '"')
	}
	b = addr(b, `,"id.orig_h":"`, c.Orig)
	b = num(b, `,"id.orig_p":`, uint64(c.OrigPort))
	b = addr(b, `,"id.resp_h":"`, c.Resp)
	b = num(b, `,"id.resp_p":`, uint64(c.RespPort))
	b = name(b, `,"proto":`, catalog.ProtoName(c.Proto))
	if c.Service != "" { // a sensor's text: escaped
		b = appendJSONString(append(b, `,"service":`...), c.Service)
	}
	// What the source could not give (a sensor's record) is left out.
	if c.Known(flow.FieldDuration) {
		b = zeeklog.AppendSeconds(append(b, `,"duration":`...), c.Duration())
	}
	b = optNum(b, c, flow.FieldOrigBytes, `,"orig_bytes":`, c.OrigBytes)
	b = optNum(b, c, flow.FieldRespBytes, `,"resp_bytes":`, c.RespBytes)
	if c.State != "" {
		b = name(b, `,"conn_state":`, c.State)
	}
	for _, l := range [2]struct{ key, v string }{{`,"local_orig":`, c.LocalOrig}, {`,"local_resp":`, c.LocalResp}} {
		if l.v != "" {
			b = strconv.AppendBool(append(b, l.key...), l.v == "T")
		}
	}
	b = optNum(b, c, flow.FieldMissedBytes, `,"missed_bytes":`, c.MissedBytes)
	if c.History != "" {
		b = name(b, `,"history":`, c.History)
	}
	b = optNum(b, c, flow.FieldOrigPkts, `,"orig_pkts":`, c.OrigPkts)
	b = optNum(b, c, flow.FieldOrigIPBytes, `,"orig_ip_bytes":`, c.OrigIPBytes)
	b = optNum(b, c, flow.FieldRespPkts, `,"resp_pkts":`, c.RespPkts)
	b = optNum(b, c, flow.FieldRespIPBytes, `,"resp_ip_bytes":`, c.RespIPBytes)
	if c.VLAN != 0 {
		b = num(b, `,"vlan":`, uint64(c.VLAN))
	}
	if c.InnerVLAN != 0 {
		b = num(b, `,"inner_vlan":`, uint64(c.InnerVLAN))
	}
	if t := tunnelName(c.Tunnel); t != "" {
		b = name(b, `,"tunnel":`, t)
	}
	if c.CommunityID != "" {
		b = name(b, `,"community_id":`, c.CommunityID)
	}
	b = name(b, `,"outcome":`, c.Outcome.String())
	b = name(b, `,"client_by":`, c.ClientBy.String())
	if c.ICMPErrors != 0 {
		b = num(b, `,"icmp_errors":`, c.ICMPErrors)
	}
	// Server names hold only [a-z0-9._-] (package names checks them), and
	// their sources are fixed words: no escaping needed.
	if c.ServerName != "" {
		b = name(b, `,"server_name":`, c.ServerName)
		b = name(b, `,"server_name_source":`, c.NameSource.String())
	}
	b = append(append(b, `,"file":`...), file(c.FirstPos.File)...)
	if c.FirstPos.Frame == 0 {
		return append(b, '}') // a sensor's flow record: no frames
	}
	b = num(b, `,"first_frame":`, c.FirstPos.Frame)
	if c.LastPos.File != c.FirstPos.File {
		if lf := file(c.LastPos.File); lf != `""` {
			b = append(append(b, `,"last_file":`...), lf...)
		}
	}
	b = num(b, `,"last_frame":`, c.LastPos.Frame)
	return append(b, '}')
}

// optNum appends key and v when the connection's source gave field f.
func optNum(b []byte, c *flow.Connection, f flow.Fields, key string, v uint64) []byte {
	if !c.Known(f) {
		return b
	}
	return strconv.AppendUint(append(b, key...), v, 10)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string the way encoding/json does
// with HTML escaping off: quotes, backslashes and control characters
// escaped, invalid UTF-8 replaced by U+FFFD, U+2028 and U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
