package pcapgen

import (
	"time"
)

// NameCases are captures whose connections name their servers, under
// testdata/names: the evidence flowaudit reads host names from (DNS
// answers, TLS SNI, QUIC Initial SNI, HTTP Host).
func NameCases() []Case {
	ng := WriteOptions{Format: FormatPcapNG}
	return []Case{
		{Name: "cloud-connector.pcapng", Opts: ng, Build: cloudConnectorPilot,
			Desc: "Citrix Cloud Connector pilot: two Cloud Connectors reach DigiCert's CRL and CA hosts by name (HTTP Host, TLS SNI split over segments, DNS with a CNAME chain, DNS over TCP, a DNS answer to the other connector), a QUIC client, an SNI that contradicts DNS."},
	}
}

// Addresses of the cloud connector pilot: 192.0.2.0/24 the server VLAN,
// 203.0.113.0/24 the internet.
var (
	ccDNS       = addr("192.0.2.5")    // the domain controller, DNS server
	ccOne       = addr("192.0.2.61")   // cc01
	ccTwo       = addr("192.0.2.62")   // cc02
	ccOCSP      = addr("203.0.113.80") // ocsp.digicert.com
	ccCRL       = addr("203.0.113.81") // crl3.digicert.com, through a CNAME chain
	ccCACerts   = addr("203.0.113.82") // dl.cacerts.digicert.com
	ccCACertsV6 = addr("2001:db8:d1::82")
	ccQUIC      = addr("203.0.113.90") // a QUIC service
)

// cloudConnectorPilot: see NameCases.
func cloudConnectorPilot() *Scenario {
	s := New(Config{Seed: 1601, Start: time.Date(2025, time.May, 6, 9, 0, 0, 0, time.UTC)})
	dns := func(at time.Duration, client, name string, id uint16, v6 bool, answers ...DNSRecord) {
		s.UDP(at, s.Client(addr(client)), ap(ccDNS, 53), UDPOpts{Data: DNSQuery(id, name, v6), ReplyData: DNSResponse(id, name, v6, answers...)})
	}
	c1, c2 := ccOne.String(), ccTwo.String()

	// cc01 asks for ocsp.digicert.com and fetches a CRL over HTTP: Host
	// names it (http-host), DNS agrees.
	dns(sec(1), c1, "ocsp.digicert.com", 1, false, DNSRecord{Name: "ocsp.digicert.com", Addr: ccOCSP})
	s.TCP(sec(1.2), s.Client(ccOne), ap(ccOCSP, 80), TCPOpts{Data: HTTPRequest("ocsp.digicert.com"), Response: 900})

	// dl.cacerts.digicert.com over TLS: a 2 KiB ClientHello in 500-byte
	// segments (sni), over IPv4 and IPv6.
	dns(sec(2), c1, "dl.cacerts.digicert.com", 2, false, DNSRecord{Name: "dl.cacerts.digicert.com", Addr: ccCACerts})
	s.TCP(sec(2.2), s.Client(ccOne), ap(ccCACerts, 443), TCPOpts{Data: ClientHello("dl.cacerts.digicert.com", 1800), Segment: 500, Response: 3000})

	// crl3.digicert.com through a CNAME chain whose answers come in
	// reverse order; the TLS session is caught mid-stream, so only DNS
	// names it (dns).
	dns(sec(3), c1, "crl3.digicert.com", 3, false,
		DNSRecord{Name: "cs9.wac.phicdn.net", Addr: ccCRL},
		DNSRecord{Name: "crl3.digicert.com.edgesuite.example", Target: "cs9.wac.phicdn.net"},
		DNSRecord{Name: "crl3.digicert.com", Target: "crl3.digicert.com.edgesuite.example"})
	s.TCP(sec(3.2), s.Client(ccOne), ap(ccCRL, 443), TCPOpts{Open: OpenMidStream, Exchanges: 2, Request: 400, Response: 1500})

	// cc02 never asked (its DNS went elsewhere): cc01's answer names the
	// address for it, more weakly (dns (other client)).
	s.TCP(sec(4), s.Client(ccTwo), ap(ccCRL, 443), TCPOpts{Open: OpenMidStream, Request: 300, Response: 900})

	// cc02 asks over TCP, from its IPv6 address, for the CA host's IPv6
	// address; the TLS session is caught mid-stream (dns).
	s.TCP(sec(5), s.Client(addr("2001:db8::62")), ap(addr("2001:db8::5"), 53), TCPOpts{Data: DNSOverTCP(DNSQuery(5, "dl.cacerts.digicert.com", true)),
		ReplyData: DNSOverTCP(DNSResponse(5, "dl.cacerts.digicert.com", true, DNSRecord{Name: "dl.cacerts.digicert.com", Addr: ccCACertsV6}))})
	s.TCP(sec(5.3), s.Client(addr("2001:db8::62")), ap(ccCACertsV6, 443), TCPOpts{Open: OpenMidStream, Request: 500, Response: 2500})

	// An SNI that contradicts DNS: the address DNS called
	// ocsp.digicert.com, asked for evil.example.
	s.TCP(sec(6), s.Client(ccTwo), ap(ccOCSP, 443), TCPOpts{Data: ClientHello("evil.example", 0), Response: 1200})

	// A QUIC client: the Initial's ClientHello, in two CRYPTO frames.
	dns(sec(7), c2, "quic.example", 7, false, DNSRecord{Name: "quic.example", Addr: ccQUIC})
	s.UDP(sec(7.2), s.Client(ccTwo), ap(ccQUIC, 443), UDPOpts{Data: QUICInitial([]byte{0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08}, "quic.example", true), Response: 1200})
	return s
}
