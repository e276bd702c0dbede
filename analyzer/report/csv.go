package report

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"

	"github.com/flowaudit/flowaudit/catalog"
)

// CSVHeader is the CSV report's columns: one row per service.
var CSVHeader = []string{"status", "blocked", "outcome", "client", "client_host", "client_roles", "server", "server_host", "server_roles",
	"proto", "port", "connections", "established", "rejected", "unanswered", "packets", "bytes", "first_seen", "last_seen",
	"first_file", "first_frame", "rules", "waiver", "hints", "filter", "blocked_by"}

// CSV writes one row per service.
func (r *Report) CSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	for _, f := range r.Result.Flows {
		port := ""
		if p := Port(f); p != nil {
			port = strconv.Itoa(int(*p))
		}
		row := []string{string(f.Status), strconv.FormatBool(f.Blocked && f.Status != "undocumented"), string(f.Outcome),
			f.Client.Unmap().String(), hostName(f.ClientHost), strings.Join(Roles(f.ClientHost), "; "),
			f.Server.Unmap().String(), hostName(f.ServerHost), strings.Join(Roles(f.ServerHost), "; "),
			catalog.ProtoName(f.Proto), port, strconv.Itoa(f.Connections), strconv.Itoa(f.Established), strconv.Itoa(f.Rejected),
			strconv.Itoa(f.Unanswered), strconv.FormatUint(f.Packets, 10), strconv.FormatUint(f.Bytes, 10), TS(f.FirstSeen), TS(f.LastSeen),
			f.FirstFrame.File, strconv.FormatUint(f.FirstFrame.Frame, 10), RuleIDs(f.Rules), WaiverText(f.Waiver, f.WaiverExpired),
			strings.Join(f.Hints, "; "), Filter(f), blockedByCell(f)}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	// A sweep is one row: its port column holds the ports swept, its
	// hints say how many servers.
	for _, w := range r.Result.Sweeps {
		server, host, roles := "", "", ""
		if w.Server.IsValid() {
			server, host, roles = w.Server.Unmap().String(), hostName(w.ServerHost), strings.Join(Roles(w.ServerHost), "; ")
		}
		outcome := "unanswered"
		switch {
		case w.Established > 0:
			outcome = "established"
		case w.Rejected > 0:
			outcome = "rejected"
		}
		u := func(v uint64) string { return strconv.FormatUint(v, 10) }
		row := []string{"sweep", "false", outcome, w.Client.Unmap().String(), hostName(w.ClientHost), strings.Join(Roles(w.ClientHost), "; "),
			server, host, roles, catalog.ProtoName(w.Proto), w.PortsText(), u(w.Connections), u(w.Established), u(w.Rejected),
			u(w.Unanswered), u(w.Packets), u(w.Bytes), TS(w.FirstSeen), TS(w.LastSeen), w.FirstFrame.File, u(w.FirstFrame.Frame),
			"", "", w.Describe(), SweepFilter(w), ""}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
