package connout

import (
	"bytes"
	"encoding/csv"
	"net/netip"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer"
	"github.com/flowaudit/flowaudit/analyzer/decode"
	"github.com/flowaudit/flowaudit/analyzer/flow"
)

// csv is the reference record of r: encoding/csv writes it as flows -f csv
// wrote every row before appendConnCSV.
func (r *flowRecord) csv() []string {
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	opt := func(v uint64) string {
		if v == 0 {
			return ""
		}
		return u(v)
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
	known := func(v *uint64) string { // unknown: empty
		if v == nil {
			return ""
		}
		return u(*v)
	}
	return []string{string(r.TS), r.OrigH, u(uint64(r.OrigP)), r.RespH, u(uint64(r.RespP)), r.Proto, r.Service,
		string(r.Duration), known(r.OrigBytes), known(r.RespBytes), r.ConnState, tf(r.LocalOrig), tf(r.LocalResp),
		known(r.MissedBytes), r.History, known(r.OrigPkts),
		known(r.OrigIPBytes), known(r.RespPkts), known(r.RespIPBytes), opt(uint64(r.VLAN)), opt(uint64(r.InnerVLAN)),
		r.Tunnel, r.CommunityID, r.Outcome, r.ClientBy, opt(r.ICMPErrors), r.ServerName, r.NameSource, r.File, opt(r.FirstFrame),
		r.LastFile, opt(r.LastFrame), r.UID}
}

func encodingCSV(t testing.TB, records ...[]string) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.WriteAll(records); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestAppendConnCSVMatchesEncoding holds the hand-written CSV writer to
// encoding/csv's output for the same connection's record, with fields
// that must be quoted (a sensor's record can carry any text).
func TestAppendConnCSVMatchesEncoding(t *testing.T) {
	start := time.Date(2026, 11, 2, 9, 0, 0, 1500, time.UTC)
	conns := []flow.Connection{
		{Orig: netip.MustParseAddr("192.0.2.1"), OrigPort: 40000, Resp: netip.MustParseAddr("2001:db8::1"), RespPort: 443, Proto: 6,
			Start: start, End: start.Add(250 * time.Millisecond), OrigBytes: 10, RespBytes: 20, State: "SF", History: "ShADadFf",
			OrigPkts: 5, OrigIPBytes: 300, RespPkts: 4, RespIPBytes: 400, VLAN: 10, InnerVLAN: 20, Tunnel: decode.TunnelVXLAN,
			CommunityID: "1:abc+/=", Outcome: flow.Established, ClientBy: flow.BySYN, ICMPErrors: 2,
			ServerName: "vdi.example.org", NameSource: flow.NameSNI,
			FirstPos: flow.Pos{File: 0, Frame: 1}, LastPos: flow.Pos{File: 1, Frame: 99}},
		{Orig: netip.MustParseAddr("::1"), Resp: netip.MustParseAddr("224.0.0.18"), Proto: 112, Start: time.Unix(0, 0).Add(-500 * time.Millisecond),
			End: time.Unix(0, 0), State: "OTH", Outcome: flow.Unanswered, ClientBy: flow.ByFirstPacket, FirstPos: flow.Pos{File: 1, Frame: 7}, LastPos: flow.Pos{File: 1, Frame: 7}},
		// A sensor's record: no frames, a zone, text that needs quoting.
		{Orig: netip.MustParseAddr("fe80::1%a,b"), Resp: netip.MustParseAddr("fe80::2%eth0"), Proto: 17, Start: start, End: start,
			State: `\.`, History: " Dd", CommunityID: "x\"y", Outcome: flow.Partial, ClientBy: flow.ByRecord,
			Service: "ssl,\"http\"", LocalOrig: "T", LocalResp: "F",
			FirstPos: flow.Pos{File: 2}, LastPos: flow.Pos{File: 5}},
	}
	paths := []string{"a.pcap", "we\"ird, name\n\r\t.pcap", " lead.log"}
	header := appendCSVRecord(nil, Columns)
	if want := encodingCSV(t, Columns); !bytes.Equal(header, want) {
		t.Errorf("header:\n%s\nencoding/csv:\n%s", header, want)
	}
	for i := range conns {
		r := makeFlowRecord(&conns[i], paths)
		want := encodingCSV(t, r.csv())
		got := appendConnCSV(nil, &conns[i], csvPaths(paths))
		if !bytes.Equal(got, want) {
			t.Errorf("appendConnCSV:\n%q\nencoding/csv:\n%q", got, want)
		}
	}
}

// TestAppendConnCSVOnCaptures compares the two on every connection of the
// generated captures and samples.
func TestAppendConnCSVOnCaptures(t *testing.T) {
	var paths []string
	for _, pat := range []string{"../../../testdata/captures/*.pcap*", "../../../testdata/flowcases/*.pcap", "../../../testdata/samples/*/*.pcap*"} {
		m, _ := filepath.Glob(pat)
		paths = append(paths, m...)
	}
	total := 0
	for _, p := range paths {
		files := []string{p}
		q := csvPaths(files)
		_, _ = analyzer.Run(files, analyzer.Options{NoHash: true, NoServices: true, OnConnection: func(c *flow.Connection) {
			total++
			r := makeFlowRecord(c, files)
			if got, want := appendConnCSV(nil, c, q), encodingCSV(t, r.csv()); !bytes.Equal(got, want) {
				t.Errorf("%s: appendConnCSV:\n%q\nencoding/csv:\n%q", p, got, want)
			}
		}})
	}
	if total < 200 {
		t.Errorf("only %d connections compared in the generated captures", total)
	}
}

func FuzzAppendCSVField(f *testing.F) {
	for _, s := range []string{"", "plain", `\.`, "a,b", "q\"b", "\r\n", " lead", "\u00a0nbsp", "\u2028x", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := bytes.TrimSuffix(encodingCSV(t, []string{s, s}), []byte("\n"))
		got := appendCSVField(nil, s)
		got = appendCSVField(append(got, ','), s)
		if !bytes.Equal(got, want) {
			t.Fatalf("appendCSVField(%q) = %q, want %q", s, got, want)
		}
	})
}

func BenchmarkAppendConnCSV(b *testing.B) {
	start := time.Date(2026, 11, 2, 9, 0, 0, 1500, time.UTC)
	c := flow.Connection{Orig: netip.MustParseAddr("10.1.2.3"), OrigPort: 51234, Resp: netip.MustParseAddr("10.20.0.7"), RespPort: 443, Proto: 6,
		Start: start, End: start.Add(2500 * time.Millisecond), OrigBytes: 1200, RespBytes: 24000, State: "SF", History: "ShADadFf",
		OrigPkts: 12, OrigIPBytes: 1700, RespPkts: 20, RespIPBytes: 25000, CommunityID: "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
		Outcome: flow.Established, ClientBy: flow.BySYN, FirstPos: flow.Pos{Frame: 1000}, LastPos: flow.Pos{Frame: 1234}}
	paths := csvPaths([]string{"/captures/pilot.pcap"})
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = appendConnCSV(buf[:0], &c, paths)
	}
}
