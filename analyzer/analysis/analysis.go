// Package analysis turns what the pipeline read (analyzer.Result) into the
// audit report analyze writes and diff compares: the services and sweeps
// audited against the inventory and the catalog, each capture's status
// and where reading stopped, the limits that were reached and the frames
// that were not analysed; and, for analyze --infer-roles, the hosts the
// inventory lacks with the roles their traffic shows (InferMissingHosts).
package analysis

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/flowaudit/flowaudit/analyzer"
	"github.com/flowaudit/flowaudit/analyzer/audit"
	"github.com/flowaudit/flowaudit/analyzer/capture"
	"github.com/flowaudit/flowaudit/analyzer/connlog"
	"github.com/flowaudit/flowaudit/analyzer/decode"
	"github.com/flowaudit/flowaudit/analyzer/inventory"
	"github.com/flowaudit/flowaudit/analyzer/report"
	"github.com/flowaudit/flowaudit/catalog"
)

// Input is what the report is made from besides the captures.
type Input struct {
	Tool, Version string

	Catalog   *catalog.Catalog
	Inventory *inventory.Inventory
	// InventoryPath and InventorySHA name the inventory file ("" for
	// none) and its SHA-256, as the report cites them.
	InventoryPath, InventorySHA string
	InferRoles                  bool // the inventory holds hosts inferred from traffic
	Products                    []string
	Scope                       catalog.Scope
	Waivers                     *audit.Waivers // nil for none
	IncludeNoise                bool           // neighbour discovery and ARP as flows
	FailOn                      []string       // the finding kinds that fail the run
	Generated                   time.Time

	// MaxConnections and MaxServices are the bounds the captures were
	// read with, for the report's limits.
	MaxConnections, MaxServices int
}

// Report audits res into a report. It takes res's services
// (Result.TakeAuditServices: the audit's copy is all that is kept).
//
// The captures are taken last: when res was read with
// analyzer.Options.LateDigests, the files are still being hashed on
// another core while their services are audited, and Report waits for
// the digests (Result.WaitDigests) only then. The error is theirs: a file
// read to its end that could not be hashed, which the report shows as
// not complete.
func Report(res *analyzer.Result, in Input) (*report.Report, error) {
	paths := res.Paths()
	services := res.TakeAuditServices()
	result := audit.Audit(services, in.Inventory, in.Catalog,
		audit.Options{Products: in.Products, Scope: in.Scope, IncludeNoise: in.IncludeNoise, Now: in.Generated, Waivers: in.Waivers,
			Workers: res.Workers()})
	services = nil
	result.AddSweeps(analyzer.AuditSweeps(res.Sweeps, paths), in.Inventory)
	in.Waivers.ApplySweeps(result, in.Generated)
	rep := &report.Report{
		Tool: in.Tool, Version: in.Version, Generated: in.Generated,
		Inventory: in.InventoryPath, InventorySHA: in.InventorySHA, InferRoles: in.InferRoles, IncludeNoise: in.IncludeNoise, CatalogFiles: in.Catalog.Files(),
		Products: in.Products, Scope: in.Scope.Products(),
		Hosts: in.Inventory.Hosts, Result: result, FailOn: in.FailOn, Skipped: map[string]uint64{}, Packets: res.Packets,
	}
	st := res.Stats
	rep.Limits = report.Limits{MaxConnections: in.MaxConnections, EvictedConnections: st.Evicted,
		MaxServices: in.MaxServices, UnaggregatedServices: st.UnaggregatedServices,
		UnaggregatedServicesMore: st.UnaggregatedServicesMore, UnaggregatedConnections: st.Unaggregated}
	if zn := res.ZeekNames; zn != nil {
		rep.Limits.NameLogOverflow, rep.Limits.NameLogMax, rep.Limits.DNSLogOverflow = zn.Overflow, zn.Max, zn.DNSOverflow
		for i, f := range zn.Files {
			rep.NameLogs = append(rep.NameLogs, report.NameLog{Path: f, SHA256: zn.SHA256[i], Kind: zn.Kinds[i]})
		}
		for _, e := range zn.Errors {
			if e != "" {
				rep.NameLogErrors = append(rep.NameLogErrors, e)
			}
		}
	}
	for _, s := range res.Skipped {
		if s.Reason == decode.ReasonARP.String() && !in.IncludeNoise {
			result.AddNoise("arp", s.Count)
			continue
		}
		rep.Skipped[s.Reason] = s.Count
	}
	// What every format works out from the audit is worked out now,
	// while the digests may still run on the other core.
	rep.Prepare()
	err := res.WaitDigests()
	for _, c := range res.Captures {
		rep.Captures = append(rep.Captures, Capture(c))
	}
	return rep, err
}

// Capture is a capture as reports show it: its status, where reading
// stopped and why, without the path and position the error message
// repeats.
func Capture(c analyzer.Capture) report.Capture {
	rc := report.Capture{Path: c.Path, SHA256: c.SHA256, Format: c.Format, Packets: c.Packets, Bytes: c.Bytes, First: c.First, Last: c.Last,
		Status: string(c.Status), Analysed: c.Decoded, NothingAnalysed: c.NothingAnalysed(), NotDecoded: c.NotDecoded(),
		Records: c.Records, Uncounted: c.Uncounted, OneWay: c.OneWay}
	if c.Err != nil {
		rc.Error = c.Err.Error()
		var ce *capture.Error
		if errors.As(c.Err, &ce) {
			rc.Offset, rc.Frame, rc.Error = ce.Offset, ce.Frame, ce.Err.Error()
		}
		var le *connlog.Error
		if errors.As(c.Err, &le) {
			rc.ReadToEnd = le.AtEnd
		}
	}
	return rc
}

// Generated is the report's generation time: SOURCE_DATE_EPOCH's seconds
// when it is set (sourceDateEpoch, as reproducible builds use it), else
// the last packet's time when reproducible, else now; in UTC.
func Generated(res *analyzer.Result, sourceDateEpoch string, reproducible bool, now time.Time) (time.Time, error) {
	switch {
	case sourceDateEpoch != "":
		sec, err := strconv.ParseInt(sourceDateEpoch, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a number of seconds", sourceDateEpoch)
		}
		return time.Unix(sec, 0).UTC(), nil
	case reproducible:
		return res.LastPacket().UTC(), nil
	}
	return now.UTC(), nil
}
