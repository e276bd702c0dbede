package main

import (
	"strconv"
	"unicode/utf8"
)

// appendJSON appends the record as one JSON object, with the same fields,
// order and omissions as encoding/json gives flowRecord (a test holds the
// two equal), without reflection: flows prints one line per connection and
// millions of them on a large capture.
func (r *flowRecord) appendJSON(b []byte) []byte {
	str := func(b []byte, key, v string) []byte {
		b = append(b, ',', '"')
		b = append(b, key...)
		b = append(b, '"', ':')
		return appendJSONString(b, v)
	}
	num := func(b []byte, key string, v uint64) []byte {
		b = append(b, ',', '"')
		b = append(b, key...)
		b = append(b, '"', ':')
		return strconv.AppendUint(b, v, 10)
	}
	raw := func(b []byte, key, v string) []byte {
		b = append(b, ',', '"')
		b = append(b, key...)
		b = append(b, '"', ':')
		return append(b, v...)
	}
	b = append(b, `{"ts":`...)
	b = append(b, r.TS...)
	b = str(b, "id.orig_h", r.OrigH)
	b = num(b, "id.orig_p", uint64(r.OrigP))
	b = str(b, "id.resp_h", r.RespH)
	b = num(b, "id.resp_p", uint64(r.RespP))
	b = str(b, "proto", r.Proto)
	b = raw(b, "duration", string(r.Duration))
	b = num(b, "orig_bytes", r.OrigBytes)
	b = num(b, "resp_bytes", r.RespBytes)
	b = str(b, "conn_state", r.ConnState)
	if r.History != "" {
		b = str(b, "history", r.History)
	}
	b = num(b, "orig_pkts", r.OrigPkts)
	b = num(b, "orig_ip_bytes", r.OrigIPBytes)
	b = num(b, "resp_pkts", r.RespPkts)
	b = num(b, "resp_ip_bytes", r.RespIPBytes)
	if r.VLAN != 0 {
		b = num(b, "vlan", uint64(r.VLAN))
	}
	if r.InnerVLAN != 0 {
		b = num(b, "inner_vlan", uint64(r.InnerVLAN))
	}
	if r.Tunnel != "" {
		b = str(b, "tunnel", r.Tunnel)
	}
	b = str(b, "community_id", r.CommunityID)
	b = str(b, "outcome", r.Outcome)
	b = str(b, "client_by", r.ClientBy)
	if r.ICMPErrors != 0 {
		b = num(b, "icmp_errors", r.ICMPErrors)
	}
	b = str(b, "file", r.File)
	b = num(b, "first_frame", r.FirstFrame)
	if r.LastFile != "" {
		b = str(b, "last_file", r.LastFile)
	}
	b = num(b, "last_frame", r.LastFrame)
	return append(b, '}')
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
