package main

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/flowaudit/flowaudit/analyzer/infer"
	"github.com/flowaudit/flowaudit/analyzer/pcapgen"
)

// uagPilotSeeds is how many UAG pilots TestUAGPilots draws per kind.
const uagPilotSeeds = 12

// uagPilot writes a ten-minute Horizon pilot with a two-armed UAG, as
// captured on both of its sides (inside: the UAG's internal address is in
// the capture) or on the DMZ side only. Remote users log in through the
// UAG's external address and open Blast; the UAG's internal address passes
// each on to the Connection Server and an agent 50–400 ms later, and
// checks the Connection Server's health every minute on its own. Internal
// users log in to the Connection Server and open Blast to agents directly,
// at random times, so some start right after a remote user.
func uagPilot(t *testing.T, dir string, seed uint64, inside bool) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 4172))
	a := netip.MustParseAddr
	ap := netip.AddrPortFrom
	s := pcapgen.New(pcapgen.Config{Seed: 900 + seed})
	var (
		dc, cs, vc     = a("192.0.2.5"), a("192.0.2.10"), a("192.0.2.30")
		uagExt, uagInt = a("203.0.113.10"), a("192.0.2.20")
	)
	agent := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{192, 0, 2, byte(101 + i%6)}) }
	sec := func(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }
	session := pcapgen.TCPOpts{Exchanges: 4, Think: 150 * time.Millisecond, RTT: 10 * time.Millisecond}
	blast := pcapgen.TCPOpts{Exchanges: 8, Think: 200 * time.Millisecond, RTT: 10 * time.Millisecond}
	// The Connection Server's own traffic, and the agents' JMS channel.
	s.TCP(sec(0.5), s.Client(cs), ap(dc, 389), pcapgen.TCPOpts{})
	s.TCP(sec(0.7), s.Client(cs), ap(dc, 88), pcapgen.TCPOpts{})
	s.TCP(sec(1), s.Client(cs), ap(vc, 443), pcapgen.TCPOpts{Exchanges: 3})
	s.TCP(sec(1.5), s.Client(cs), ap(agent(0), 22443), pcapgen.TCPOpts{})
	for i := range 6 {
		s.TCP(sec(2+float64(i)/10), s.Client(agent(i)), ap(cs, 4002), pcapgen.TCPOpts{Exchanges: 2})
	}
	// Remote users through the UAG.
	for u := range 2 + rng.IntN(4) {
		user := netip.AddrFrom4([4]byte{203, 0, 113, byte(100 + u)})
		at := 10 + rng.Float64()*570
		s.TCP(sec(at), s.Client(user), ap(uagExt, 443), session)
		s.TCP(sec(at+2), s.Client(user), ap(uagExt, 8443), blast)
		if inside {
			s.TCP(sec(at+0.05+rng.Float64()*0.35), s.Client(uagInt), ap(cs, 443), session)
			s.TCP(sec(at+2.05+rng.Float64()*0.35), s.Client(uagInt), ap(agent(u), 22443), blast)
		}
	}
	if inside {
		for at := 5.0; at < 600; at += 60 { // health checks
			s.TCP(sec(at), s.Client(uagInt), ap(cs, 443), pcapgen.TCPOpts{})
		}
		s.UDP(sec(300), ap(uagInt, 123), ap(dc, 123), pcapgen.UDPOpts{Request: 48, Response: 48})
	}
	// Internal users, straight to the Connection Server and the agents.
	for c := range 3 + rng.IntN(6) {
		user := netip.AddrFrom4([4]byte{198, 51, 100, byte(10 + c)})
		at := 10 + rng.Float64()*570
		s.UDP(sec(at-0.1), s.Client(user), ap(dc, 53), pcapgen.UDPOpts{DNS: "horizon.corp.example"})
		s.TCP(sec(at), s.Client(user), ap(cs, 443), session)
		s.TCP(sec(at+2), s.Client(user), ap(agent(c+3), 22443), blast)
	}
	path := filepath.Join(dir, fmt.Sprintf("uag-%d-%v.pcapng", seed, inside))
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := s.Write(f, pcapgen.WriteOptions{Format: pcapgen.FormatPcapNG}); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestUAGPilots: on generated UAG pilots captured on both sides, the UAG's
// internal address is tied to its external one every time, health checks
// and internal users at random times notwithstanding; captured on the DMZ
// side only, nothing is tied (no internal user is taken for the inside
// address).
func TestUAGPilots(t *testing.T) {
	cat := builtinCatalog(t)
	dir := t.TempDir()
	for _, inside := range []bool{true, false} {
		right := 0
		for seed := uint64(1); seed <= uagPilotSeeds; seed++ {
			hosts := inferCapture(t, cat, uagPilot(t, dir, seed, inside), nil)
			var uag *infer.Host
			for _, h := range hosts {
				if h.Addr == netip.MustParseAddr("203.0.113.10") {
					uag = h
				}
			}
			if uag == nil || len(uag.Roles) == 0 || uag.Roles[0].Role.ID != "horizon-uag" {
				t.Errorf("seed %d: the external address is not proposed as the UAG: %+v", seed, uag)
				continue
			}
			want := []netip.Addr{uag.Addr}
			if inside {
				want = append(want, netip.MustParseAddr("192.0.2.20"))
			}
			if slices.Equal(uag.AllAddrs(), want) {
				right++
			} else {
				t.Errorf("seed %d, inside captured %v: UAG addresses %v, want %v (%s)", seed, inside, uag.AllAddrs(), want, uag.TiedBy)
			}
			t.Logf("seed %d, inside captured %v: %s", seed, inside, uag.TiedBy)
		}
		t.Logf("inside captured %v: right for %d of %d pilots", inside, right, uagPilotSeeds)
	}
}
