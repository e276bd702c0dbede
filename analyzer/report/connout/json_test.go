package connout

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer"
	"github.com/flowaudit/flowaudit/analyzer/capturetest"
	"github.com/flowaudit/flowaudit/analyzer/decode"
	"github.com/flowaudit/flowaudit/analyzer/flow"
	"github.com/flowaudit/flowaudit/catalog"
)

// TestAppendConnJSONMatchesEncoding holds the hand-written encoder to
// encoding/json's output for the same connection's record.
func TestAppendConnJSONMatchesEncoding(t *testing.T) {
	start := time.Date(2026, 11, 2, 9, 0, 0, 1500, time.UTC)
	conns := []flow.Connection{
		{Orig: netip.MustParseAddr("192.0.2.1"), OrigPort: 40000, Resp: netip.MustParseAddr("2001:db8::1"), RespPort: 443, Proto: 6,
			Start: start, End: start.Add(250 * time.Millisecond), OrigBytes: 10, RespBytes: 20, State: "SF", History: "ShADadFf",
			OrigPkts: 5, OrigIPBytes: 300, RespPkts: 4, RespIPBytes: 400, VLAN: 10, InnerVLAN: 20, Tunnel: decode.TunnelVXLAN,
			CommunityID: "1:abc+/=", Outcome: flow.Established, ClientBy: flow.BySYN, ICMPErrors: 2,
			FirstPos: flow.Pos{File: 0, Frame: 1}, LastPos: flow.Pos{File: 1, Frame: 99}},
		{Orig: netip.MustParseAddr("::1"), Resp: netip.MustParseAddr("224.0.0.18"), Proto: 112, Start: time.Unix(0, 0).Add(-500 * time.Millisecond),
			End: time.Unix(0, 0), State: "OTH", Outcome: flow.Unanswered, ClientBy: flow.ByFirstPacket, FirstPos: flow.Pos{File: 1, Frame: 7}, LastPos: flow.Pos{File: 1, Frame: 7}},
		// A sensor's record: Zeek's service (any text), local_orig and local_resp.
		{Orig: netip.MustParseAddr("192.0.2.1"), Resp: netip.MustParseAddr("192.0.2.2"), Proto: 6, Start: start, End: start,
			State: "SF", Outcome: flow.Established, ClientBy: flow.ByRecord, Service: "ssl,\"h\\ttp\"\x01", LocalOrig: "F", LocalResp: "T",
			FirstPos: flow.Pos{File: 0}, LastPos: flow.Pos{File: 0}},
		{Orig: netip.MustParseAddr("192.0.2.1"), Resp: netip.MustParseAddr("192.0.2.2"), Proto: 17, Start: start, End: start,
			State: "S0", Outcome: flow.Unanswered, ClientBy: flow.ByRecord, Service: "dns", LocalOrig: "T",
			FirstPos: flow.Pos{File: 1}, LastPos: flow.Pos{File: 1}},
	}
	paths := []string{"a.pcap", "we\"ird\\ name\n\t\x01\u2028é\xff.pcap"}
	for i := range conns {
		r := makeFlowRecord(&conns[i], paths)
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(&r); err != nil {
			t.Fatal(err)
		}
		got := append(appendConnJSON(nil, &conns[i], quotePaths(paths)), '\n')
		if !bytes.Equal(got, want.Bytes()) {
			t.Errorf("appendConnJSON:\n%s\nencoding/json:\n%s", got, want.Bytes())
		}
	}
}

// TestAppendConnJSONOnCaptures holds the hand-written encoder to
// encoding/json on every connection of the generated captures and samples
// (and the shared captures, when present), so that the names it copies
// without escaping (history, state, Community ID ...) are the ones real
// traffic gives.
func TestAppendConnJSONOnCaptures(t *testing.T) {
	var paths []string
	for _, pat := range []string{"../../../testdata/captures/*.pcap*", "../../../testdata/flowcases/*.pcap", "../../../testdata/samples/*/*.pcap*"} {
		m, _ := filepath.Glob(pat)
		paths = append(paths, m...)
	}
	if len(paths) < 40 {
		t.Fatalf("only %d generated captures", len(paths))
	}
	total := 0
	check := func(t *testing.T, path string) {
		files := []string{path}
		n := 0
		_, err := analyzer.Run(files, analyzer.Options{NoHash: true, NoServices: true, OnConnection: func(c *flow.Connection) {
			n++
			r := makeFlowRecord(c, files)
			want, err := json.Marshal(&r)
			if err != nil {
				t.Fatal(err)
			}
			if got := appendConnJSON(nil, c, quotePaths(files)); !bytes.Equal(got, want) {
				t.Errorf("appendConnJSON:\n%s\nencoding/json:\n%s", got, want)
			}
		}})
		if err != nil && n == 0 {
			t.Logf("%s: %v", path, err) // the broken shared captures
		}
		total += n
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) { check(t, p) })
	}
	if total < 200 {
		t.Errorf("only %d connections compared in the generated captures", total)
	}
	t.Run("shared", func(t *testing.T) {
		for _, name := range capturetest.Files(t) {
			t.Run(name, func(t *testing.T) { check(t, capturetest.Path(t, name)) })
		}
	})
}

// TestJSONNamesArePlain: every name from a fixed table that appendConnJSON
// copies between quotes is one JSON takes as it is.
func TestJSONNamesArePlain(t *testing.T) {
	var names []string
	for p := range 256 {
		names = append(names, catalog.ProtoName(uint8(p)), tunnelName(decode.Tunnel(p)),
			flow.Outcome(p).String(), flow.ClientBy(p).String())
	}
	names = append(names, "S0", "S1", "SF", "REJ", "S2", "S3", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH", "SHR", "OTH",
		"ShAaDdFfRrTtCcWwGgIiQq^", "1:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
	for _, n := range names {
		if got := string(appendJSONString(nil, n)); got != `"`+n+`"` {
			t.Errorf("%q needs escaping in JSON: %s", n, got)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "q\"b\\", "\x00\x1f\x7f", "é\u2028\u2029", "\xff\xfe", "<&>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// encoding/json escapes <, > and & unless told not to.
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(s)
		want := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	})
}

func BenchmarkAppendConnJSON(b *testing.B) {
	start := time.Date(2026, 11, 2, 9, 0, 0, 1500, time.UTC)
	c := flow.Connection{Orig: netip.MustParseAddr("10.1.2.3"), OrigPort: 51234, Resp: netip.MustParseAddr("10.20.0.7"), RespPort: 443, Proto: 6,
		Start: start, End: start.Add(2500 * time.Millisecond), OrigBytes: 1200, RespBytes: 24000, State: "SF", History: "ShADadFf",
		OrigPkts: 12, OrigIPBytes: 1700, RespPkts: 20, RespIPBytes: 25000, CommunityID: "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
		Outcome: flow.Established, ClientBy: flow.BySYN, FirstPos: flow.Pos{Frame: 1000}, LastPos: flow.Pos{Frame: 1234}}
	paths := quotePaths([]string{"/captures/pilot.pcap"})
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = appendConnJSON(buf[:0], &c, paths)
	}
}
