package connout

import (
	"net/netip"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/flowaudit/flowaudit/analyzer/flow"
	"github.com/flowaudit/flowaudit/analyzer/zeeklog"
	"github.com/flowaudit/flowaudit/catalog"
)

// appendConnCSV appends one connection as a CSV record (Columns, line
// ending "\n") with the same bytes encoding/csv writes for makeFlowRecord's
// record (a test holds the two equal), straight from the connection: like
// appendConnJSON it makes no per-row strings or slices, so that flows -f
// csv on millions of connections leaves the collector nothing to chase.
// paths are the capture paths already written as CSV fields.
func appendConnCSV(b []byte, c *flow.Connection, paths []string) []byte {
	u := func(b []byte, v uint64) []byte { return append(strconv.AppendUint(b, v, 10), ',') }
	opt := func(b []byte, v uint64) []byte {
		if v != 0 {
			b = strconv.AppendUint(b, v, 10)
		}
		return append(b, ',')
	}
	str := func(b []byte, s string) []byte { return append(appendCSVField(b, s), ',') }
	addr := func(b []byte, a netip.Addr) []byte {
		// Without a zone an address is hex digits, dots and colons; a zone
		// (from a sensor's record) can be anything.
		if a.Zone() != "" {
			return append(appendCSVField(b, a.String()), ',')
		}
		return append(a.AppendTo(b), ',')
	}
	file := func(i int) string {
		if i >= 0 && i < len(paths) {
			return paths[i]
		}
		return ""
	}
	b = append(zeeklog.AppendSeconds(b, time.Duration(c.Start.UnixNano())), ',')
	b = addr(b, c.Orig)
	b = u(b, uint64(c.OrigPort))
	b = addr(b, c.Resp)
	b = u(b, uint64(c.RespPort))
	b = str(b, catalog.ProtoName(c.Proto))
	b = str(b, c.Service)
	// What the source could not give (a sensor's record) is an empty
	// field, as is an unknown state.
	known := func(b []byte, f flow.Fields, v uint64) []byte {
		if !c.Known(f) {
			return append(b, ',')
		}
		return u(b, v)
	}
	if c.Known(flow.FieldDuration) {
		b = zeeklog.AppendSeconds(b, c.Duration())
	}
	b = append(b, ',')
	b = known(b, flow.FieldOrigBytes, c.OrigBytes)
	b = known(b, flow.FieldRespBytes, c.RespBytes)
	b = str(b, c.State)
	b = str(b, c.LocalOrig) // T, F or empty, as Zeek writes them
	b = str(b, c.LocalResp)
	b = known(b, flow.FieldMissedBytes, c.MissedBytes)
	b = str(b, c.History)
	b = known(b, flow.FieldOrigPkts, c.OrigPkts)
	b = known(b, flow.FieldOrigIPBytes, c.OrigIPBytes)
	b = known(b, flow.FieldRespPkts, c.RespPkts)
	b = known(b, flow.FieldRespIPBytes, c.RespIPBytes)
	b = opt(b, uint64(c.VLAN))
	b = opt(b, uint64(c.InnerVLAN))
	b = str(b, tunnelName(c.Tunnel))
	b = str(b, c.CommunityID)
	b = str(b, c.Outcome.String())
	b = str(b, c.ClientBy.String())
	b = opt(b, c.ICMPErrors)
	b = str(b, c.ServerName)
	b = str(b, c.NameSource.String())
	b = append(append(b, file(c.FirstPos.File)...), ',')
	b = opt(b, c.FirstPos.Frame) // frames: none in a sensor's flow record
	if c.LastPos.File != c.FirstPos.File {
		b = append(b, file(c.LastPos.File)...)
	}
	b = append(b, ',')
	if c.LastPos.Frame != 0 {
		b = strconv.AppendUint(b, c.LastPos.Frame, 10)
	}
	b = c.UID.AppendTo(append(b, ',')) // letters and digits: never quoted
	return append(b, '\n')
}

// csvPaths are the capture paths written once as CSV fields.
func csvPaths(paths []string) []string {
	q := make([]string, len(paths))
	for i, p := range paths {
		q[i] = string(appendCSVField(nil, p))
	}
	return q
}

// appendCSVRecord appends fields as one CSV record, as encoding/csv's
// Writer does with its defaults.
func appendCSVRecord(b []byte, fields []string) []byte {
	for i, f := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCSVField(b, f)
	}
	return append(b, '\n')
}

// appendCSVField appends s as encoding/csv's Writer does with its defaults
// (comma, "\n" line endings): quoted, with quotes doubled, when it holds a
// comma, quote, CR or LF, begins with a space, or is `\.`.
func appendCSVField(b []byte, s string) []byte {
	if !csvNeedsQuotes(s) {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

// csvNeedsQuotes is encoding/csv's fieldNeedsQuotes for the comma.
func csvNeedsQuotes(s string) bool {
	if s == "" {
		return false
	}
	if s == `\.` {
		return true
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\n' || c == '\r' || c == '"' || c == ',' {
			return true
		}
	}
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsSpace(r)
}
