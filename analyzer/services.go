package analyzer

import (
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/flowaudit/flowaudit/analyzer/audit"
	"github.com/flowaudit/flowaudit/analyzer/decode"
	"github.com/flowaudit/flowaudit/analyzer/flow"
	"github.com/flowaudit/flowaudit/analyzer/prefault"
	"github.com/flowaudit/flowaudit/catalog"
)

// AuditServices turns the tracker's per-service aggregates into the
// audit's input. files are the capture paths in the order they were read,
// so a position names its file. A partial connection (the server answered
// but the handshake did not complete, such as a SYN-ACK the client reset)
// counts as established: the path through the firewall was open.
//
// A scan's tens of thousands of services are converted on every core, a
// run of them each.
func AuditServices(ss []flow.Service, files []string) []audit.Service {
	ps := make([]*flow.Service, len(ss))
	for i := range ss {
		ps[i] = &ss[i]
	}
	return auditServices(ps, files, 0)
}

// TakeAuditServices returns the services as the audit takes them
// (AuditServices) and lets go of them: Services is nil afterwards. With
// Options.ForAudit they were converted as Run finished; otherwise they
// are converted now, from Services.
func (r *Result) TakeAuditServices() []audit.Service {
	out := r.audit
	if !r.forAudit {
		out = AuditServices(r.Services, r.Paths())
	}
	r.audit, r.Services, r.forAudit = nil, nil, false
	return out
}

// ServiceCount is the number of services, in Services or converted for
// the audit (Options.ForAudit).
func (r *Result) ServiceCount() int {
	if r.forAudit {
		return len(r.audit)
	}
	return len(r.Services)
}

// auditServices is AuditServices of the services ss points to, on at most
// workers cores (0: every core).
func auditServices(ss []*flow.Service, files []string, workers int) []audit.Service {
	out := make([]audit.Service, len(ss))
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, len(ss)/convertChunk)
	if workers <= 1 {
		convertServices(out, ss, files)
		return out
	}
	per := (len(ss) + workers - 1) / workers
	var wg sync.WaitGroup
	for from := 0; from < len(ss); from += per {
		to := min(from+per, len(ss))
		wg.Go(func() { convertServices(out[from:to], ss[from:to], files) })
	}
	wg.Wait()
	return out
}

// convertChunk is the fewest services a core converts on its own.
const convertChunk = 4096

// convertServices converts ss into out (as long, freshly allocated: its
// pages are faulted in here, on the core converting them). The services'
// names and DNS names are copied into one array of each, not one per
// service.
func convertServices(out []audit.Service, ss []*flow.Service, files []string) {
	prefault.Slice(out)
	var nNames, nDNS int
	for _, s := range ss {
		nNames += len(s.Names)
		nDNS += len(s.DNSNames)
	}
	names := make([]audit.Name, 0, nNames)
	dns := make([]string, 0, nDNS)
	prefault.Slice(names[:nNames])
	prefault.Slice(dns[:nDNS])
	for i, s := range ss {
		out[i] = audit.Service{
			Client: s.Client, Server: s.Server, Proto: s.Proto, Port: s.Port,
			Connections: int(s.Connections),
			Established: int(s.Established + s.Partial),
			Rejected:    int(s.Rejected),
			Unanswered:  int(s.Unanswered),
			// The ICMP errors are counted in Packets: the Wireshark
			// filter of the service shows them (it matches the header
			// they quote).
			Packets:       s.ClientPackets + s.ServerPackets + s.ICMPErrors,
			Bytes:         s.ClientIPBytes + s.ServerIPBytes,
			ICMPErrors:    s.ICMPErrors,
			NoPackets:     int(s.NoPackets),
			NoBytes:       int(s.NoBytes),
			FirstSeen:     s.First,
			LastSeen:      s.Last,
			FirstFrame:    frameOf(s.FirstPos, &s.FirstUID, files),
			ClientPackets: s.ClientPackets,
			ServerTTLMin:  s.ServerTTLMin,
			ServerTTLMax:  s.ServerTTLMax,
			RSTTTL:        s.RSTTTL,
			RSTs:          int(s.RSTs),
		}
		if len(s.Names) > 0 {
			from := len(names)
			for _, n := range s.Names {
				names = append(names, audit.Name{Name: n.Name, Evidence: n.Source.String(), Connections: int(n.Connections)})
			}
			out[i].Names = names[from:len(names):len(names)]
			if len(s.Names) > 1 {
				slices.SortStableFunc(out[i].Names, compareNames)
			}
		}
		if len(s.DNSNames) > 0 {
			from := len(dns)
			dns = append(dns, s.DNSNames...)
			out[i].DNSNames = dns[from:len(dns):len(dns)]
			slices.Sort(out[i].DNSNames)
		}
		if s.ICMPErrors > 0 {
			out[i].ICMPFrom, out[i].ICMPType, out[i].ICMPCode = s.ICMPFrom, s.ICMPType, s.ICMPCode
			out[i].ICMPName = decode.ICMPName(icmpProto(s.ICMPFrom), s.ICMPType, s.ICMPCode)
		}
	}
}

// compareNames orders a service's names by evidence, strongest first,
// then by name.
func compareNames(a, b audit.Name) int {
	if d := audit.EvidenceRank(a.Evidence) - audit.EvidenceRank(b.Evidence); d != 0 {
		return d
	}
	return strings.Compare(a.Name, b.Name)
}

// frameOf is the frame at position p, its file named from files (the
// capture paths in the order they were read; "" when p's is not among
// them); a position without a frame (a sensor's record) carries the first
// Zeek uid.
func frameOf(p flow.Pos, uid *flow.FirstUID, files []string) audit.Frame {
	f := audit.Frame{Frame: p.Frame}
	if p.Frame == 0 {
		f.UID = uid.UID.String()
	}
	if p.File >= 0 && p.File < len(files) {
		f.File = files[p.File]
	}
	return f
}

// icmpProto is the ICMP of an error's sender: ICMPv6 from an IPv6 address.
func icmpProto(from netip.Addr) uint8 {
	if from.Is6() && !from.Is4In6() {
		return decode.ProtoICMPv6
	}
	return decode.ProtoICMP
}

// AuditSweeps turns the tracker's sweeps into the audit's, naming the file
// of each first frame as AuditServices does. A partial connection counts
// as established.
func AuditSweeps(ss []flow.Sweep, files []string) []audit.Sweep {
	out := make([]audit.Sweep, len(ss))
	for i := range ss {
		s := &ss[i]
		ports := make([]catalog.PortRange, len(s.Ports))
		for j, r := range s.Ports {
			ports[j] = catalog.PortRange{Lo: r.Lo, Hi: r.Hi}
		}
		out[i] = audit.Sweep{
			Kind: s.Kind.String(), Client: s.Client, Server: s.Server, Proto: s.Proto, Ports: ports,
			Servers: s.Servers, ServersApprox: s.ServersApprox, ServerLo: s.ServerLo, ServerHi: s.ServerHi, Connections: s.Connections,
			Established: s.Established + s.Partial, Rejected: s.Rejected, Unanswered: s.Unanswered,
			Packets:   s.ClientPackets + s.ServerPackets + s.ICMPErrors,
			Bytes:     s.ClientIPBytes + s.ServerIPBytes,
			NoPackets: s.NoPackets, NoBytes: s.NoBytes,
			FirstSeen: s.First, LastSeen: s.Last,
			FirstFrame: frameOf(s.FirstPos, &s.FirstUID, files),
		}
	}
	return out
}
