package connlog

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/connlog/ipfixgen"
	"github.com/flowaudit/flowaudit/analyzer/flow"
)

var ixT0 = time.Date(2026, 11, 29, 10, 0, 0, 123456789, time.UTC)

// ixConns are connections of every outcome, IPv4 and IPv6, as a capture
// would have given them.
func ixConns() []flow.Connection {
	a := netip.MustParseAddr
	c := func(o, r string, op, rp uint16, proto uint8, hist string, op_, rp_ uint64, d time.Duration) flow.Connection {
		return flow.Connection{Orig: a(o), Resp: a(r), OrigPort: op, RespPort: rp, Proto: proto, History: hist,
			OrigPkts: op_, RespPkts: rp_, OrigIPBytes: op_ * 60, RespIPBytes: rp_ * 100, Start: ixT0, End: ixT0.Add(d)}
	}
	return []flow.Connection{
		c("192.0.2.1", "192.0.2.10", 51000, 443, 6, "ShADadFf", 10, 8, 1500*time.Millisecond),
		c("192.0.2.1", "192.0.2.11", 51001, 3389, 6, "Sr", 1, 1, time.Millisecond),
		c("192.0.2.1", "192.0.2.12", 51002, 8443, 6, "S", 3, 0, 3*time.Second),
		c("192.0.2.1", "192.0.2.13", 40000, 4172, 17, "Dd", 20, 18, 2*time.Second),
		c("192.0.2.1", "192.0.2.14", 40001, 53, 17, "D", 1, 0, 0),
		c("192.0.2.1", "192.0.2.15", 8, 0, 1, "", 2, 2, time.Second),
		c("2001:db8::1", "2001:db8::10", 51003, 443, 6, "ShADadFf", 6, 5, time.Second),
		c("2001:db8::1", "2001:db8::11", 128, 129, 58, "", 1, 1, 0),
	}
}

type ixWant struct {
	conn               string
	origPkts, respPkts uint64
	outcome            flow.Outcome
}

var ixWants = []ixWant{
	{"192.0.2.1:51000 > 192.0.2.10:443 6", 10, 8, flow.Established},
	{"192.0.2.1:51001 > 192.0.2.11:3389 6", 1, 1, flow.Rejected},
	{"192.0.2.1:51002 > 192.0.2.12:8443 6", 3, 0, flow.Unanswered},
	{"192.0.2.1:40000 > 192.0.2.13:4172 17", 20, 18, flow.Established},
	{"192.0.2.1:40001 > 192.0.2.14:53 17", 1, 0, flow.Unanswered},
	{"192.0.2.1:8 > 192.0.2.15:0 1", 2, 2, flow.Established},
	{"2001:db8::1:51003 > 2001:db8::10:443 6", 6, 5, flow.Established},
	{"2001:db8::1:128 > 2001:db8::11:129 58", 1, 1, flow.Established},
}

func ixRead(t testing.TB, data []byte) ([]flow.Connection, error) {
	t.Helper()
	r, err := NewReader("flows.ipfix", bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	var out []flow.Connection
	for {
		var c flow.Connection
		err := r.Next(&c)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, c)
	}
}

func ixKey(c *flow.Connection) string {
	return fmt.Sprintf("%s:%d > %s:%d %d", c.Orig, c.OrigPort, c.Resp, c.RespPort, c.Proto)
}

// ixSummary is what the connections say, in key order (a one-way
// record whose reverse never came is handed out last).
func ixSummary(conns []flow.Connection) []ixWant {
	var got []ixWant
	for i := range conns {
		c := &conns[i]
		got = append(got, ixWant{ixKey(c), c.OrigPkts, c.RespPkts, c.Outcome})
	}
	slices.SortFunc(got, func(a, b ixWant) int { return strings.Compare(a.conn, b.conn) })
	return got
}

// TestIPFIXRoundTrip: connections written as uniflow records (a record
// per direction, paired back by the reader) or RFC 5103 biflow records,
// in one or several messages, gzipped or not, read back as they were:
// endpoints, counts, outcome (from the TCP flags), times to the
// nanosecond.
func TestIPFIXRoundTrip(t *testing.T) {
	for _, tt := range []struct {
		name string
		o    ipfixgen.Options
		gz   bool
	}{
		{"uniflow", ipfixgen.Options{}, false},
		{"uniflow, a record a message, templates repeated", ipfixgen.Options{PerMessage: 1, TemplateEvery: 3, Domain: 7}, false},
		{"biflow", ipfixgen.Options{Biflow: true}, false},
		{"uniflow gzip", ipfixgen.Options{PerMessage: 3}, true},
		{"netflow v9", ipfixgen.Options{V9: true, PerMessage: 3, Domain: 5}, false},
		{"netflow v9 gzip, templates repeated", ipfixgen.Options{V9: true, PerMessage: 1, TemplateEvery: 2}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := ipfixgen.Write(&b, ixConns(), tt.o); err != nil {
				t.Fatal(err)
			}
			data := b.Bytes()
			if tt.gz {
				var z bytes.Buffer
				zw := gzip.NewWriter(&z)
				zw.Write(data)
				zw.Close()
				data = z.Bytes()
			}
			kind, unit := IPFIX, time.Nanosecond
			if tt.o.V9 {
				kind, unit = NetFlowV9, time.Millisecond // FIRST_SWITCHED, LAST_SWITCHED
			}
			if f := Sniff(data[:min(len(data), SniffSize)]); f != kind {
				t.Fatalf("Sniff = %v", f)
			}
			conns, err := ixRead(t, data)
			if err != nil {
				t.Fatal(err)
			}
			got, want := ixSummary(conns), ixSummary(nil)
			want = append(want, ixWants...)
			slices.SortFunc(want, func(a, b ixWant) int { return strings.Compare(a.conn, b.conn) })
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("got  %v\nwant %v", got, want)
			}
			in := map[string]flow.Connection{}
			for _, c := range ixConns() {
				in[ixKey(&c)] = c
			}
			for _, c := range conns {
				w := in[ixKey(&c)]
				if !c.Start.Equal(w.Start.Truncate(unit)) || !c.End.Equal(w.End.Truncate(unit)) || c.OrigIPBytes != w.OrigIPBytes || c.RespIPBytes != w.RespIPBytes || c.ClientBy != flow.ByRecord {
					t.Errorf("%s: %v–%v %d/%d bytes, want %v–%v %d/%d", ixKey(&c), c.Start, c.End, c.OrigIPBytes, c.RespIPBytes, w.Start, w.End, w.OrigIPBytes, w.RespIPBytes)
				}
			}
		})
	}
}

// Hand-built messages, for the elements the writer does not use.
type ixField struct {
	id, length uint16
	pen        uint32
}

func ixTemplate(id uint16, fields ...ixField) []byte {
	b := binary.BigEndian.AppendUint16(nil, id)
	b = binary.BigEndian.AppendUint16(b, uint16(len(fields)))
	for _, f := range fields {
		if f.pen != 0 {
			b = binary.BigEndian.AppendUint16(b, f.id|0x8000)
			b = binary.BigEndian.AppendUint16(b, f.length)
			b = binary.BigEndian.AppendUint32(b, f.pen)
		} else {
			b = binary.BigEndian.AppendUint16(b, f.id)
			b = binary.BigEndian.AppendUint16(b, f.length)
		}
	}
	return b
}

func ixSet(id uint16, content ...[]byte) []byte {
	body := bytes.Join(content, nil)
	b := binary.BigEndian.AppendUint16(nil, id)
	b = binary.BigEndian.AppendUint16(b, uint16(4+len(body)))
	return append(b, body...)
}

func ixMsg(export uint32, domain uint32, sets ...[]byte) []byte {
	body := bytes.Join(sets, nil)
	b := binary.BigEndian.AppendUint16(nil, 10)
	b = binary.BigEndian.AppendUint16(b, uint16(16+len(body)))
	b = binary.BigEndian.AppendUint32(b, export)
	b = binary.BigEndian.AppendUint32(b, 0)
	b = binary.BigEndian.AppendUint32(b, domain)
	return append(b, body...)
}

// be is big-endian bytes of v in n bytes.
func be(v uint64, n int) []byte {
	b := binary.BigEndian.AppendUint64(nil, v)
	return b[8-n:]
}

func v4(s string) []byte { a := netip.MustParseAddr(s).As4(); return a[:] }

const ixExport = 1795946460 // 2026-11-29 10:01:00 UTC

// TestIPFIXElements: the elements other exporters use — seconds and
// milliseconds, times relative to the exporter's boot (with
// systemInitTimeMilliseconds from an options record or the record
// itself), times before the export time, total counts in reduced-size
// encoding, separate ICMP type and code, biflowDirection, RFC 5103
// reverse counts and flags, initiator/responder counts.
func TestIPFIXElements(t *testing.T) {
	base := []ixField{{8, 4, 0}, {12, 4, 0}, {7, 2, 0}, {11, 2, 0}, {4, 1, 0}}
	rec := func(src, dst string, sp, dp uint16, proto uint8) []byte {
		return bytes.Join([][]byte{v4(src), v4(dst), be(uint64(sp), 2), be(uint64(dp), 2), {proto}}, nil)
	}
	start := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		msgs       [][]byte
		want       []ixWant
		start, end time.Time
	}{
		{"seconds, total counts in 4 bytes",
			[][]byte{ixMsg(ixExport, 1, ixSet(2, ixTemplate(300, append(base, ixField{150, 4, 0}, ixField{151, 4, 0}, ixField{86, 4, 0}, ixField{85, 4, 0}, ixField{6, 1, 0})...)),
				ixSet(300, append(rec("192.0.2.1", "192.0.2.10", 51000, 443, 6), bytes.Join([][]byte{be(1795946400, 4), be(1795946405, 4), be(5, 4), be(300, 4), {0x02}}, nil)...),
					append(rec("192.0.2.10", "192.0.2.1", 443, 51000, 6), bytes.Join([][]byte{be(1795946400, 4), be(1795946405, 4), be(4, 4), be(400, 4), {0x12}}, nil)...)))},
			[]ixWant{{"192.0.2.1:51000 > 192.0.2.10:443 6", 5, 4, flow.Established}}, start, start.Add(5 * time.Second)},
		{"milliseconds; a reset answers the SYN",
			[][]byte{ixMsg(ixExport, 1, ixSet(2, ixTemplate(300, append(base, ixField{152, 8, 0}, ixField{153, 8, 0}, ixField{2, 8, 0}, ixField{6, 2, 0})...)),
				ixSet(300, append(rec("192.0.2.1", "192.0.2.11", 51001, 3389, 6), bytes.Join([][]byte{be(1795946400250, 8), be(1795946400250, 8), be(1, 8), be(0x02, 2)}, nil)...),
					append(rec("192.0.2.11", "192.0.2.1", 3389, 51001, 6), bytes.Join([][]byte{be(1795946400251, 8), be(1795946400251, 8), be(1, 8), be(0x14, 2)}, nil)...)))},
			[]ixWant{{"192.0.2.1:51001 > 192.0.2.11:3389 6", 1, 1, flow.Rejected}}, start.Add(250 * time.Millisecond), start.Add(251 * time.Millisecond)},
		{"sysUpTime with systemInitTimeMilliseconds from an options record",
			[][]byte{ixMsg(ixExport, 9,
				ixSet(3, bytes.Join([][]byte{be(400, 2), be(2, 2), be(1, 2), be(149, 2), be(4, 2), be(160, 2), be(8, 2)}, nil)),
				ixSet(400, be(9, 4), be(1795936000000, 8)),
				ixSet(2, ixTemplate(300, append(base, ixField{22, 4, 0}, ixField{21, 4, 0}, ixField{2, 2, 0})...)),
				ixSet(300, append(rec("192.0.2.1", "192.0.2.12", 40000, 4172, 17), bytes.Join([][]byte{be(10400000, 4), be(10402000, 4), be(7, 2)}, nil)...)))},
			[]ixWant{{"192.0.2.1:40000 > 192.0.2.12:4172 17", 7, 0, flow.Unanswered}}, start, start.Add(2 * time.Second)},
		{"sysUpTime with the init time in the record; ICMP type and code apart",
			[][]byte{ixMsg(ixExport, 9,
				ixSet(2, ixTemplate(300, ixField{8, 4, 0}, ixField{12, 4, 0}, ixField{4, 1, 0}, ixField{176, 1, 0}, ixField{177, 1, 0}, ixField{160, 8, 0}, ixField{22, 4, 0}, ixField{21, 4, 0}, ixField{2, 1, 0})),
				ixSet(300, bytes.Join([][]byte{v4("192.0.2.1"), v4("192.0.2.13"), {1}, {8}, {0}, be(1795936000000, 8), be(10400000, 4), be(10400000, 4), {1}}, nil),
					bytes.Join([][]byte{v4("192.0.2.13"), v4("192.0.2.1"), {1}, {0}, {0}, be(1795936000000, 8), be(10400001, 4), be(10400001, 4), {1}}, nil)))},
			[]ixWant{{"192.0.2.1:8 > 192.0.2.13:0 1", 1, 1, flow.Established}}, start, start.Add(time.Millisecond)},
		{"delta microseconds before the export time",
			[][]byte{ixMsg(ixExport, 1, ixSet(2, ixTemplate(300, append(base, ixField{158, 4, 0}, ixField{159, 4, 0}, ixField{2, 4, 0})...)),
				ixSet(300, append(rec("192.0.2.1", "192.0.2.14", 40001, 53, 17), bytes.Join([][]byte{be(60e6, 4), be(59e6, 4), be(1, 4)}, nil)...)))},
			[]ixWant{{"192.0.2.1:40001 > 192.0.2.14:53 17", 1, 0, flow.Unanswered}}, start, start.Add(time.Second)},
		{"biflow with reverse elements; biflowDirection reverseInitiator swaps",
			[][]byte{ixMsg(ixExport, 1, ixSet(2, ixTemplate(300, append(base, ixField{150, 4, 0}, ixField{2, 4, 0}, ixField{6, 1, 0}, ixField{2, 4, penReverse}, ixField{6, 1, penReverse}, ixField{239, 1, 0})...)),
				ixSet(300, append(rec("192.0.2.15", "192.0.2.1", 22, 51004, 6), bytes.Join([][]byte{be(1795946400, 4), be(4, 4), {0x14}, be(1, 4), {0x02}, {2}}, nil)...)))},
			[]ixWant{{"192.0.2.1:51004 > 192.0.2.15:22 6", 1, 4, flow.Rejected}}, start, start},
		{"initiator and responder counts",
			[][]byte{ixMsg(ixExport, 1, ixSet(2, ixTemplate(300, append(base, ixField{150, 4, 0}, ixField{298, 4, 0}, ixField{299, 4, 0}, ixField{231, 4, 0}, ixField{232, 4, 0})...)),
				ixSet(300, append(rec("192.0.2.1", "192.0.2.16", 40002, 443, 6), bytes.Join([][]byte{be(1795946400, 4), be(3, 4), be(2, 4), be(180, 4), be(120, 4)}, nil)...)))},
			[]ixWant{{"192.0.2.1:40002 > 192.0.2.16:443 6", 3, 2, flow.Established}}, start, start},
		{"no time at all: the export time",
			[][]byte{ixMsg(ixExport, 1, ixSet(2, ixTemplate(300, append(base, ixField{2, 4, 0})...)),
				ixSet(300, append(rec("192.0.2.1", "192.0.2.17", 40003, 161, 17), be(1, 4)...)))},
			[]ixWant{{"192.0.2.1:40003 > 192.0.2.17:161 17", 1, 0, flow.Unanswered}}, start.Add(time.Minute), start.Add(time.Minute)},
		{"a template withdrawn and redefined with other fields",
			[][]byte{ixMsg(ixExport, 1, ixSet(2, ixTemplate(300, append(base, ixField{2, 8, 0})...))),
				ixMsg(ixExport, 1, ixSet(2, ixTemplate(300)), ixSet(2, ixTemplate(300, append(base, ixField{2, 2, 0})...)),
					ixSet(300, append(rec("192.0.2.1", "192.0.2.18", 40004, 4172, 17), be(9, 2)...)))},
			[]ixWant{{"192.0.2.1:40004 > 192.0.2.18:4172 17", 9, 0, flow.Unanswered}}, start.Add(time.Minute), start.Add(time.Minute)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conns, err := ixRead(t, bytes.Join(tt.msgs, nil))
			if err != nil {
				t.Fatal(err)
			}
			if got := ixSummary(conns); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("got  %v\nwant %v", got, tt.want)
			}
			if c := conns[0]; !c.Start.Equal(tt.start) || !c.End.Equal(tt.end) {
				t.Errorf("times %v – %v, want %v – %v", c.Start, c.End, tt.start, tt.end)
			}
		})
	}
}

// TestIPFIXErrors: damage stops reading with an *Error naming the file,
// the message and its offset, after every record before it was handed
// out; a file cut inside its last message is cut short (a warning); data
// sets without a template, and records that are no connection, are
// counted and make the end an error, never silently dropped.
func TestIPFIXErrors(t *testing.T) {
	var b bytes.Buffer
	// One connection, its two directions in two messages.
	if err := ipfixgen.Write(&b, ixConns()[:1], ipfixgen.Options{PerMessage: 1}); err != nil {
		t.Fatal(err)
	}
	good := b.Bytes()
	first := int(binary.BigEndian.Uint16(good[2:])) // the first message's length
	second := good[first:]
	n2 := len(second)
	setLong := bytes.Clone(second)
	binary.BigEndian.PutUint16(setLong[18:], uint16(n2)) // its data set, past the message's end
	setShort := bytes.Clone(second)
	binary.BigEndian.PutUint16(setShort[18:], 2)
	reserved := bytes.Clone(second)
	binary.BigEndian.PutUint16(reserved[16:], 4)
	lenShort := bytes.Clone(second)
	binary.BigEndian.PutUint16(lenShort[2:], 8)
	// A message whose data set's template (ID 999) never came, and one
	// whose record has no addresses.
	noTemplate := ixMsg(ixExport, 0, ixSet(999, make([]byte, 40)))
	noAddr := ixMsg(ixExport, 0, ixSet(2, ixTemplate(301, ixField{2, 4, 0})), ixSet(301, be(5, 4), be(6, 4)))
	zeroLen := ixMsg(ixExport, 0, ixSet(2, ixTemplate(302, ixField{2, 0, 0})), ixSet(302, be(5, 4)))

	tests := []struct {
		name     string
		data     []byte
		conns    int // connections handed out before the error
		want     string
		cutShort bool
	}{
		{"cut inside the second message", append(bytes.Clone(good[:first]), second[:n2-5]...), 1,
			fmt.Sprintf("flows.ipfix: offset %d (message 2): the file ends inside the message: %d of its %d bytes", first, n2-5, n2), true},
		{"cut inside the second header", append(bytes.Clone(good[:first]), second[:7]...), 1,
			fmt.Sprintf("offset %d (message 2): the file ends inside a message header (7 of 16 bytes)", first), true},
		{"a set longer than its message", append(bytes.Clone(good[:first]), setLong...), 1,
			fmt.Sprintf("offset %d (message 2): set at byte 16 (ID 256): %d bytes, past the end of the %d-byte message", first, n2, n2), false},
		{"a set shorter than its header", append(bytes.Clone(good[:first]), setShort...), 1, "(message 2): set at byte 16: length 2, shorter than its header", false},
		{"a reserved set ID", append(bytes.Clone(good[:first]), reserved...), 1, "(message 2): set at byte 16: set ID 4 is reserved", false},
		{"a message shorter than its header", append(bytes.Clone(good[:first]), lenShort...), 1, "(message 2): message length 8, shorter than its 16-byte header", false},
		{"garbage after the last message", append(bytes.Clone(good), "\n\x00\x00trailing"...), 1,
			fmt.Sprintf("offset %d (message 3): version 2560 where a message should start", len(good)), false},
		{"a data set without template", append(bytes.Clone(good), noTemplate...), 1,
			"flows.ipfix: records without template: 1 data sets (40 bytes) whose template never came before them were not read", false},
		{"a record without addresses", append(bytes.Clone(good), noAddr...), 1,
			"flows.ipfix: 2 data records are no connection (the first: message 3 at offset", false},
		{"a template whose records have no length", append(bytes.Clone(good), zeroLen...), 1,
			"(message 3): goflow2: ", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conns, err := ixRead(t, tt.data)
			var e *Error
			if !errors.As(err, &e) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if e.CutShort != tt.cutShort {
				t.Errorf("CutShort = %v", e.CutShort)
			}
			if len(conns) != tt.conns {
				t.Errorf("%d connections before the error, want %d", len(conns), tt.conns)
			}
		})
	}
}

// TestIPFIXWithdrawals: a withdrawn options template (RFC 7011 8.1, a
// record goflow2 would misread) and a withdrawn template no longer
// decode data sets: those are counted as without template.
func TestIPFIXWithdrawals(t *testing.T) {
	opts := ixSet(3, bytes.Join([][]byte{be(400, 2), be(2, 2), be(1, 2), be(149, 2), be(4, 2), be(160, 2), be(8, 2)}, nil))
	optData := ixSet(400, be(9, 4), be(1795936000000, 8))
	tmpl := ixSet(2, ixTemplate(300, ixField{8, 4, 0}, ixField{12, 4, 0}, ixField{4, 1, 0}, ixField{2, 4, 0}))
	data := ixSet(300, v4("192.0.2.1"), v4("192.0.2.2"), []byte{17}, be(3, 4))
	for _, tt := range []struct {
		name  string
		msgs  [][]byte
		conns int
		want  string
	}{
		{"options template withdrawn", [][]byte{ixMsg(ixExport, 9, opts, optData, tmpl, data), ixMsg(ixExport, 9, ixSet(3, be(400, 2), be(0, 2)), data, optData)}, 2,
			"records without template: 1 data sets (12 bytes)"},
		{"all options templates withdrawn, the templates kept", [][]byte{ixMsg(ixExport, 9, opts, tmpl), ixMsg(ixExport, 9, ixSet(3, be(3, 2), be(0, 2)), data, optData)}, 1,
			"records without template: 1 data sets (12 bytes)"},
		{"every template withdrawn", [][]byte{ixMsg(ixExport, 9, opts, tmpl), ixMsg(ixExport, 9, ixSet(2, be(2, 2), be(0, 2)), data, optData)}, 0,
			"records without template: 1 data sets (13 bytes)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			conns, err := ixRead(t, bytes.Join(tt.msgs, nil))
			var e *Error
			if !errors.As(err, &e) || !e.AtEnd || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if len(conns) != tt.conns {
				t.Errorf("%d connections, want %d", len(conns), tt.conns)
			}
		})
	}
}

// TestNFv9Errors: NetFlow v9 packets are framed by their flowsets up to
// the next packet's header; damage stops reading as in IPFIX, naming the
// packet and its offset.
func TestNFv9Errors(t *testing.T) {
	var b bytes.Buffer
	if err := ipfixgen.Write(&b, ixConns()[:1], ipfixgen.Options{V9: true, PerMessage: 1}); err != nil {
		t.Fatal(err)
	}
	good := b.Bytes()
	// The first packet: header, template flowset, data flowset.
	first := 20 + int(binary.BigEndian.Uint16(good[22:]))
	first += int(binary.BigEndian.Uint16(good[first+2:]))
	second := good[first:]
	reserved := bytes.Clone(second)
	binary.BigEndian.PutUint16(reserved[20:], 7)
	noTemplate := bytes.Clone(second)
	binary.BigEndian.PutUint16(noTemplate[20:], 999)
	for _, tt := range []struct {
		name     string
		data     []byte
		conns    int
		want     string
		cutShort bool
	}{
		{"cut inside the second packet's flowset", good[:len(good)-3], 1,
			fmt.Sprintf("offset %d (message 2): the file ends inside the flowset at byte 20: ", first), true},
		{"garbage after the last packet", append(bytes.Clone(good), "\x00\x09"...), 1,
			fmt.Sprintf("offset %d (message 3): the file ends inside a packet header (2 of 20 bytes)", len(good)), true},
		{"not a packet after the last", append(bytes.Clone(good), "\x00\x07 trailing garbage"...), 1,
			fmt.Sprintf("flows.ipfix: offset %d (message 2): flowset at byte %d: flowset ID 7 is reserved", first, len(second)), false},
		{"a reserved flowset ID", append(bytes.Clone(good[:first]), reserved...), 1, "(message 2): flowset at byte 20: flowset ID 7 is reserved", false},
		{"a flowset without template", append(bytes.Clone(good[:first]), noTemplate...), 1, "records without template: 1 data sets", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			conns, err := ixRead(t, tt.data)
			var e *Error
			if !errors.As(err, &e) || !strings.Contains(err.Error(), tt.want) || e.CutShort != tt.cutShort {
				t.Fatalf("err = %v (cut short %v), want %q", err, e != nil && e.CutShort, tt.want)
			}
			if len(conns) != tt.conns {
				t.Errorf("%d connections, want %d", len(conns), tt.conns)
			}
		})
	}
}

func TestSniffIPFIX(t *testing.T) {
	var b bytes.Buffer
	ipfixgen.Write(&b, ixConns()[:1], ipfixgen.Options{})
	good := b.Bytes()
	old := bytes.Clone(good)
	binary.BigEndian.PutUint32(old[4:], 1000) // export time 1970
	pcapng := []byte{0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	v9 := bytes.Clone(good)
	v9[1] = 9
	for _, tt := range []struct {
		name string
		head []byte
		want Format
	}{
		{"ipfix", good, IPFIX},
		{"export time in 1970", old, None},
		{"pcapng", pcapng, None},
		{"an IPFIX header saying version 9", v9, None},
		{"too short", good[:18], None},
	} {
		if got := Sniff(tt.head); got != tt.want {
			t.Errorf("%s: Sniff = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// FuzzIPFIX: any bytes either read as connections or stop at an *Error
// naming the message and offset; nothing panics or loops, and every
// connection has addresses, a known outcome, and ends no earlier than it
// starts.
func FuzzIPFIX(f *testing.F) {
	for _, o := range []ipfixgen.Options{{}, {Biflow: true, PerMessage: 2}, {V9: true, PerMessage: 3}} {
		var b bytes.Buffer
		ipfixgen.Write(&b, ixConns(), o)
		f.Add(b.Bytes())
	}
	f.Add(ixMsg(ixExport, 9,
		ixSet(3, bytes.Join([][]byte{be(400, 2), be(2, 2), be(1, 2), be(149, 2), be(4, 2), be(160, 2), be(8, 2)}, nil)),
		ixSet(400, be(9, 4), be(1795936000000, 8)),
		ixSet(2, ixTemplate(300, ixField{8, 4, 0}, ixField{12, 4, 0}, ixField{4, 1, 0}, ixField{22, 4, 0}, ixField{21, 4, 0}, ixField{2, 0xffff, 0})),
		ixSet(300, bytes.Join([][]byte{v4("192.0.2.1"), v4("192.0.2.13"), {17}, be(10400000, 4), be(10400000, 4), {2, 0, 1}}, nil))))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader("fuzz.ipfix", bytes.NewReader(data))
		if err != nil || r.Kind() != IPFIX && r.Kind() != NetFlowV9 {
			return
		}
		for {
			var c flow.Connection
			err := r.Next(&c)
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("%T %v", err, err)
				}
				if err2 := r.Next(&c); err2 != err {
					t.Fatalf("after an error Next = %v", err2)
				}
				return
			}
			if !c.Orig.IsValid() || !c.Resp.IsValid() || c.End.Before(c.Start) || c.Outcome > flow.Partial {
				t.Fatalf("connection %+v", c)
			}
		}
	})
}

// BenchmarkIPFIX reads an IPFIX file of 100,000 connections as 200,000
// uniflow records (20 a message, as a collector writes them), paired back
// into connections: ns and allocations per record.
func BenchmarkIPFIX(b *testing.B) {
	base := ixConns()[0]
	conns := make([]flow.Connection, 100000)
	for i := range conns {
		c := base
		c.Orig = netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		c.OrigPort = uint16(1024 + i%60000)
		c.Start = ixT0.Add(time.Duration(i) * time.Millisecond)
		c.End = c.Start.Add(time.Second)
		conns[i] = c
	}
	var buf bytes.Buffer
	if err := ipfixgen.Write(&buf, conns, ipfixgen.Options{}); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r, err := NewReader("bench.ipfix", bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			var c flow.Connection
			err := r.Next(&c)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != len(conns) {
			b.Fatalf("%d connections", n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(2*len(conns)), "ns/record")
}
