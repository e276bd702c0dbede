package analysis

import (
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer"
	"github.com/flowaudit/flowaudit/analyzer/audit"
	"github.com/flowaudit/flowaudit/analyzer/capture"
	"github.com/flowaudit/flowaudit/analyzer/decode"
	"github.com/flowaudit/flowaudit/analyzer/flow"
	"github.com/flowaudit/flowaudit/analyzer/inventory"
	"github.com/flowaudit/flowaudit/catalog"
)

func TestGenerated(t *testing.T) {
	last := time.Date(2026, 11, 2, 9, 30, 0, 0, time.FixedZone("x", 3600))
	res := &analyzer.Result{Captures: []analyzer.Capture{{Last: last.Add(-time.Hour)}, {Last: last}, {}}}
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.FixedZone("y", -7200))
	for _, tc := range []struct {
		name, epoch  string
		reproducible bool
		want         time.Time
		err          string
	}{
		{"now", "", false, now.UTC(), ""},
		{"reproducible", "", true, last.UTC(), ""},
		{"SOURCE_DATE_EPOCH wins", "1700000000", true, time.Unix(1700000000, 0).UTC(), ""},
		{"SOURCE_DATE_EPOCH bad", "yesterday", false, time.Time{}, `SOURCE_DATE_EPOCH="yesterday" is not a number of seconds`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Generated(res, tc.epoch, tc.reproducible, now)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("err = %v, want %s", err, tc.err)
				}
				return
			}
			if err != nil || !got.Equal(tc.want) || got.Location() != time.UTC {
				t.Errorf("Generated = %v, %v; want %v UTC", got, err, tc.want)
			}
		})
	}
}

func TestCapture(t *testing.T) {
	inner := errors.New("unexpected EOF in a record header")
	for _, tc := range []struct {
		name   string
		err    error
		msg    string
		offset int64
		frame  uint64
	}{
		{"complete", nil, "", 0, 0},
		{"positioned", &capture.Error{Path: "a.pcap", Offset: 4096, Frame: 12, Err: inner}, inner.Error(), 4096, 12},
		{"wrapped", errors.Join(errors.New("reading"), &capture.Error{Path: "a.pcap", Offset: 24, Frame: 1, Err: inner}), inner.Error(), 24, 1},
		{"other", io.ErrClosedPipe, io.ErrClosedPipe.Error(), 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := Capture(analyzer.Capture{Path: "a.pcap", Packets: 11, Status: analyzer.StatusCutShort, Err: tc.err})
			if rc.Error != tc.msg || rc.Offset != tc.offset || rc.Frame != tc.frame {
				t.Errorf("Capture = error %q offset %d frame %d; want %q %d %d", rc.Error, rc.Offset, rc.Frame, tc.msg, tc.offset, tc.frame)
			}
			if rc.Path != "a.pcap" || rc.Packets != 11 || rc.Status != string(analyzer.StatusCutShort) {
				t.Errorf("Capture = %+v", rc)
			}
		})
	}
}

// TestReportSample audits the RAS sample pilot as analyze does.
func TestReportSample(t *testing.T) {
	const dir = "../../testdata/samples/ras/"
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.LoadIn(dir+"inventory.yaml", cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	waivers, err := audit.LoadWaivers(dir+"waivers.yaml", inv, cat)
	if err != nil {
		t.Fatal(err)
	}
	// Read as analyze reads: the digest is waited for by Report, after
	// the audit.
	res, err := analyzer.Run([]string{dir + "pilot.pcapng"}, analyzer.Options{ServerPorts: cat, LateDigests: true})
	if err != nil {
		t.Fatal(err)
	}
	gen, _ := Generated(res, "", true, time.Time{})
	rep, err := Report(res, Input{Tool: "flowaudit", Version: "test", Catalog: cat, Inventory: inv, InventoryPath: dir + "inventory.yaml",
		Scope: inv.Scope(), Waivers: waivers, FailOn: []string{"undocumented"}, Generated: gen, MaxConnections: 10, MaxServices: 20})
	if err != nil {
		t.Fatal(err)
	}
	if res.Services != nil {
		t.Error("res.Services kept after the audit")
	}
	sum, err := analyzer.FileSHA256(dir + "pilot.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Captures) != 1 || !rep.Captures[0].Complete() || rep.Captures[0].SHA256 != sum {
		t.Errorf("captures: %+v, want SHA-256 %s", rep.Captures, sum)
	}
	if rep.Packets == 0 || rep.Packets != res.Packets {
		t.Errorf("packets %d, read %d", rep.Packets, res.Packets)
	}
	if c := rep.Result.Counts(); c.Documented == 0 || c.Undocumented == 0 || c.Waived == 0 {
		t.Errorf("%+v: the sample has documented, undocumented and waived findings", c)
	}
	if !rep.Generated.Equal(res.LastPacket()) || rep.Tool != "flowaudit" || rep.Version != "test" {
		t.Errorf("header: %s %s %v", rep.Tool, rep.Version, rep.Generated)
	}
	if rep.Limits.MaxConnections != 10 || rep.Limits.MaxServices != 20 {
		t.Errorf("limits: %+v", rep.Limits)
	}
}

// TestReportSkipped: ARP frames are noise unless --include-noise lists
// them; the other reasons are the report's skipped frames.
func TestReportSkipped(t *testing.T) {
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	arp, trunc := decode.ReasonARP.String(), decode.ReasonTruncated.String()
	for _, noise := range []bool{false, true} {
		res := &analyzer.Result{Skipped: []analyzer.Skip{{Reason: arp, Count: 7}, {Reason: trunc, Count: 2}},
			Stats: flow.Stats{Evicted: 3, Unaggregated: 4}}
		rep, err := Report(res, Input{Catalog: cat, Inventory: inventory.New(), IncludeNoise: noise})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Skipped[trunc] != 2 {
			t.Errorf("noise=%v: skipped %v", noise, rep.Skipped)
		}
		if _, listed := rep.Skipped[arp]; listed != noise {
			t.Errorf("noise=%v: ARP in skipped: %v", noise, rep.Skipped)
		}
		arpNoise := slices.Contains(rep.Result.Noise, audit.Noise{Kind: "arp", Packets: 7})
		if arpNoise == noise {
			t.Errorf("noise=%v: noise %+v", noise, rep.Result.Noise)
		}
		if rep.Limits.EvictedConnections != 3 || rep.Limits.UnaggregatedConnections != 4 {
			t.Errorf("limits: %+v", rep.Limits)
		}
	}
}
