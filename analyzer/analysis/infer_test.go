package analysis

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/flowaudit/flowaudit/analyzer"
	"github.com/flowaudit/flowaudit/analyzer/flow"
	"github.com/flowaudit/flowaudit/analyzer/inventory"
	"github.com/flowaudit/flowaudit/catalog"
)

func svcOf(client, server string, proto uint8, port uint16, established uint64) flow.Service {
	return flow.Service{ServiceKey: flow.ServiceKey{Client: netip.MustParseAddr(client), Server: netip.MustParseAddr(server), Proto: proto, Port: port},
		Counts: flow.Counts{Connections: 1, Established: established, Unanswered: 1 - established}}
}

func TestInferMissingHosts(t *testing.T) {
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Parse("inv.yaml", []byte(`
hosts:
  - {name: vda-by-hand, addresses: [10.1.3.21], roles: [Horizon Agent]}
  - {name: lab, addresses: [10.1.4.0/24], roles: [Virtual Delivery Agent]}
  - {name: two-a, addresses: [10.1.3.31], roles: [Virtual Delivery Agent]}
  - {name: two-b, addresses: ["2001:db8::31"], roles: [Horizon Agent]}
`), cat)
	if err != nil {
		t.Fatal(err)
	}
	res := &analyzer.Result{Services: []flow.Service{
		svcOf("10.1.2.51", "10.1.3.21", 6, 1494, 1), // in the inventory as something else: the inventory wins
		svcOf("10.1.2.51", "10.1.3.22", 6, 1494, 1), // a VDA the inventory lacks
		svcOf("10.1.2.51", "10.1.3.22", 6, 2598, 1),
		svcOf("10.1.2.51", "10.1.4.9", 6, 2598, 1),     // inside an inventory block
		svcOf("10.1.2.51", "10.1.5.5", 6, 443, 1),      // only 443, but from a Workspace app: a StoreFront
		svcOf("10.1.2.51", "10.1.3.23", 6, 1494, 0),    // never answered: no evidence
		svcOf("10.1.2.51", "2001:db8::22", 6, 2598, 1), // 10.1.3.22's IPv6 address: same MAC
		svcOf("10.1.2.51", "2001:db8::21", 6, 2598, 1), // vda-by-hand's IPv6 address: same MAC
		svcOf("10.1.2.51", "2001:db8::32", 6, 2598, 1), // one MAC with two inventory hosts: they disagree, nothing is guessed
	}, AddrMACs: []flow.AddrMAC{
		{Addr: netip.MustParseAddr("10.1.3.21"), MAC: [6]byte{2, 0, 0, 0, 0, 0x21}, MACs: 1},
		{Addr: netip.MustParseAddr("2001:db8::21"), MAC: [6]byte{2, 0, 0, 0, 0, 0x21}, MACs: 1},
		{Addr: netip.MustParseAddr("10.1.3.22"), MAC: [6]byte{2, 0, 0, 0, 0, 0x22}, MACs: 1},
		{Addr: netip.MustParseAddr("2001:db8::22"), MAC: [6]byte{2, 0, 0, 0, 0, 0x22}, MACs: 1},
		{Addr: netip.MustParseAddr("10.1.3.31"), MAC: [6]byte{2, 0, 0, 0, 0, 0x31}, MACs: 1},
		{Addr: netip.MustParseAddr("2001:db8::31"), MAC: [6]byte{2, 0, 0, 0, 0, 0x31}, MACs: 1},
		{Addr: netip.MustParseAddr("2001:db8::32"), MAC: [6]byte{2, 0, 0, 0, 0, 0x31}, MACs: 1},
	}}
	InferMissingHosts(res, inv, cat, nil, false)
	var got []string
	for _, h := range inv.Hosts {
		var marks []string
		for _, a := range h.Roles {
			marks = append(marks, fmt.Sprintf("%s inferred=%v", a.Name(), a.Inferred))
		}
		got = append(got, fmt.Sprintf("%s %v inferred=%v: %s", h.Name, h.AddressStrings(), h.Inferred, strings.Join(marks, "; ")))
	}
	want := []string{
		"vda-by-hand [10.1.3.21] inferred=false: Horizon Agent inferred=false",
		"lab [10.1.4.0/24] inferred=false: Virtual Delivery Agent inferred=false",
		"two-a [10.1.3.31] inferred=false: Virtual Delivery Agent inferred=false",
		"two-b [2001:db8::31] inferred=false: Horizon Agent inferred=false",
		"host-10-1-2-51 [10.1.2.51] inferred=true: Citrix Workspace app inferred=true",
		"host-2001-db8--21 [2001:db8::21] inferred=true: Horizon Agent inferred=true",
		"host-10-1-3-22 [10.1.3.22 2001:db8::22] inferred=true: Virtual Delivery Agent inferred=true",
		"host-10-1-5-5 [10.1.5.5] inferred=true: StoreFront inferred=true",
	}
	if !slices.Equal(got, want) {
		t.Errorf("hosts:\n got %q\nwant %q", got, want)
	}
	if h := inv.Lookup(netip.MustParseAddr("10.1.3.22")); h == nil || !strings.HasPrefix(h.Description, "roles inferred from traffic: Virtual Delivery Agent 0.") {
		t.Errorf("inferred host = %+v", h)
	}
	if h := inv.Lookup(netip.MustParseAddr("2001:db8::21")); h == nil || !strings.HasPrefix(h.Description, "tied to vda-by-hand by the capture: same source MAC 02:00:00:00:00:21") {
		t.Errorf("tied host = %+v", h)
	}
	// A second pass adds nothing: every address is known now.
	n := len(inv.Hosts)
	InferMissingHosts(res, inv, cat, nil, false)
	if len(inv.Hosts) != n {
		t.Errorf("second pass added %d hosts", len(inv.Hosts)-n)
	}
}
