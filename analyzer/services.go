package analyzer

import (
	"github.com/flowaudit/flowaudit/analyzer/audit"
	"github.com/flowaudit/flowaudit/analyzer/flow"
)

// AuditServices turns the tracker's per-service aggregates into the
// audit's input. files are the capture paths in the order they were read,
// so a position names its file. A partial connection (the server answered
// but the handshake did not complete, such as a SYN-ACK the client reset)
// counts as established: the path through the firewall was open.
func AuditServices(ss []flow.Service, files []string) []audit.Service {
	out := make([]audit.Service, len(ss))
	for i := range ss {
		s := &ss[i]
		file := ""
		if s.FirstPos.File >= 0 && s.FirstPos.File < len(files) {
			file = files[s.FirstPos.File]
		}
		out[i] = audit.Service{
			Client: s.Client, Server: s.Server, Proto: s.Proto, Port: s.Port,
			Connections: int(s.Connections),
			Established: int(s.Established + s.Partial),
			Rejected:    int(s.Rejected),
			Unanswered:  int(s.Unanswered),
			Packets:     s.ClientPackets + s.ServerPackets,
			Bytes:       s.ClientIPBytes + s.ServerIPBytes,
			ICMPErrors:  s.ICMPErrors,
			FirstSeen:   s.First,
			LastSeen:    s.Last,
			FirstFrame:  audit.Frame{File: file, Frame: s.FirstPos.Frame},
		}
	}
	return out
}
