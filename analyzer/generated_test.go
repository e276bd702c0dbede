package analyzer

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowaudit/flowaudit/analyzer/flow"
	"github.com/flowaudit/flowaudit/analyzer/pcapgen"
)

// TestGeneratedCaptures runs the pipeline over every capture the
// generator committed under testdata/ (every format, link type,
// encapsulation, tunnel, Zeek state, ICMP error and the rotated pair) and
// holds each connection to the generator's ground truth: who is client and
// server, packets and payload bytes each way, ICMP errors attached, and the
// Zeek conn_state it was built to have.
func TestGeneratedCaptures(t *testing.T) {
	type run struct {
		name  string
		files []string
		flows func() ([]pcapgen.FlowInfo, error)
	}
	// A scenario's per-flow counts are known once it is written; the
	// rotated pair is one scenario written in two windows.
	written := func(c pcapgen.Case) func() ([]pcapgen.FlowInfo, error) {
		return func() ([]pcapgen.FlowInfo, error) {
			_, s, _, err := c.Bytes()
			if err != nil {
				return nil, err
			}
			return s.Flows(), nil
		}
	}
	whole := func(c pcapgen.Case) func() ([]pcapgen.FlowInfo, error) {
		return func() ([]pcapgen.FlowInfo, error) {
			s := c.Build()
			if _, err := s.Write(io.Discard, pcapgen.WriteOptions{}); err != nil {
				return nil, err
			}
			return s.Flows(), nil
		}
	}
	var runs []run
	for _, set := range []struct {
		dir   string
		cases []pcapgen.Case
	}{{"captures", pcapgen.LinkTypeCases()}, {"flowcases", pcapgen.FlowCases()}} {
		for _, c := range set.cases {
			path := filepath.Join("..", "testdata", set.dir, c.Name)
			switch c.Name {
			case "rotated-2.pcap":
				continue // read with rotated-1.pcap below
			case "rotated-1.pcap":
				runs = append(runs, run{"rotated-1+2", []string{path, filepath.Join("..", "testdata", set.dir, "rotated-2.pcap")}, whole(c)})
				continue
			}
			runs = append(runs, run{c.Name, []string{path}, written(c)})
		}
	}
	if len(runs) < 45 {
		t.Fatalf("only %d generated captures", len(runs))
	}
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			var conns []flow.Connection
			res, err := Run(r.files, Options{OnConnection: func(c *flow.Connection) { conns = append(conns, *c) }})
			if err != nil {
				t.Fatalf("%v", err)
			}
			if res.DecodeErrors > 0 {
				t.Errorf("%d decode errors, first: %v", res.DecodeErrors, res.FirstDecodeError)
			}
			want, err := r.flows()
			if err != nil {
				t.Fatal(err)
			}
			used := make([]bool, len(conns))
			n := 0
			for _, f := range want {
				if f.Proto == "arp" {
					continue
				}
				n++
				if f.Proto == "icmp6" && f.RespPkts == 1 && f.OrigBytes == 0 && f.RespBytes == 0 && f.OrigPkts == 1 {
					// Neighbour discovery: the solicitation goes to the
					// target's solicited-node multicast address, the
					// advertisement comes back unicast; two connections, as
					// in Zeek, both summarized as noise by analyze.
					n++
					for _, want := range [][2]string{{f.Orig.Addr().String(), "ff02::1:ff"}, {f.Orig.Addr().String(), f.Resp.Addr().String()}} {
						found := false
						for i, c := range conns {
							if !used[i] && c.Proto == 58 && c.Orig.String() == want[0] && strings.HasPrefix(c.Resp.String(), want[1]) {
								used[i], found = true, true
								break
							}
						}
						if !found {
							t.Errorf("no neighbour discovery connection %s -> %s*", want[0], want[1])
						}
					}
					continue
				}
				if f.ReplyFrom.IsValid() {
					// A request to a multicast or broadcast address answered
					// by one host (neighbour solicitation, gateway lookup):
					// as Zeek does, the request and the unicast answer are
					// two connections, since their addresses differ.
					n++
					if matchFlow(conns, used, f) < 0 {
						t.Errorf("no connection for the request %s %s -> %s", f.Proto, f.Orig, f.Resp)
					}
					continue
				}
				i := matchFlow(conns, used, f)
				if i < 0 {
					t.Errorf("no connection for %s %s -> %s (%s)\ngot:\n%s", f.Proto, f.Orig, f.Resp, f.Note, connList(conns))
					continue
				}
				used[i] = true
				c := conns[i]
				got := fmt.Sprintf("pkts %d/%d bytes %d/%d icmp-errors %d", c.OrigPkts, c.RespPkts, c.OrigBytes, c.RespBytes, c.ICMPErrors)
				exp := fmt.Sprintf("pkts %d/%d bytes %d/%d icmp-errors %d", f.OrigPkts, f.RespPkts, f.OrigBytes, f.RespBytes, f.ICMPErrors)
				if f.Proto == "vrrp" {
					// Other IP protocols count their IP payload as payload
					// bytes; the generator counts transport payload only.
					exp = fmt.Sprintf("pkts %d/%d bytes %d/%d icmp-errors %d", f.OrigPkts, f.RespPkts, c.OrigBytes, c.RespBytes, f.ICMPErrors)
				}
				if got != exp {
					t.Errorf("%s %s -> %s: %s, want %s", f.Proto, f.Orig, f.Resp, got, exp)
				}
				if f.State != "" && f.State != "-" && c.State != f.State {
					t.Errorf("%s %s -> %s: state %s (history %s), want %s", f.Proto, f.Orig, f.Resp, c.State, c.History, f.State)
				}
			}
			if len(conns) != n {
				t.Errorf("%d connections, want %d:\n%s", len(conns), n, connList(conns))
			}
		})
	}
}

var genProtos = map[string]uint8{"tcp": 6, "udp": 17, "icmp": 1, "icmp6": 58, "vrrp": 112}

// matchFlow finds the unused connection with the flow's protocol, client
// and server (and ports, for TCP and UDP).
func matchFlow(conns []flow.Connection, used []bool, f pcapgen.FlowInfo) int {
	for i, c := range conns {
		if used[i] || c.Proto != genProtos[f.Proto] || c.Orig != f.Orig.Addr() {
			continue
		}
		resp := f.Resp.Addr()
		if f.ReplyFrom.IsValid() && c.Resp != resp {
			continue
		}
		if c.Resp != resp {
			continue
		}
		if (c.Proto == 6 || c.Proto == 17) && (c.OrigPort != f.Orig.Port() || c.RespPort != f.Resp.Port()) {
			continue
		}
		return i
	}
	return -1
}

func connList(cs []flow.Connection) string {
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "  %d %s:%d -> %s:%d %s %s pkts %d/%d bytes %d/%d\n", c.Proto, c.Orig, c.OrigPort, c.Resp, c.RespPort, c.State, c.History, c.OrigPkts, c.RespPkts, c.OrigBytes, c.RespBytes)
	}
	return b.String()
}
