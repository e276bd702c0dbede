package flow

import "github.com/flowaudit/flowaudit/analyzer/decode"

// NameSource says where a connection's server name came from, strongest
// first.
type NameSource uint8

// Name sources. SNI and HTTP Host name the server of their own connection
// (authoritative); DNS answers name an address, so they are weaker: an
// answer the client itself received before the connection started, then
// any other answer for the address in the capture.
const (
	NameNone     NameSource = iota
	NameSNI                 // TLS ClientHello server_name (TCP, or QUIC Initial)
	NameHTTPHost            // HTTP/1.x Host header
	NameDNS                 // a DNS answer to this client before the connection started
	NameDNSOther            // a DNS answer to another client, or one after the connection started
	numNameSources
)

var nameSourceNames = [...]string{"", "sni", "http-host", "dns", "dns (other client)"}

func (s NameSource) String() string {
	if int(s) < len(nameSourceNames) {
		return nameSourceNames[s]
	}
	return "unknown"
}

// Authoritative says whether the name was sent in the connection itself.
func (s NameSource) Authoritative() bool { return s == NameSNI || s == NameHTTPHost }

// stronger says whether s is better evidence than o.
func (s NameSource) stronger(o NameSource) bool { return s != NameNone && (o == NameNone || s < o) }

// ServiceName is one server name a service's connections were for.
type ServiceName struct {
	Name        string
	Source      NameSource
	Connections uint64
}

// MaxServiceNames bounds the distinct names kept per service.
const MaxServiceNames = 8

// Namer names a finished connection before it is handed out and folded:
// it may set ServerName and NameSource (when the connection carried no
// name of its own) and DNSName. See Config.Namer.
type Namer interface {
	Name(c *Connection)
}

// SetServerName gives the live connection of packet p the server name
// name, found in p's payload, unless it already has one at least as
// strong. It reports whether the connection was found.
func (t *Tracker) SetServerName(p *decode.Packet, name string, src NameSource) bool {
	vlan, inner := t.vlans(p)
	var k connKey
	k.set(&p.Src, &p.Dst, p.SrcPort, p.DstPort, p.Proto, kindPorts, vlan, inner)
	c := t.conns.get(&k)
	if c == nil {
		return false
	}
	if src.stronger(c.nameSrc) {
		c.serverName, c.nameSrc = name, src
	}
	return true
}

// foldNames adds a connection's server names to its service; its lists
// grow in a.
func (s *Service) foldNames(c *Connection, a *serviceArenas) {
	if c.ServerName != "" {
		found := false
		for i := range s.Names {
			n := &s.Names[i]
			if n.Name == c.ServerName && n.Source == c.NameSource {
				n.Connections++
				found = true
				break
			}
		}
		if !found && len(s.Names) < MaxServiceNames {
			s.Names = append(a.names.grow(s.Names, MaxServiceNames), ServiceName{Name: c.ServerName, Source: c.NameSource, Connections: 1})
		}
	}
	if c.DNSName != "" && c.DNSName != c.ServerName && len(s.DNSNames) < MaxServiceNames {
		for _, n := range s.DNSNames {
			if n == c.DNSName {
				return
			}
		}
		s.DNSNames = append(a.dns.grow(s.DNSNames, MaxServiceNames), c.DNSName)
	}
}
