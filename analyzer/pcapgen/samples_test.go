package pcapgen

import (
	"bytes"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/gopacket/layers"
)

// samplesDir is where the sample pilots are committed.
var samplesDir = filepath.Join(testdataDir, "samples")

// TestSamplesGolden fails when a committed sample pilot differs from what
// the generator produces now; go test ./analyzer/pcapgen -update rewrites
// them (as does go run ./cmd/pcapgen -kind generate-all).
func TestSamplesGolden(t *testing.T) {
	if *update {
		if err := GenerateSamples(samplesDir); err != nil {
			t.Fatal(err)
		}
	}
	tmp := t.TempDir()
	if err := GenerateSamples(tmp); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range SampleCases() {
		names = append(names, filepath.FromSlash(c.Name))
	}
	compareGenerated(t, tmp, samplesDir, names)
	// every family directory holds a generated pilot
	entries, err := os.ReadDir(samplesDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(tmp, e.Name(), "pilot.pcapng")); err != nil {
			t.Errorf("samples/%s has no generated pilot.pcapng", e.Name())
		}
	}
}

// documentation are the address blocks a sample may use besides link-local
// and multicast ones: RFC 5737 and RFC 3849.
var documentation = []netip.Prefix{
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("2001:db8::/32"),
}

func sampleAddrOK(a netip.Addr) bool {
	if a.IsLinkLocalUnicast() || a.IsMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return true
	}
	for _, p := range documentation {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// TestSampleCases reads every sample pilot back, checks that its frames are
// exactly the scenario's flows, that it stays small, uses documentation
// addresses only, and holds the traffic each kind of finding needs:
// refused, unanswered and firewalled connections, unanswered UDP, LAN
// noise, and (RAS) VRRP and the gateway lookup broadcast.
func TestSampleCases(t *testing.T) {
	tests := map[string]struct {
		minPackets, maxPackets int
		vrrp, broadcast        bool
		after                  bool // the pilot after its firewall change: nothing refused or firewalled
	}{
		"horizon/pilot.pcapng": {minPackets: 500, maxPackets: 1500},
		"citrix/pilot.pcapng":  {minPackets: 400, maxPackets: 1500},
		"ras/pilot.pcapng":     {minPackets: 400, maxPackets: 1500, vrrp: true, broadcast: true},
		"ras/after.pcapng":     {minPackets: 400, maxPackets: 1500, vrrp: true, broadcast: true, after: true},
		"lync/pilot.pcapng":    {minPackets: 400, maxPackets: 1500},
	}
	if got, want := len(SampleCases()), len(tests); got != want {
		t.Fatalf("%d sample cases, want %d", got, want)
	}
	for _, c := range SampleCases() {
		t.Run(c.Name, func(t *testing.T) {
			tc, ok := tests[c.Name]
			if !ok {
				t.Fatalf("no expectations for %s", c.Name)
			}
			data, s, st, err := c.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			if len(data) > 300<<10 {
				t.Errorf("%d bytes, want at most 300 KiB", len(data))
			}
			if st.Packets < tc.minPackets || st.Packets > tc.maxPackets {
				t.Errorf("%d packets, want %d-%d", st.Packets, tc.minPackets, tc.maxPackets)
			}
			recs := readBack(t, data)
			if len(recs) != st.Packets {
				t.Fatalf("read %d packets, writer reported %d", len(recs), st.Packets)
			}
			for i := 1; i < len(recs); i++ {
				if recs[i].ts.Before(recs[i-1].ts) {
					t.Fatalf("frame %d goes back in time", i+1)
				}
			}
			got := classify(t, recs)
			if want := expectedKeys(s); !maps.Equal(got.perKey, want) {
				t.Errorf("frames per flow differ from the scenario\n got: %v\nwant: %v", got.perKey, want)
			}
			for k := range got.perKey {
				for _, a := range []netip.Addr{k.a.Addr(), k.b.Addr()} {
					if !sampleAddrOK(a) {
						t.Errorf("flow %v uses %v, outside the documentation ranges", k, a)
					}
				}
			}

			// the flows each kind of finding needs
			var refused, synOnly, udpSilent, prohibited, llmnr, mdns int
			bcast := false
			for _, f := range s.Flows() {
				switch {
				case f.Proto == "tcp" && f.State == "REJ":
					refused++
				case f.Proto == "tcp" && f.State == "S0" && f.ICMPErrors == 0:
					synOnly++
				case f.Proto == "udp" && f.Resp.Port() == 5355:
					llmnr++
				case f.Proto == "udp" && f.Resp.Port() == 5353:
					mdns++
				case f.Proto == "udp" && f.Resp.Addr() == netip.AddrFrom4([4]byte{255, 255, 255, 255}) && f.Resp.Port() == 20000:
					bcast = true
				case f.Proto == "udp" && f.RespPkts == 0 && f.ICMPErrors == 0 && f.OrigPkts > 1:
					udpSilent++
				}
			}
			for _, r := range recs {
				p := decodeRec(t, r)
				if ic, ok := p.Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4); ok &&
					ic.TypeCode == layers.CreateICMPv4TypeCode(layers.ICMPv4TypeDestinationUnreachable, layers.ICMPv4CodeCommAdminProhibited) {
					prohibited++
				}
			}
			if tc.after {
				// The change opened the blocked flows and closed one:
				// LDAP from the second broker, unanswered.
				if refused != 0 || synOnly != 1 || udpSilent != 0 || prohibited != 0 {
					t.Errorf("refused %d, unanswered TCP %d, unanswered UDP %d, ICMP prohibited frames %d: want 0, 1, 0, 0",
						refused, synOnly, udpSilent, prohibited)
				}
			} else if refused == 0 || synOnly == 0 || udpSilent == 0 || prohibited == 0 {
				t.Errorf("refused %d, unanswered TCP %d, unanswered UDP %d, ICMP prohibited frames %d: want each at least 1",
					refused, synOnly, udpSilent, prohibited)
			}
			for _, l := range []struct {
				layer interface{ String() string }
				n     int
			}{
				{layers.LayerTypeARP, got.layers[layers.LayerTypeARP]},
				{layers.LayerTypeICMPv6NeighborSolicitation, got.layers[layers.LayerTypeICMPv6NeighborSolicitation]},
				{layers.LayerTypeICMPv6NeighborAdvertisement, got.layers[layers.LayerTypeICMPv6NeighborAdvertisement]},
			} {
				if l.n == 0 {
					t.Errorf("no %v frame", l.layer)
				}
			}
			if llmnr == 0 || mdns == 0 {
				t.Errorf("LLMNR flows %d, mDNS flows %d: want both", llmnr, mdns)
			}
			if v := got.layers[layers.LayerTypeVRRP] > 0; v != tc.vrrp {
				t.Errorf("VRRP present %v, want %v", v, tc.vrrp)
			}
			if bcast != tc.broadcast {
				t.Errorf("UDP 20000 broadcast present %v, want %v", bcast, tc.broadcast)
			}
		})
	}
}

// TestSamplesDeterministic: two builds give the same bytes.
func TestSamplesDeterministic(t *testing.T) {
	for _, c := range SampleCases() {
		a, _, _, err := c.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		b, _, _, _ := c.Bytes()
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two builds differ", c.Name)
		}
		if !strings.HasSuffix(c.Name, "/pilot.pcapng") && c.Name != "ras/after.pcapng" {
			t.Errorf("%s: want <family>/pilot.pcapng (or the RAS pilot's after.pcapng)", c.Name)
		}
	}
}
