package connout

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/flow"
)

func testConn(frame uint64) flow.Connection {
	start := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	return flow.Connection{Orig: netip.MustParseAddr("10.1.2.3"), OrigPort: 51234, Resp: netip.MustParseAddr("10.20.0.7"), RespPort: 443, Proto: 6,
		Start: start, End: start.Add(time.Second), State: "SF", History: "ShADadFf", OrigPkts: 3, RespPkts: 2,
		CommunityID: "1:LQU9qZlK+B5F3KDmev6m5PMibrg=", Outcome: flow.Established, ClientBy: flow.BySYN,
		FirstPos: flow.Pos{Frame: frame}, LastPos: flow.Pos{Frame: frame + 4}}
}

func TestNewWriterFormats(t *testing.T) {
	for _, f := range Formats {
		if _, err := NewWriter(io.Discard, f, nil, Options{}); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if _, err := NewWriter(io.Discard, "xml", nil, Options{}); err == nil || !strings.Contains(err.Error(), `"xml"`) {
		t.Errorf("unknown format: err = %v", err)
	}
}

// TestWriterAddAllocatesNothing: a JSON line or CSV row per connection,
// millions on a large capture, costs no allocation once the buffer has
// grown.
func TestWriterAddAllocatesNothing(t *testing.T) {
	for _, format := range []string{"jsonl", "csv"} {
		w, err := NewWriter(io.Discard, format, []string{"/captures/pilot, 1.pcap"}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		c := testConn(10)
		w.Add(&c)
		if n := testing.AllocsPerRun(1000, func() { w.Add(&c) }); n != 0 {
			t.Errorf("Writer.Add (%s) allocates %v times per connection", format, n)
		}
	}
}

func TestWriterTablePages(t *testing.T) {
	for _, tc := range []struct {
		conns, tables int
	}{
		{0, 1}, // an empty table says there was nothing
		{1, 1},
		{TablePage, 1},
		{TablePage + 1, 2},
		{2*TablePage + 5, 3},
	} {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, "table", []string{"a.pcap"}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		// Given in reverse: each page is sorted by first frame.
		for i := tc.conns; i > 0; i-- {
			c := testConn(uint64(i))
			w.Add(&c)
		}
		if err := w.Close(time.Time{}); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if got := strings.Count(out, "┌"); got != tc.tables {
			t.Errorf("%d connections: %d tables, want %d", tc.conns, got, tc.tables)
		}
		if w.N() != tc.conns {
			t.Errorf("N() = %d, want %d", w.N(), tc.conns)
		}
		if tc.conns >= 2 && tc.conns <= TablePage {
			if i, j := strings.Index(out, " 1-5 "), strings.Index(out, " 2-6 "); i < 0 || j < i {
				t.Errorf("%d connections: rows not sorted by first frame", tc.conns)
			}
		}
	}
}

type failWriter struct{}

var errFull = errors.New("disk full")

func (failWriter) Write([]byte) (int, error) { return 0, errFull }

// TestWriterWriteError: every format returns the first write error from
// Close, and still counts the connections.
func TestWriterWriteError(t *testing.T) {
	for _, f := range Formats {
		w, err := NewWriter(failWriter{}, f, []string{"a.pcap"}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 200 {
			c := testConn(uint64(i + 1))
			w.Add(&c)
		}
		if err := w.Close(time.Unix(0, 0)); !errors.Is(err, errFull) {
			t.Errorf("%s: Close = %v, want %v", f, err, errFull)
		}
		if w.N() != 200 {
			t.Errorf("%s: N() = %d", f, w.N())
		}
	}
}
