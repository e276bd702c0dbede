package firewall

import (
	"io"
	"testing"
)

// BenchmarkBuild: the test pilot's request with evidence, grouped by role,
// and written as nft (per request, not per packet: runs once per command).
func BenchmarkBuild(b *testing.B) {
	f := load(b)
	opts := Options{Products: []string{"fwtest"}, Waivers: f.waivers, Now: t0, Evidence: true, Only: OnlyAll, Observations: f.obs}
	b.ReportAllocs()
	for b.Loop() {
		req, err := Build(f.cat, f.inv, opts)
		if err != nil {
			b.Fatal(err)
		}
		if err := req.NFT(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
