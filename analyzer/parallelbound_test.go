package analyzer

import (
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
)

// TestParallelMaxServicesBoundary: with --max-services at, just under and
// just over the services the captures hold (IPv4 and IPv6, ICMP and
// ICMPv6, port-less protocols, conn.logs beside captures), --parallel
// keeps the same services and counts the same connections past the bound
// as reading in order.
func TestParallelMaxServicesBoundary(t *testing.T) {
	samples, _ := filepath.Glob("../testdata/samples/*/pilot.pcapng")
	logs, _ := filepath.Glob("../testdata/zeek-baselines/*.conn.log")
	local, _ := filepath.Glob("../testdata/captures/*.pcap")
	if len(samples) == 0 || len(logs) == 0 || len(local) == 0 {
		t.Fatal("no samples")
	}
	for _, set := range [][]string{samples, append(append([]string{}, logs[:min(3, len(logs))]...), samples[:2]...), local} {
		all, err := Run(set, Options{})
		if err != nil {
			t.Fatal(err)
		}
		n := len(all.Services)
		if n < 3 {
			t.Fatalf("%d services", n)
		}
		for _, max := range []int{1, n / 2, n - 1, n, n + 1} {
			t.Run(fmt.Sprintf("%s+%d/max%d", filepath.Base(set[0]), len(set)-1, max), func(t *testing.T) {
				serial, serr := Run(set, Options{MaxServices: max})
				par, perr := Run(set, Options{MaxServices: max, Parallel: true})
				if fmt.Sprint(serr) != fmt.Sprint(perr) {
					t.Errorf("errors differ:\nserial   %v\nparallel %v", serr, perr)
				}
				s, _ := comparable(serial)
				p, _ := comparable(par)
				if want := min(n, max); len(s.Services) != want {
					t.Errorf("%d services kept in order, want %d", len(s.Services), want)
				}
				if (s.Stats.Unaggregated > 0) != (max < n) {
					t.Errorf("max %d of %d services: %d connections not aggregated", max, n, s.Stats.Unaggregated)
				}
				if !reflect.DeepEqual(s, p) {
					diffResults(t, s, p)
				}
			})
		}
	}
}
