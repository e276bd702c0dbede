package zeeklog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/flow"
)

var _ = flag.Bool("update", false, "rewrite golden files (none in this package)")

// zeekLog is a conn.log read back by readTSV, a small reader written to
// Zeek's documented ASCII format (Log Formats: the header lines, \xHH
// escapes, "-" unset, "(empty)" for an empty set), not to this writer.
type zeekLog struct {
	header map[string]string // separator, set_separator, empty_field, unset_field, path, open, close
	fields []string
	types  []string
	rows   []map[string]*string // nil: unset
}

func unescape(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			v, err := strconv.ParseUint(s[i+2:i+4], 16, 8)
			if err != nil {
				return "", err
			}
			b.WriteByte(byte(v))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String(), nil
}

func readTSV(data []byte) (*zeekLog, error) {
	l := &zeekLog{header: map[string]string{}}
	sep := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "#separator ") {
			v, err := unescape(strings.TrimPrefix(line, "#separator "))
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			sep = v
			l.header["separator"] = v
			continue
		}
		if sep == "" {
			return nil, fmt.Errorf("line %d: no #separator first", n)
		}
		if strings.HasPrefix(line, "#") {
			parts := strings.Split(line[1:], sep)
			switch parts[0] {
			case "fields":
				l.fields = parts[1:]
			case "types":
				l.types = parts[1:]
			default:
				if len(parts) != 2 {
					return nil, fmt.Errorf("line %d: header %q", n, line)
				}
				l.header[parts[0]] = parts[1]
			}
			continue
		}
		vals := strings.Split(line, sep)
		if len(vals) != len(l.fields) {
			return nil, fmt.Errorf("line %d: %d values for %d fields", n, len(vals), len(l.fields))
		}
		row := map[string]*string{}
		for i, v := range vals {
			if v == l.header["unset_field"] {
				row[l.fields[i]] = nil
				continue
			}
			u, err := unescape(v)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			row[l.fields[i]] = &u
		}
		l.rows = append(l.rows, row)
	}
	return l, sc.Err()
}

var (
	start = time.Date(2025, 4, 15, 7, 45, 2, 123456000, time.UTC)
	conns = []flow.Connection{
		{ID: 1, Orig: netip.MustParseAddr("192.0.2.11"), Resp: netip.MustParseAddr("192.0.2.31"), OrigPort: 50123, RespPort: 443, Proto: 6,
			Start: start, End: start.Add(3157831 * time.Microsecond), OrigPkts: 10, RespPkts: 8, OrigBytes: 517, RespBytes: 4410,
			OrigIPBytes: 1049, RespIPBytes: 4842, State: "SF", History: "ShADadgfFa", MissedBytes: 1400, CommunityID: "1:abc+/=="},
		{ID: 2, Orig: netip.MustParseAddr("fe80::1"), Resp: netip.MustParseAddr("ff02::1:2"), OrigPort: 546, RespPort: 547, Proto: 17,
			Start: start.Add(time.Second), End: start.Add(time.Second), OrigPkts: 1, OrigBytes: 60, OrigIPBytes: 108, State: "S0", History: "D", CommunityID: "1:x"},
		{ID: 3, Orig: netip.MustParseAddr("10.0.0.1"), Resp: netip.MustParseAddr("10.0.0.2"), OrigPort: 8, RespPort: 0, Proto: 1,
			Start: start.Add(2 * time.Second), End: start.Add(2*time.Second + 1500*time.Microsecond), OrigPkts: 1, RespPkts: 1, OrigBytes: 56, RespBytes: 56,
			OrigIPBytes: 84, RespIPBytes: 84, State: "OTH"},
		{ID: 4, Orig: netip.MustParseAddr("192.0.2.1"), Resp: netip.MustParseAddr("224.0.0.18"), Proto: 112,
			Start: start.Add(3 * time.Second), End: start.Add(5 * time.Second), OrigPkts: 3, OrigBytes: 60, OrigIPBytes: 120, State: "OTH"},
		{ID: 5, Orig: netip.MustParseAddr("::ffff:10.1.1.1"), Resp: netip.MustParseAddr("2001:db8::2"), OrigPort: 1, RespPort: 2, Proto: 58,
			Start: start.Add(4 * time.Second), End: start.Add(4 * time.Second), State: "OTH", History: "tab\there,comma\\-"},
	}
)

// TestTSVHeader: the header lines Zeek's ASCII writer writes, in its order.
func TestTSVHeader(t *testing.T) {
	var out bytes.Buffer
	w := NewTSV(&out)
	for i := range conns {
		if err := w.Write(&conns[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(start.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	want := []string{
		`#separator \x09`,
		"#set_separator\t,",
		"#empty_field\t(empty)",
		"#unset_field\t-",
		"#path\tconn",
		"#open\t2025-04-15-07-45-02",
		"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\tip_proto\tcommunity_id",
		"#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\tcount\tstring",
	}
	for i, w := range want {
		if lines[i] != w {
			t.Errorf("line %d: %q, want %q", i+1, lines[i], w)
		}
	}
	if got := lines[len(lines)-2]; got != "#close\t2025-04-15-08-45-02" || lines[len(lines)-1] != "" {
		t.Errorf("last lines %q", lines[len(lines)-2:])
	}
	if n := len(lines) - len(want) - 2; n != len(conns) {
		t.Errorf("%d data lines, want %d", n, len(conns))
	}
	first := strings.Split(lines[len(want)], "\t")
	if first[0] != "1744703102.123456" || first[8] != "3.157831" || first[15] != "ShADadgfFa" || first[20] != "-" || first[21] != "6" {
		t.Errorf("first line %q", first)
	}
}

// TestEmptyLog: a log without connections still has its header and close.
func TestEmptyLog(t *testing.T) {
	var out bytes.Buffer
	if err := NewTSV(&out).Close(start); err != nil {
		t.Fatal(err)
	}
	l, err := readTSV(out.Bytes())
	if err != nil || len(l.rows) != 0 || l.header["open"] != "2025-04-15-07-45-02" || l.header["close"] != l.header["open"] || len(l.fields) != len(Fields) {
		t.Errorf("%v %+v", err, l)
	}
	out.Reset()
	if err := NewJSON(&out).Close(start); err != nil || out.Len() != 0 {
		t.Errorf("JSON log without connections: %v %q", err, out.String())
	}
}

// TestRoundTrip: every connection read back by a reader written to Zeek's
// documented TSV format, and through encoding/json from the JSON format,
// has the values it was written with.
func TestRoundTrip(t *testing.T) {
	var tsv, js bytes.Buffer
	wt, wj := NewTSV(&tsv), NewJSON(&js)
	for i := range conns {
		if err := wt.Write(&conns[i]); err != nil {
			t.Fatal(err)
		}
		if err := wj.Write(&conns[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := wt.Close(start); err != nil {
		t.Fatal(err)
	}
	if err := wj.Close(start); err != nil {
		t.Fatal(err)
	}
	l, err := readTSV(tsv.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if l.header["separator"] != "\t" || l.header["set_separator"] != "," || l.header["path"] != "conn" ||
		strings.Join(l.fields, " ") != strings.Join(Fields, " ") || strings.Join(l.types, " ") != strings.Join(Types, " ") {
		t.Fatalf("header %v fields %v types %v", l.header, l.fields, l.types)
	}
	jsLines := strings.Split(strings.TrimSuffix(js.String(), "\n"), "\n")
	if len(l.rows) != len(conns) || len(jsLines) != len(conns) {
		t.Fatalf("%d TSV rows, %d JSON lines, want %d", len(l.rows), len(jsLines), len(conns))
	}
	uids := map[string]bool{}
	for i := range conns {
		c := &conns[i]
		t.Run(fmt.Sprint(c.ID), func(t *testing.T) {
			want := expected(c)
			row := l.rows[i]
			for _, f := range Fields {
				got, w := row[f], want[f]
				if (got == nil) != (w == nil) || (got != nil && *got != *w) {
					t.Errorf("TSV %s: %s, want %s", f, show(got), show(w))
				}
			}
			var m map[string]any
			d := json.NewDecoder(strings.NewReader(jsLines[i]))
			d.UseNumber()
			if err := d.Decode(&m); err != nil {
				t.Fatalf("JSON %q: %v", jsLines[i], err)
			}
			for _, f := range Fields {
				v, ok := m[f]
				w := want[f]
				if ok != (w != nil) {
					t.Errorf("JSON %s present %v, want %s", f, ok, show(w))
					continue
				}
				if ok && fmt.Sprint(v) != *w {
					t.Errorf("JSON %s: %v, want %s", f, v, *w)
				}
			}
			if len(m) != len(nonNil(want)) {
				t.Errorf("JSON keys %v", m)
			}
			if uids[*row["uid"]] || len(*row["uid"]) != 18 || (*row["uid"])[0] != 'C' {
				t.Errorf("uid %q repeated or not Zeek-like", *row["uid"])
			}
			uids[*row["uid"]] = true
			if UID(c) != *row["uid"] {
				t.Errorf("uid not stable")
			}
		})
	}
}

// expected is what Zeek's conn.log holds for c, by field: nil when unset.
func expected(c *flow.Connection) map[string]*string {
	s := func(v string) *string { return &v }
	u := func(v uint64) *string { return s(strconv.FormatUint(v, 10)) }
	secs := func(d time.Duration) *string {
		return s(fmt.Sprintf("%d.%06d", d/time.Second, d%time.Second/time.Microsecond))
	}
	m := map[string]*string{
		"ts": secs(time.Duration(c.Start.UnixNano())), "uid": s(UID(c)),
		"id.orig_h": s(c.Orig.Unmap().String()), "id.orig_p": u(uint64(c.OrigPort)),
		"id.resp_h": s(c.Resp.Unmap().String()), "id.resp_p": u(uint64(c.RespPort)),
		"proto":   s(map[uint8]string{6: "tcp", 17: "udp", 1: "icmp", 58: "icmp"}[c.Proto]),
		"service": nil, "duration": nil, "orig_bytes": nil, "resp_bytes": nil,
		"conn_state": s(c.State), "local_orig": nil, "local_resp": nil, "missed_bytes": u(c.MissedBytes),
		"history": nil, "orig_pkts": u(c.OrigPkts), "orig_ip_bytes": u(c.OrigIPBytes),
		"resp_pkts": u(c.RespPkts), "resp_ip_bytes": u(c.RespIPBytes), "tunnel_parents": nil,
		"ip_proto": u(uint64(c.Proto)), "community_id": nil,
	}
	if *m["proto"] == "" {
		m["proto"] = s("unknown_transport")
	}
	if d := c.Duration(); d > 0 {
		m["duration"], m["orig_bytes"], m["resp_bytes"] = secs(d), u(c.OrigBytes), u(c.RespBytes)
	}
	if c.History != "" {
		m["history"] = s(c.History)
	}
	if c.CommunityID != "" {
		m["community_id"] = s(c.CommunityID)
	}
	return m
}

func nonNil(m map[string]*string) []string {
	var out []string
	for k, v := range m {
		if v != nil {
			out = append(out, k)
		}
	}
	return out
}

func show(p *string) string {
	if p == nil {
		return "unset"
	}
	return strconv.Quote(*p)
}

// TestWriteAllocs: a line costs the uid string and nothing else.
func TestWriteAllocs(t *testing.T) {
	var out bytes.Buffer
	for _, w := range []*Writer{NewTSV(&out), NewJSON(&out)} {
		_ = w.Write(&conns[0])
		if n := testing.AllocsPerRun(100, func() { out.Reset(); _ = w.Write(&conns[0]) }); n > 3 {
			t.Errorf("%v allocations per line", n)
		}
	}
}
