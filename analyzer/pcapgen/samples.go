package pcapgen

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"
)

// SampleCases are the sample pilots under testdata/samples: one capture per
// product family (testdata/samples/<family>/pilot.pcapng), each a small,
// believable pilot deployment built so that flowaudit analyze, with the
// inventory next to it, reports every kind of finding: documented flows,
// undocumented flows, blocked flows (refused, unanswered TCP, unanswered
// UDP, ICMP administratively prohibited), documented flows never attempted,
// optional ones, waivable ones and link-local noise. The README.md next to
// each capture tells its story host by host; the inventory, waivers and
// site rules there are written by hand against the built-in catalog.
//
// Addresses are documentation ranges only: 192.0.2.0/24 is the server
// VLAN, 198.51.100.0/24 the user LAN, 203.0.113.0/24 the DMZ and the
// internet, 2001:db8::/32 IPv6.
func SampleCases() []Case {
	ng := WriteOptions{Format: FormatPcapNG}
	return []Case{
		{Name: "horizon/pilot.pcapng", Opts: ng, Build: horizonPilot,
			Desc: "VMware Horizon 7 pilot: Horizon Clients on the user LAN and the internet, a Connection Server, a Unified Access Gateway, vCenter, an event database, Composer and JMP servers, a pool of Windows 10 agents."},
		{Name: "citrix/pilot.pcapng", Opts: ng, Build: citrixPilot,
			Desc: "Citrix Virtual Apps and Desktops pilot: Workspace app on the user LAN, two StoreFront servers, a Delivery Controller (also STA), a License Server, SQL Server, vCenter, a pool of Windows 11 VDAs."},
		{Name: "ras/pilot.pcapng", Opts: ng, Build: rasPilot,
			Desc: "Parallels RAS pilot: Parallels Clients on the user LAN and the internet, two HALB appliances (VRRP), a Secure Gateway, two Connection Brokers, two RD Session Hosts."},
		{Name: "ras/after.pcapng", Opts: ng, Build: rasPilotAfter,
			Desc: "The Parallels RAS pilot a week later, after the firewall change: the blocked flows are open, the backup proxy is gone, and LDAP from the second Connection Broker is newly blocked (flowaudit diff's example)."},
		{Name: "lync/pilot.pcapng", Opts: ng, Build: lyncPilot,
			Desc: "Microsoft Lync Server 2013 pilot: a Standard Edition Front End, Office Web Apps, a reverse proxy, Lync clients (IPv4 and IPv6) and desk phones."},
	}
}

// GenerateSamples writes every sample capture under dir
// (dir/<family>/pilot.pcapng, and dir/ras/after.pcapng). The hand-written files next to them
// (inventory, waivers, README) are left alone.
func GenerateSamples(dir string) error {
	for _, c := range SampleCases() {
		data, _, _, err := c.Bytes()
		if err != nil {
			return err
		}
		path := filepath.Join(dir, filepath.FromSlash(c.Name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return nil
}

func sec(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

// lanNoise adds the link-local housekeeping every LAN capture has: ARP for
// the gateway, IPv6 router and neighbour discovery between link-local
// addresses, LLMNR and mDNS queries.
func lanNoise(s *Scenario, at time.Duration, host, gateway netip.Addr, ll, llRouter netip.Addr, name string) {
	s.ARP(at, host, gateway, true, Path{})
	s.Neighbor(at+ms(40), ll, llRouter, true, Path{})
	s.LLMNR(at+ms(90), host, name, Path{})
	s.LLMNR(at+ms(95), ll, name, Path{})
	s.MDNS(at+ms(120), host, "_googlecast._tcp.local", Path{})
}

// web is a TLS-like request/response session.
func web(s *Scenario, at time.Duration, client, server netip.Addr, port uint16, exchanges, req, resp int) {
	s.TCP(at, s.Client(client), ap(server, port), TCPOpts{Exchanges: exchanges, Request: req, Response: resp})
}

// horizonPilot: see testdata/samples/horizon/README.md.
func horizonPilot() *Scenario {
	s := New(Config{Seed: 4001, Start: time.Date(2025, time.March, 11, 8, 30, 0, 0, time.UTC)})
	var (
		gwSrv   = addr("192.0.2.1") // server VLAN gateway and firewall
		gwLAN   = addr("198.51.100.1")
		dc      = addr("192.0.2.5")
		cs      = addr("192.0.2.10")
		cs6     = addr("2001:db8:10::10")
		uagInt  = addr("192.0.2.20")
		uagExt  = addr("203.0.113.10")
		vc      = addr("192.0.2.30")
		sql     = addr("192.0.2.40")
		mon     = addr("192.0.2.70")
		vdi1    = addr("192.0.2.101")
		vdi2    = addr("192.0.2.102")
		vdi3    = addr("192.0.2.103")
		lt42    = addr("198.51.100.42")
		lt57    = addr("198.51.100.57")
		lt6     = addr("2001:db8:200::42")
		remote1 = addr("203.0.113.140")
		remote2 = addr("203.0.113.171")
		admin   = addr("198.51.100.200")
		guest   = addr("198.51.100.250") // a contractor's laptop, not in the inventory
	)
	// Dual stack: the Connection Server and laptop .42 send from one MAC
	// on both addresses (and the laptop's link-local one).
	s.SameHost(cs, cs6)
	s.SameHost(lt42, lt6, addr("fe80::1c2a:42ff:fe10:42"))
	lanNoise(s, 0, lt42, gwLAN, addr("fe80::1c2a:42ff:fe10:42"), addr("fe80::1"), "hzcs")
	lanNoise(s, sec(30), lt57, gwLAN, addr("fe80::5a1f:57ff:fe20:57"), addr("fe80::1"), "printer-2f")
	s.ARP(sec(0.2), cs, gwSrv, true, Path{})

	// Connection Server infrastructure: Active Directory, vCenter, the
	// event database (on SQL Server's real port 1433), time.
	s.UDP(sec(0.5), ap(cs, 123), ap(dc, 123), UDPOpts{Request: 48, Response: 48})
	s.TCP(sec(0.6), s.Client(cs), ap(dc, 389), TCPOpts{Exchanges: 3, Request: 180, Response: 900})
	s.TCP(sec(0.7), s.Client(cs), ap(dc, 88), TCPOpts{Request: 1400, Response: 1500})
	for i := 0; i < 3; i++ {
		web(s, sec(1+60*float64(i)), cs, vc, 443, 4, 700, 2600)
		s.TCP(sec(2+60*float64(i)), s.Client(cs), ap(sql, 1433), TCPOpts{Exchanges: 3, Request: 400, Response: 300})
	}
	// Agents keep their JMS channel to the Connection Server.
	for i, a := range []netip.Addr{vdi1, vdi2, vdi3} {
		s.TCP(sec(3+float64(i)), s.Client(a), ap(cs, 4002), TCPOpts{Exchanges: 3, Request: 220, Response: 180, Close: CloseNone})
	}

	// lt-0042: internal user on Blast Extreme, with client drive
	// redirection; USB redirection is stopped by the VDI firewall.
	s.UDP(sec(10), s.Client(lt42), ap(dc, 53), UDPOpts{DNS: "horizon.corp.example"})
	web(s, sec(10.1), lt42, cs, 443, 4, 650, 1100)
	s.TCP(sec(12), s.Client(vdi1), ap(dc, 88), TCPOpts{Request: 1300, Response: 1400})
	s.TCP(sec(13), s.Client(lt42), ap(vdi1, 22443), TCPOpts{Exchanges: 10, Request: 140, Response: 600, Think: ms(150)})
	s.Stream(sec(13.5), s.Client(lt42), ap(vdi1, 22443), StreamOpts{Duration: sec(3), Interval: ms(60), Size: 220, Both: true})
	s.TCP(sec(15), s.Client(lt42), ap(vdi1, 9427), TCPOpts{Exchanges: 2, Request: 200, Response: 800})
	s.TCP(sec(16), s.Client(lt42), ap(vdi1, 3211), TCPOpts{Open: OpenProhibited, Retries: 1, From: gwSrv})

	// lt-0057: internal user on PCoIP; its RDP fallback is refused by the
	// agent.
	s.UDP(sec(30.5), s.Client(lt57), ap(dc, 53), UDPOpts{DNS: "horizon.corp.example"})
	web(s, sec(30.6), lt57, cs, 443, 4, 650, 1100)
	s.TCP(sec(32), s.Client(vdi2), ap(dc, 88), TCPOpts{Request: 1300, Response: 1400})
	s.TCP(sec(33), s.Client(lt57), ap(vdi2, 4172), TCPOpts{Exchanges: 3, Request: 300, Response: 500})
	s.Stream(sec(33.2), s.Client(lt57), ap(vdi2, 4172), StreamOpts{Duration: sec(3), Interval: ms(60), Size: 240, Both: true})
	s.TCP(sec(37), s.Client(lt57), ap(vdi2, 3389), TCPOpts{Open: OpenRefused})

	// An IPv6 client logs in to the Connection Server's IPv6 address.
	s.TCP(sec(45), s.Client(lt6), ap(cs6, 443), TCPOpts{Exchanges: 3, Request: 600, Response: 1000})

	// Remote user 1 through the UAG: login and Blast over TCP; Blast's UDP
	// is dropped by the DMZ firewall.
	web(s, sec(60), remote1, uagExt, 443, 4, 700, 1200)
	web(s, sec(60.3), uagInt, cs, 443, 3, 700, 900)
	s.TCP(sec(62), s.Client(remote1), ap(uagExt, 8443), TCPOpts{Exchanges: 8, Request: 150, Response: 600, Think: ms(200)})
	s.UDP(sec(62.1), s.Client(remote1), ap(uagExt, 8443), UDPOpts{Requests: 3, Interval: sec(1), Request: 120, Reply: ReplyNone})
	s.TCP(sec(62.2), s.Client(vdi3), ap(dc, 88), TCPOpts{Request: 1300, Response: 1400})
	s.TCP(sec(62.4), s.Client(uagInt), ap(vdi3, 22443), TCPOpts{Exchanges: 8, Request: 150, Response: 600, Think: ms(200)})

	// Remote user 2 tries PCoIP through the UAG: the SYNs go unanswered.
	web(s, sec(80), remote2, uagExt, 443, 3, 700, 1200)
	web(s, sec(80.4), uagInt, cs, 443, 2, 700, 900)
	s.TCP(sec(82), s.Client(remote2), ap(uagExt, 4172), TCPOpts{Open: OpenUnanswered})

	// Undocumented: the monitoring probe (waived), the administrator's SSH
	// to the UAG (its waiver expired), a contractor's laptop.
	for i := 0; i < 3; i++ {
		web(s, sec(20+60*float64(i)), mon, cs, 443, 1, 250, 600)
	}
	s.TCP(sec(100), s.Client(admin), ap(uagInt, 22), TCPOpts{Exchanges: 6, Request: 90, Response: 300, Think: ms(400)})
	web(s, sec(110), guest, cs, 443, 2, 600, 1100)
	s.UDP(sec(120), ap(uagInt, 123), ap(dc, 123), UDPOpts{Request: 48, Response: 48})
	return s
}

// citrixPilot: see testdata/samples/citrix/README.md.
func citrixPilot() *Scenario {
	s := New(Config{Seed: 4002, Start: time.Date(2025, time.April, 15, 7, 45, 0, 0, time.UTC)})
	var (
		gwSrv = addr("192.0.2.1")
		gwLAN = addr("198.51.100.1")
		dc    = addr("192.0.2.5")
		ddc   = addr("192.0.2.11")
		sf1   = addr("192.0.2.21")
		sf2   = addr("192.0.2.22")
		lic   = addr("192.0.2.31")
		sql   = addr("192.0.2.41")
		vc    = addr("192.0.2.51")
		vda1  = addr("192.0.2.131")
		vda2  = addr("192.0.2.132")
		vda3  = addr("192.0.2.133")
		u1    = addr("198.51.100.31")
		u2    = addr("198.51.100.64")
		u3    = addr("198.51.100.77")
		jump  = addr("198.51.100.210") // an administrator's jump host, not in the inventory
	)
	lanNoise(s, 0, u1, gwLAN, addr("fe80::a00:31ff:fe31:31"), addr("fe80::1"), "storefront")
	lanNoise(s, sec(20), u3, gwLAN, addr("fe80::a00:77ff:fe77:77"), addr("fe80::1"), "wpad")

	// Delivery Controller: site database, vCenter, licensing, VDA
	// registration in both directions.
	for i := 0; i < 2; i++ {
		s.TCP(sec(0.5+60*float64(i)), s.Client(ddc), ap(sql, 1433), TCPOpts{Exchanges: 4, Request: 350, Response: 500})
		web(s, sec(1+60*float64(i)), ddc, vc, 443, 3, 600, 2400)
	}
	s.TCP(sec(2), s.Client(ddc), ap(lic, 27000), TCPOpts{Request: 120, Response: 160})
	s.TCP(sec(2.2), s.Client(ddc), ap(lic, 7279), TCPOpts{Exchanges: 2, Request: 200, Response: 240})
	web(s, sec(2.5), ddc, lic, 8083, 1, 300, 700)
	s.TCP(sec(2.8), s.Client(ddc), ap(lic, 8082), TCPOpts{Open: OpenRefused})
	for i, v := range []netip.Addr{vda1, vda2, vda3} {
		s.TCP(sec(3+float64(i)), s.Client(v), ap(ddc, 80), TCPOpts{Exchanges: 3, Request: 500, Response: 400})
		s.TCP(sec(3.5+float64(i)), s.Client(ddc), ap(v, 80), TCPOpts{Exchanges: 2, Request: 400, Response: 300})
	}

	// StoreFront: AD for user lookups, XML to the controller, peer
	// replication between the two servers. sf02 was set to HTTPS XML
	// transport, which the controller does not answer.
	for _, sf := range []netip.Addr{sf1, sf2} {
		s.TCP(sec(6), s.Client(sf), ap(dc, 389), TCPOpts{Exchanges: 2, Request: 200, Response: 700})
		s.UDP(sec(6.1), s.Client(sf), ap(dc, 389), UDPOpts{Request: 110, Response: 180})
		s.TCP(sec(6.2), s.Client(sf), ap(dc, 88), TCPOpts{Request: 1350, Response: 1450})
	}
	s.UDP(sec(6.3), s.Client(sf1), ap(dc, 88), UDPOpts{Request: 260, Response: 240})
	s.TCP(sec(7), s.Client(sf1), ap(sf2, 8090), TCPOpts{Exchanges: 2, Request: 300, Response: 300})
	s.TCP(sec(9), s.Client(sf2), ap(ddc, 443), TCPOpts{Open: OpenUnanswered})

	// Users: Workspace app to StoreFront, XML enumeration, ICA with session
	// reliability (tcp/2598) and EDT (udp/2598).
	users := []struct {
		u, vda, sf netip.Addr
		at         float64
	}{{u1, vda1, sf1, 10}, {u2, vda2, sf2, 30}, {u3, vda3, sf1, 50}}
	for _, x := range users {
		web(s, sec(x.at), x.u, x.sf, 443, 4, 700, 1300)
		s.TCP(sec(x.at+0.3), s.Client(x.sf), ap(ddc, 80), TCPOpts{Exchanges: 2, Request: 800, Response: 1200})
		s.TCP(sec(x.at+2), s.Client(x.u), ap(x.vda, 2598), TCPOpts{Exchanges: 8, Request: 150, Response: 500, Think: ms(150)})
	}
	s.Stream(sec(12.5), s.Client(u1), ap(vda1, 2598), StreamOpts{Duration: sec(3), Interval: ms(60), Size: 230, Both: true})
	s.TCP(sec(13), s.Client(u1), ap(vda1, 1494), TCPOpts{Exchanges: 3, Request: 150, Response: 450})
	// u2 is on a floor whose firewall refuses EDT and drops UDP audio.
	s.UDP(sec(32.5), s.Client(u2), ap(vda2, 2598), UDPOpts{Requests: 2, Interval: sec(1), Request: 90, Reply: ReplyProhibited, From: gwSrv})
	s.UDP(sec(34), s.Client(u2), ap(vda2, 16500), UDPOpts{Requests: 3, Interval: ms(500), Request: 172, Reply: ReplyNone})

	// Undocumented: a user's old bookmark to the controller's web page, and
	// an administrator's RDP from a jump host that is not in the inventory.
	web(s, sec(70), u3, ddc, 80, 1, 400, 900)
	s.TCP(sec(75), s.Client(jump), ap(ddc, 3389), TCPOpts{Exchanges: 6, Request: 120, Response: 700, Think: ms(300)})
	return s
}

// rasPilot: see testdata/samples/ras/README.md.
func rasPilot() *Scenario { return rasScenario(false) }

// rasPilotAfter is the RAS pilot a week later, after the firewall change
// of testdata/samples/ras/README.md: the four blocked flows are open, the
// backup proxy is gone, and the change closed LDAP from ras-cb02 to dc01
// by mistake (its SYNs go unanswered).
func rasPilotAfter() *Scenario { return rasScenario(true) }

func rasScenario(after bool) *Scenario {
	cfg := Config{Seed: 4003, Start: time.Date(2025, time.May, 20, 10, 0, 0, 0, time.UTC)}
	if after {
		cfg = Config{Seed: 4005, Start: time.Date(2025, time.May, 27, 10, 0, 0, 0, time.UTC)}
	}
	s := New(cfg)
	var (
		gwSrv   = addr("192.0.2.1")
		gwLAN   = addr("198.51.100.1")
		dc      = addr("192.0.2.5")
		cb1     = addr("192.0.2.41")
		cb2     = addr("192.0.2.42")
		sg      = addr("192.0.2.45")
		rdsh1   = addr("192.0.2.51")
		rdsh2   = addr("192.0.2.52")
		halbVIP = addr("203.0.113.30")
		halb1   = addr("203.0.113.31")
		u1      = addr("198.51.100.42")
		u2      = addr("198.51.100.57")
		remote  = addr("203.0.113.140")
		admin   = addr("198.51.100.200")
		printer = addr("192.0.2.200") // a printer, not in the inventory
		backup  = addr("192.0.2.90")  // a backup proxy, not in the inventory
	)
	lanNoise(s, 0, u1, gwLAN, addr("fe80::4a:42ff:fe00:42"), addr("fe80::1"), "ras-gw")
	lanNoise(s, sec(25), u2, gwLAN, addr("fe80::4a:57ff:fe00:57"), addr("fe80::1"), "fileserver")
	// The master HALB advertises the VIP to its backup.
	s.VRRP(sec(0.1), halb1, halbVIP, VRRPOpts{VRID: 30, Priority: 200, Count: 24, Interval: sec(5)})

	// Connection Brokers: AD, redundancy between the two, agents.
	for _, cb := range []netip.Addr{cb1, cb2} {
		s.UDP(sec(0.5), s.Client(cb), ap(dc, 53), UDPOpts{DNS: "_ldap._tcp.corp.example"})
		if after && cb == cb2 {
			s.TCP(sec(0.6), s.Client(cb), ap(dc, 389), TCPOpts{Open: OpenUnanswered})
		} else {
			s.TCP(sec(0.6), s.Client(cb), ap(dc, 389), TCPOpts{Exchanges: 3, Request: 200, Response: 900})
		}
		s.TCP(sec(0.8), s.Client(cb), ap(dc, 88), TCPOpts{Request: 1350, Response: 1450})
	}
	s.UDP(sec(0.9), s.Client(cb1), ap(dc, 88), UDPOpts{Request: 260, Response: 240})
	s.TCP(sec(1), s.Client(cb2), ap(cb1, 20001), TCPOpts{Exchanges: 4, Request: 300, Response: 300, Close: CloseNone})
	s.TCP(sec(1.2), s.Client(cb1), ap(cb2, 20030), TCPOpts{Exchanges: 2, Request: 400, Response: 200})
	for i, r := range []netip.Addr{rdsh1, rdsh2} {
		s.TCP(sec(2+float64(i)), s.Client(r), ap(cb1, 20003), TCPOpts{Exchanges: 3, Request: 300, Response: 250, Close: CloseNone})
		s.TCP(sec(2.5+float64(i)), s.Client(cb1), ap(r, 30004), TCPOpts{Exchanges: 2, Request: 200, Response: 400})
	}
	s.UDP(sec(4), s.Client(cb1), ap(rdsh1, 30004), UDPOpts{Requests: 2, Interval: sec(5), Request: 60, Response: 90})
	if after {
		s.UDP(sec(4.2), s.Client(rdsh2), ap(cb1, 20003), UDPOpts{Requests: 3, Interval: sec(2), Request: 80, Response: 60})
	} else {
		s.UDP(sec(4.2), s.Client(rdsh2), ap(cb1, 20003), UDPOpts{Requests: 3, Interval: sec(2), Request: 80, Reply: ReplyNone})
	}
	s.TCP(sec(5), s.Client(cb1), ap(rdsh2, 445), TCPOpts{Exchanges: 4, Request: 600, Response: 900})

	// u1: the Parallels Client looks for a gateway by broadcast, then
	// connects through the HALB VIP and the gateway to rdsh01.
	s.UDP(sec(10), s.Client(u1), ap(addr("255.255.255.255"), 20000), UDPOpts{Request: 48, Reply: ReplyNone})
	web(s, sec(11), u1, halbVIP, 443, 5, 500, 1200)
	web(s, sec(11.2), halb1, sg, 443, 5, 500, 1200)
	web(s, sec(11.4), sg, cb1, 20002, 2, 400, 700)
	s.Stream(sec(13), s.Client(u1), ap(halbVIP, 443), StreamOpts{Duration: sec(3), Interval: ms(60), Size: 260, Both: true})
	s.Stream(sec(13.01), s.Client(halb1), ap(sg, 443), StreamOpts{Duration: sec(3), Interval: ms(60), Size: 260, Both: true})
	s.TCP(sec(13.1), s.Client(sg), ap(rdsh1, 3389), TCPOpts{Exchanges: 10, Request: 150, Response: 600, Think: ms(150)})
	if after {
		s.UDP(sec(13.2), s.Client(sg), ap(rdsh2, 3389), UDPOpts{Requests: 2, Interval: sec(1), Request: 120, Response: 600})
		s.TCP(sec(16), s.Client(halb1), ap(sg, 20009), TCPOpts{Exchanges: 2, Request: 200, Response: 300})
		// The change opened direct mode: u2's RDP reaches rdsh01.
		s.TCP(sec(30), s.Client(u2), ap(rdsh1, 3389), TCPOpts{Exchanges: 6, Request: 150, Response: 600, Think: ms(150)})
	} else {
		s.UDP(sec(13.2), s.Client(sg), ap(rdsh2, 3389), UDPOpts{Requests: 2, Interval: sec(1), Request: 120, Reply: ReplyProhibited, From: gwSrv})
		s.TCP(sec(16), s.Client(halb1), ap(sg, 20009), TCPOpts{Open: OpenRefused})
		// u2 was configured for direct mode: its RDP SYNs to rdsh01 are dropped.
		s.TCP(sec(30), s.Client(u2), ap(rdsh1, 3389), TCPOpts{Open: OpenUnanswered})
	}

	// A remote user over the internet.
	web(s, sec(40), remote, halbVIP, 443, 4, 500, 1100)
	web(s, sec(40.2), halb1, sg, 443, 4, 500, 1100)
	web(s, sec(40.4), sg, cb1, 20002, 1, 400, 700)

	// Undocumented: the administrator's SSH to the HALB appliance, the
	// gateway asking the broker on 20001, printing to a printer and a
	// backup proxy's installer service, neither in the inventory.
	s.TCP(sec(60), s.Client(admin), ap(halb1, 22), TCPOpts{Exchanges: 6, Request: 90, Response: 300, Think: ms(400)})
	s.TCP(sec(70), s.Client(sg), ap(cb1, 20001), TCPOpts{Exchanges: 2, Request: 200, Response: 200})
	s.TCP(sec(80), s.Client(rdsh1), ap(printer, 9100), TCPOpts{Request: 2800, Response: -1})
	if !after {
		s.TCP(sec(90), s.Client(backup), ap(rdsh2, 6160), TCPOpts{Exchanges: 2, Request: 300, Response: 400})
	}
	return s
}

// lyncPilot: see testdata/samples/lync/README.md.
func lyncPilot() *Scenario {
	s := New(Config{Seed: 4004, Start: time.Date(2025, time.June, 3, 13, 0, 0, 0, time.UTC)})
	var (
		gwSrv = addr("192.0.2.1")
		gwLAN = addr("198.51.100.1")
		dhcp  = addr("192.0.2.5")
		fe    = addr("192.0.2.10")
		fe6   = addr("2001:db8:10::10")
		owa   = addr("192.0.2.30")
		rp    = addr("203.0.113.40")
		c1    = addr("198.51.100.21")
		c2    = addr("198.51.100.22")
		c3    = addr("198.51.100.23")
		c6    = addr("2001:db8:200::24")
		phone = addr("198.51.100.201")
		admin = addr("198.51.100.120")
		jump  = addr("198.51.100.230") // not in the inventory
	)
	s.SameHost(fe, fe6) // dual stack: one MAC on both addresses
	lanNoise(s, 0, c1, gwLAN, addr("fe80::21:21ff:fe21:21"), addr("fe80::1"), "lyncdiscoverinternal")
	lanNoise(s, sec(15), c3, gwLAN, addr("fe80::23:23ff:fe23:23"), addr("fe80::1"), "wpad")

	// Phones and clients find the registrar by DHCP (option 120), then
	// register over SIP/TLS and use the web services.
	s.UDP(sec(0.5), ap(phone, 68), ap(dhcp, 67), UDPOpts{Request: 300, Response: 320})
	s.UDP(sec(0.7), ap(c1, 68), ap(dhcp, 67), UDPOpts{Request: 300, Response: 320})
	web(s, sec(1), phone, fe, 80, 2, 300, 1400)
	web(s, sec(1.5), phone, fe, 8080, 1, 300, 900)
	s.TCP(sec(2), s.Client(phone), ap(fe, 5061), TCPOpts{Exchanges: 4, Request: 700, Response: 500, Close: CloseNone})
	for i, c := range []netip.Addr{c1, c2, c3} {
		at := 3 + 5*float64(i)
		web(s, sec(at), c, fe, 443, 3, 600, 1400)
		s.TCP(sec(at+0.5), s.Client(c), ap(fe, 5061), TCPOpts{Exchanges: 5, Request: 800, Response: 600, Close: CloseNone})
	}
	s.TCP(sec(20), s.Client(c6), ap(fe6, 5061), TCPOpts{Exchanges: 3, Request: 800, Response: 600, Close: CloseNone})
	web(s, sec(20.5), c6, fe6, 443, 2, 600, 1400)

	// A meeting: web conferencing (PSOM 8057) and conference audio to the
	// A/V MCU; c3's media port is refused by the floor firewall.
	s.TCP(sec(30), s.Client(c1), ap(fe, 8057), TCPOpts{Exchanges: 4, Request: 300, Response: 900})
	s.TCP(sec(30.2), s.Client(c2), ap(fe, 8057), TCPOpts{Exchanges: 4, Request: 300, Response: 900})
	s.Stream(sec(31), ap(c1, 50020), ap(fe, 57620), StreamOpts{Duration: sec(3), Interval: ms(60), Size: 180, Both: true})
	s.Stream(sec(31.1), ap(c2, 50040), ap(fe, 57636), StreamOpts{Duration: sec(3), Interval: ms(60), Size: 180, Both: true})
	s.UDP(sec(31.2), ap(c3, 50060), ap(fe, 57652), UDPOpts{Requests: 2, Interval: sec(1), Request: 180, Reply: ReplyProhibited, From: gwSrv})
	s.UDP(sec(31.3), ap(c3, 50061), ap(fe, 3478), UDPOpts{Requests: 3, Interval: ms(500), Request: 100, Reply: ReplyNone})
	// A peer-to-peer call between c1 and c2, and c2 sharing its desktop
	// with the meeting over TCP, whose SYNs the firewall drops.
	s.Stream(sec(40), ap(c1, 50022), ap(c2, 50042), StreamOpts{Duration: sec(3), Interval: ms(60), Size: 180, Both: true})
	s.TCP(sec(45), s.Client(c2), ap(fe, 49880), TCPOpts{Open: OpenUnanswered})
	// c3 runs an old meeting add-in that tries the Web Conferencing
	// Compatibility service, which is not running.
	s.TCP(sec(47), s.Client(c3), ap(fe, 8058), TCPOpts{Open: OpenRefused})

	// The reverse proxy publishes the external web services (4443); the
	// Front End opens Office Web Apps for PowerPoint sharing.
	web(s, sec(50), rp, fe, 4443, 3, 700, 1500)
	web(s, sec(52), fe, owa, 443, 3, 500, 2500)

	// The administrator's Topology Builder: SQL Browser, DCOM, the CMS
	// file share.
	s.UDP(sec(60), s.Client(admin), ap(fe, 1434), UDPOpts{Request: 40, Response: 120})
	s.TCP(sec(60.2), s.Client(admin), ap(fe, 135), TCPOpts{Exchanges: 2, Request: 200, Response: 300})
	s.TCP(sec(60.5), s.Client(admin), ap(fe, 445), TCPOpts{Exchanges: 4, Request: 400, Response: 1200})

	// Undocumented: the administrator's SSH to the reverse proxy, the
	// Front End using the Office Web Apps farm port 809, an RDP session
	// from a jump host that is not in the inventory.
	s.TCP(sec(70), s.Client(admin), ap(rp, 22), TCPOpts{Exchanges: 6, Request: 90, Response: 300, Think: ms(400)})
	web(s, sec(75), fe, owa, 809, 2, 400, 600)
	s.TCP(sec(80), s.Client(jump), ap(fe, 3389), TCPOpts{Exchanges: 6, Request: 120, Response: 700, Think: ms(300)})
	return s
}
