package flow

import (
	"slices"
	"testing"

	"github.com/flowaudit/flowaudit/analyzer/decode"
)

// fakeNamer names every connection without a name of its own "dns.example"
// from DNS, and says DNS called its server that.
type fakeNamer struct{}

func (fakeNamer) Name(c *Connection) {
	c.DNSName = "dns.example"
	if c.NameSource == NameNone {
		c.ServerName, c.NameSource = "dns.example", NameDNS
	}
}

func TestServerNames(t *testing.T) {
	cases := []struct {
		name  string
		set   []NameSource // names given to the live connection, in order
		namer bool
		want  string
		src   NameSource
	}{
		{"none", nil, false, "", NameNone},
		{"sni", []NameSource{NameSNI}, false, "sni.example", NameSNI},
		{"sni kept over a later host", []NameSource{NameSNI, NameHTTPHost}, false, "sni.example", NameSNI},
		{"host replaced by sni", []NameSource{NameHTTPHost, NameSNI}, false, "sni.example", NameSNI},
		{"dns from the namer", nil, true, "dns.example", NameDNS},
		{"sni over the namer", []NameSource{NameSNI}, true, "sni.example", NameSNI},
	}
	names := map[NameSource]string{NameSNI: "sni.example", NameHTTPHost: "host.example"}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := Config{}
			if c.namer {
				cfg.Namer = fakeNamer{}
			}
			s := newSession(t, cfg)
			s.c("S", 0)
			s.s("SA", 0)
			s.c("A", 0)
			p := decode.Packet{Src: s.cli, Dst: s.srv, SrcPort: s.cport, DstPort: s.sport, Proto: decode.ProtoTCP}
			for _, src := range c.set {
				if !s.tr.SetServerName(&p, names[src], src) {
					t.Fatal("live connection not found")
				}
			}
			// The server's direction finds the same connection.
			r := decode.Packet{Src: s.srv, Dst: s.cli, SrcPort: s.sport, DstPort: s.cport, Proto: decode.ProtoTCP}
			if !s.tr.SetServerName(&r, "", NameNone) {
				t.Error("reverse direction not found")
			}
			s.tr.Flush()
			got := s.out[0]
			if got.ServerName != c.want || got.NameSource != c.src {
				t.Errorf("%q %v, want %q %v", got.ServerName, got.NameSource, c.want, c.src)
			}
			svcs := s.tr.Services()
			if c.want == "" && len(svcs[0].Names) != 0 || c.want != "" && (len(svcs[0].Names) != 1 || svcs[0].Names[0].Name != c.want) {
				t.Errorf("service names %+v", svcs[0].Names)
			}
			if c.namer && c.src == NameSNI && !slices.Equal(svcs[0].DNSNames, []string{"dns.example"}) {
				t.Errorf("service DNS names %v", svcs[0].DNSNames)
			}
		})
	}
	// No live connection: nothing to name.
	tr := NewTracker(Config{})
	p := decode.Packet{Src: hostC, Dst: hostS, SrcPort: 1, DstPort: 2, Proto: decode.ProtoTCP}
	if tr.SetServerName(&p, "x.example", NameSNI) {
		t.Error("named a connection that does not exist")
	}
}

func TestServiceNamesBounded(t *testing.T) {
	var s Service
	var a serviceArenas
	for i := 0; i < 3*MaxServiceNames; i++ {
		s.foldNames(&Connection{ServerName: string(rune('a'+i%26)) + ".example", NameSource: NameSNI, DNSName: string(rune('a'+i%26)) + ".dns"}, &a)
	}
	s.foldNames(&Connection{ServerName: "a.example", NameSource: NameSNI}, &a)
	if len(s.Names) != MaxServiceNames || len(s.DNSNames) != MaxServiceNames || s.Names[0].Connections != 2 {
		t.Errorf("names %+v, dns %v", s.Names, s.DNSNames)
	}
}
