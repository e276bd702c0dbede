package analyzer

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/flowaudit/flowaudit/analyzer/capturetest"
	"github.com/flowaudit/flowaudit/analyzer/flow"
)

// namedConns runs the pipeline over paths and returns each connection's
// server name as "resp port/proto name (source)", sorted.
func namedConns(t *testing.T, paths ...string) []string {
	t.Helper()
	var out []string
	_, err := Run(paths, Options{NoHash: true, OnConnection: func(c *flow.Connection) {
		if c.ServerName != "" {
			out = append(out, fmt.Sprintf("%s %d/%d %s (%s)", c.Resp, c.RespPort, c.Proto, c.ServerName, c.NameSource))
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// TestNamesGenerated holds the names of the generated Cloud Connector
// pilot to what it was built with: each evidence kind once at least.
func TestNamesGenerated(t *testing.T) {
	got := namedConns(t, filepath.Join("..", "testdata", "names", "cloud-connector.pcapng"))
	want := []string{
		"2001:db8:d1::82 443/6 dl.cacerts.digicert.com (dns)",       // DNS over TCP, IPv6, mid-stream TLS
		"203.0.113.80 443/6 evil.example (sni)",                     // contradicts DNS
		"203.0.113.80 80/6 ocsp.digicert.com (http-host)",           // HTTP Host
		"203.0.113.81 443/6 crl3.digicert.com (dns (other client))", // cc01's answer, used by cc02
		"203.0.113.81 443/6 crl3.digicert.com (dns)",                // CNAME chain in reverse order
		"203.0.113.82 443/6 dl.cacerts.digicert.com (sni)",          // ClientHello over five segments
		"203.0.113.90 443/17 quic.example (sni)",                    // QUIC Initial, two CRYPTO frames
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("names:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestNamesTshark compares the SNI and HTTP Host of every connection with
// tshark's dissection (TLS over TCP, QUIC, HTTP) on the generated pilot and
// on the shared captures that hold any; skipped without tshark.
func TestNamesTshark(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed")
	}
	files := []string{filepath.Join("..", "testdata", "names", "cloud-connector.pcapng")}
	for _, name := range []string{"ocs.pcap", "http-qinq-0.pcap", "mixed-vlan-mpls.pcap", "test_loopback.pcap"} {
		files = append(files, capturetest.Path(t, name))
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			// The first name per connection, as "server port name".
			out, err := exec.Command("tshark", "-r", path, "-Y", "tls.handshake.extensions_server_name or http.host",
				"-T", "fields", "-E", "separator=|", "-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.dstport", "-e", "udp.dstport",
				"-e", "tls.handshake.extensions_server_name", "-e", "http.host").Output()
			if err != nil {
				t.Fatalf("tshark: %v", err)
			}
			want := map[string]bool{}
			for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				f := strings.Split(line, "|")
				if len(f) < 6 {
					continue
				}
				dst := f[0] + f[1]
				if i := strings.IndexByte(dst, ','); i >= 0 {
					dst = dst[:i] // tunnelled: the first is the inner one here
				}
				name := strings.ToLower(f[4] + f[5])
				if i := strings.LastIndexByte(name, ':'); i >= 0 {
					name = name[:i]
				}
				want[fmt.Sprintf("%s %s %s", dst, f[2]+f[3], name)] = true
			}
			got := map[string]bool{}
			_, err = Run([]string{path}, Options{NoHash: true, OnConnection: func(c *flow.Connection) {
				if c.NameSource.Authoritative() {
					got[fmt.Sprintf("%s %d %s", c.Resp, c.RespPort, c.ServerName)] = true
				}
			}})
			if err != nil {
				t.Fatal(err)
			}
			for k := range want {
				if !got[k] {
					t.Errorf("tshark has %q, flowaudit not", k)
				}
			}
			for k := range got {
				if !want[k] {
					t.Errorf("flowaudit has %q, tshark not", k)
				}
			}
		})
	}
}
