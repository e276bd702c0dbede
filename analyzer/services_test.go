package analyzer

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"

	"github.com/flowaudit/flowaudit/analyzer/capturetest"
	"github.com/flowaudit/flowaudit/analyzer/flow"
)

// TestAuditServicesAllCores: services converted on every core (past
// convertChunk) are what one core converting them in turn gives, names,
// DNS names and ICMP errors included, each in its place.
func TestAuditServicesAllCores(t *testing.T) {
	ss := make([]flow.Service, 5*convertChunk+17)
	for i := range ss {
		s := &ss[i]
		s.Client = netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)})
		s.Server = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(i)})
		s.Proto, s.Port = 6, uint16(i)
		s.Connections, s.Established, s.ClientPackets = uint64(i%5+1), uint64(i%5+1), uint64(i)
		s.FirstPos = flow.Pos{File: i % 3, Frame: uint64(i)}
		if i%7 == 0 {
			s.Names = []flow.ServiceName{{Name: "b.example", Source: flow.NameSource(1 + i%3), Connections: 1}, {Name: "a.example", Source: flow.NameSource(1), Connections: 2}}
			s.DNSNames = []string{"z.example", "y.example"}
		}
		if i%11 == 0 {
			s.ICMPErrors, s.ICMPFrom, s.ICMPType, s.ICMPCode = 1, netip.MustParseAddr("2001:db8::fe"), 1, 1
		}
	}
	files := []string{"a.pcap", "b.pcap"}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4)) // four runs, whatever the machine
	all := AuditServices(ss, files)
	runtime.GOMAXPROCS(1)
	one := AuditServices(ss, files)
	if len(all) != len(ss) || !reflect.DeepEqual(all, one) {
		for i := range one {
			if !reflect.DeepEqual(all[i], one[i]) {
				t.Fatalf("service %d on every core:\n%+v\non one:\n%+v", i, all[i], one[i])
			}
		}
		t.Fatalf("%d services, want %d", len(all), len(one))
	}
	if one[7].Names[0].Name != "a.example" || one[7].DNSNames[0] != "y.example" || one[11].ICMPName == "" || one[5].FirstFrame.File != "" {
		t.Errorf("converted: %+v, %+v, %+v", one[7], one[11], one[5])
	}
}

// BenchmarkAuditServices measures handing the make-bench capture's
// services (about 100,000; a third named by SNI, half by DNS) to the audit.
func BenchmarkAuditServices(b *testing.B) {
	ss := make([]flow.Service, 100000)
	for i := range ss {
		s := &ss[i]
		s.Client = netip.AddrFrom4([4]byte{10, 1, byte(i >> 16), byte(i >> 8)})
		s.Server = netip.AddrFrom4([4]byte{10, 20, 0, byte(i)})
		s.Proto, s.Port = 6, uint16(i)
		s.Connections, s.Established, s.ClientPackets, s.ServerPackets = 2, 2, 12, 10
		s.FirstPos = flow.Pos{Frame: uint64(20*i + 1)}
		if i%3 == 0 {
			s.Names = []flow.ServiceName{{Name: "vdi.corp.example", Source: flow.NameSNI, Connections: 2}}
		}
		if i%2 == 0 {
			s.DNSNames = []string{"a.corp.example"}
		}
	}
	files := []string{"bench.pcap"}
	b.ReportAllocs()
	for b.Loop() {
		if len(AuditServices(ss, files)) != len(ss) {
			b.Fatal("services lost")
		}
	}
}

// TestForAuditSameServices: services converted as Run finishes
// (Options.ForAudit) are the ones converted from Result.Services after
// it, in order and in every field, serial and parallel, for the samples,
// Zeek conn.logs and the shared captures (IPv6, link types, scans).
func TestForAuditSameServices(t *testing.T) {
	samples, _ := filepath.Glob("../testdata/samples/*/pilot.pcapng")
	logs, _ := filepath.Glob("../testdata/zeek-baselines/*.conn.log")
	if len(samples) != 4 || len(logs) == 0 {
		t.Fatalf("samples %d, conn.logs %d", len(samples), len(logs))
	}
	sets := []struct {
		name  string
		paths func(t *testing.T) []string
	}{
		{"samples", func(*testing.T) []string { return samples }},
		{"conn.logs and captures", func(*testing.T) []string { return append(append([]string{}, logs...), samples...) }},
		{"the same capture twice", func(*testing.T) []string { return []string{samples[0], samples[0]} }},
		{"shared", func(t *testing.T) []string {
			var shared []string
			for _, name := range capturetest.Files(t) { // skips without ../shared
				shared = append(shared, capturetest.Path(t, name))
			}
			return shared
		}},
	}
	for _, set := range sets {
		t.Run(set.name, func(t *testing.T) {
			paths := set.paths(t)
			for _, parallel := range []bool{false, true} {
				plain, perr := Run(paths, Options{Parallel: parallel})
				direct, derr := Run(paths, Options{Parallel: parallel, ForAudit: true})
				if fmt.Sprint(perr) != fmt.Sprint(derr) {
					t.Fatalf("parallel %v: errors differ: %v / %v", parallel, perr, derr)
				}
				if direct.Services != nil || direct.ServiceCount() != plain.ServiceCount() {
					t.Errorf("parallel %v: ForAudit kept %d services in Services; counts %d / %d", parallel, len(direct.Services), direct.ServiceCount(), plain.ServiceCount())
				}
				want, got := plain.TakeAuditServices(), direct.TakeAuditServices()
				if len(want) == 0 {
					t.Fatalf("no services: nothing compared")
				}
				if !reflect.DeepEqual(want, got) {
					for i := range min(len(want), len(got)) {
						if !reflect.DeepEqual(want[i], got[i]) {
							t.Fatalf("parallel %v: service %d:\nfrom Services %+v\nForAudit      %+v", parallel, i, want[i], got[i])
						}
					}
					t.Fatalf("parallel %v: %d services from Services, %d with ForAudit", parallel, len(want), len(got))
				}
				if plain.Services != nil || direct.ServiceCount() != 0 || len(direct.TakeAuditServices()) != 0 {
					t.Errorf("parallel %v: services kept after TakeAuditServices", parallel)
				}
			}
		})
	}
}

// TestWorkersWhileHashing: the work on a Result takes one core while a
// digest still runs, every core once all are done (or none was late).
func TestWorkersWhileHashing(t *testing.T) {
	var r Result
	if w := r.Workers(); w != 0 {
		t.Errorf("no digest pending: %d workers, want 0 (every core)", w)
	}
	a, b := make(chan hashResult, 1), make(chan hashResult, 1)
	r.digests = []pendingDigest{{sum: a}, {sum: b}}
	a <- hashResult{sum: "x"}
	if w := r.Workers(); w != 1 {
		t.Errorf("one digest running: %d workers, want 1", w)
	}
	b <- hashResult{sum: "y"}
	if w := r.Workers(); w != 0 {
		t.Errorf("digests done: %d workers, want 0", w)
	}
}
