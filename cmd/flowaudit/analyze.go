package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flowaudit/flowaudit/analyzer"
	"github.com/flowaudit/flowaudit/analyzer/audit"
	"github.com/flowaudit/flowaudit/analyzer/capture"
	"github.com/flowaudit/flowaudit/analyzer/decode"
	"github.com/flowaudit/flowaudit/analyzer/evidence"
	"github.com/flowaudit/flowaudit/analyzer/inventory"
	"github.com/flowaudit/flowaudit/analyzer/report"
	"github.com/flowaudit/flowaudit/catalog"
	"github.com/spf13/pflag"
)

const analyzeHelp = `Usage:
  flowaudit analyze [-i FILE] [flags] CAPTURE...

Reads the captures (pcap or pcapng, gzip or not, "-" for standard input),
follows every connection, and labels every service (client, server,
protocol, server port) against the catalog of the vendors' documented
ports, using the inventory to know which host plays which role.

The report lists, in this order:
  undocumented   services no document allows, with what came closest
  blocked        documented services attempted but never established
  never seen     documented flows between roles present that never appeared
  documented     services the documents allow, with the rules that do
Every finding carries first/last time, packets, bytes, connections, its
first frame, and a Wireshark display filter that shows its packets.

A CAPTURE may also be a Zeek conn.log (TSV or JSON, gzip or not; known by
its content) or a directory of rotated conn.*.log.gz: each line is a
finished connection. Its findings have no frame, filter or evidence pcap,
and the report says so once.

Several captures: one whose first packet is more than 1s before the latest
packet of those before it is another link (its own connections); otherwise
it continues their link (rotated parts). --rotated makes them all one link;
--parallel reads them on all cores, with the same report.

Examples:
  flowaudit analyze -i testdata/samples/ras/inventory.yaml --waivers testdata/samples/ras/waivers.yaml testdata/samples/ras/pilot.pcapng
  flowaudit analyze -i inv.yaml -f markdown -o ticket.md day1.pcap day2.pcap.gz
  flowaudit analyze -i inv.yaml --wide capture.pcapng | less -S
  flowaudit analyze -i inv.yaml -f dot capture.pcapng | dot -Tpdf -o pilot.pdf
  flowaudit analyze -i inv.yaml --evidence evidence/ --waivers waivers.yaml capture.pcapng
  flowaudit analyze -i inv.yaml --product citrix --fail-on undocumented,blocked,missing cap.pcap
  flowaudit analyze -i inv.yaml --product vmware,ras --catalog site-rules.yaml cap.pcap
  flowaudit analyze -i inv.yaml --all-products cap.pcap
  tcpdump -i eth0 -w - | flowaudit analyze -i inv.yaml -
  flowaudit analyze -i inv.yaml /opt/zeek/logs/2026-11-29/
  flowaudit analyze -i inv.yaml --parallel site-a.pcapng site-b.pcapng

Exit codes:
  0  no findings at the --fail-on level
  1  error: a capture damaged before its end or unreadable (the others are
     still read, and the report covers everything readable), a conn.log
     line that does not read (FILE:LINE), no frame of any capture analysed
     (empty, a link type not decoded, no IP), or the report could not be
     written
  2  usage error
  3  findings at the --fail-on level
A capture cut short in its last record is a warning (stderr and the top of
the report), not an error: the exit code follows the findings.
`

type analyzeFlags struct {
	inventory    string
	catalogs     []string
	products     productFlags
	format       string
	output       string
	evidence     string
	evidenceMax  int
	wide         bool
	failOn       string
	waivers      string
	includeNoise bool
	reproducible bool
	inferRoles   bool
	capture      captureFlags
}

func runAnalyze(e *env, args []string) int {
	var f analyzeFlags
	fs := newFlagSet("analyze", analyzeHelp)
	f.register(fs)
	fs.StringVarP(&f.format, "format", "f", "", "report format: table, markdown (md), json, csv, html, or dot (the role-to-role graph) (default: from -o's extension, else table)")
	fs.StringVarP(&f.output, "output", "o", "", "write the report to `FILE` instead of standard output")
	fs.StringVar(&f.evidence, "evidence", "", "write the report in every format, a pcap per finding, the input files and SHA256SUMS to `DIR` (new, empty, or a previous bundle, which is replaced)")
	fs.BoolVar(&f.wide, "wide", false, "table: every column (why, rules, blocked by, filters, hashes), wrapped, instead of one line per finding")
	fs.IntVar(&f.evidenceMax, "evidence-max", evidence.DefaultMax, "at most `N` finding pcaps in --evidence; the rest are counted in the report")
	fs.StringVar(&f.failOn, "fail-on", "undocumented,blocked,sweep", "finding kinds that make the exit code 3: "+strings.Join(report.Kinds, ",")+", or none")
	if done, err := e.parseFlags(fs, analyzeHelp, args); done {
		if err != nil {
			return e.fail(err)
		}
		return exitOK
	}
	if err := f.capture.validate("analyze"); err != nil {
		return e.fail(err)
	}
	stopProfile, err := f.capture.profile("analyze")
	if err != nil {
		return e.fail(err)
	}
	defer stopProfile()
	paths := fs.Args()
	if len(paths) == 0 {
		return e.fail(usagef("analyze needs at least one CAPTURE (see 'flowaudit analyze --help')"))
	}
	if f.evidence != "" && slices.Contains(paths, "-") {
		return e.fail(usagef("analyze: --evidence reads the captures twice, and standard input can be read only once: save it to a file"))
	}
	failOn, err := parseFailOn(f.failOn)
	if err != nil {
		return e.fail(err)
	}
	format, err := pickFormat("analyze", f.format, f.output, "table", report.Formats...)
	if err != nil {
		return e.fail(err)
	}
	if f.evidenceMax < 0 {
		return e.fail(usagef("analyze: --evidence-max must be 0 or more, got %d", f.evidenceMax))
	}
	var ev *evidence.Dir
	if f.evidence != "" {
		// Checked before the long read: a directory that is not ours is
		// refused at once.
		if ev, err = evidence.Open(f.evidence); err != nil {
			return e.fail(err)
		}
	}
	rep, readErr, err := e.analyzeCaptures(&f, paths, failOn)
	if err != nil {
		return e.fail(err)
	}

	if ev != nil {
		keep, dropped := evidence.Findings(rep, f.evidenceMax)
		rep.Limits.EvidenceMax, rep.Limits.EvidenceNotWritten = f.evidenceMax, dropped
		if dropped > 0 {
			fmt.Fprintf(e.stderr, "flowaudit: %d findings have no pcap in %s: more than --evidence-max=%d\n", dropped, f.evidence, f.evidenceMax)
		}
		if err := ev.Write(rep, paths, keep, evidence.Inputs(f.inventory, f.waivers, f.catalogs)); err != nil {
			return e.fail(err)
		}
	}
	if err := e.writeReport(rep, format, f.output, f.wide); err != nil {
		return e.fail(err)
	}
	if readErr != nil {
		return e.fail(readErr)
	}
	if rep.FindingCount() > 0 {
		return exitFindings
	}
	return exitOK
}

// register adds the flags that decide what an analysis sees: inventory,
// catalogs, products, waivers and the capture-reading flags. analyze and
// diff share them.
func (f *analyzeFlags) register(fs *pflag.FlagSet) {
	fs.StringVarP(&f.inventory, "inventory", "i", "", "inventory `FILE`: which host plays which role (YAML or JSON)")
	fs.StringArrayVar(&f.catalogs, "catalog", nil, "add rules and roles from this catalog `FILE`; repeatable")
	f.products.register(fs, "", "only rules of product `P` (horizon, citrix, ras, lync, or the vendor: vmware, parallels, skype, microsoft; comma lists and repeats, any case), and site rules; without it, hints and role inference use the inventory's products",
		"hints and role inference draw on every product, not just the inventory's")
	fs.StringVar(&f.waivers, "waivers", "", "waiver `FILE`: accepted findings with a reason, a ticket and an optional expiry")
	fs.BoolVar(&f.includeNoise, "include-noise", false, "list neighbour discovery and link-local name resolution as flows")
	fs.BoolVar(&f.reproducible, "reproducible", false, "pin the generation time to the last packet's time, for byte-identical reports")
	fs.BoolVar(&f.inferRoles, "infer-roles", false, "give hosts missing from the inventory the roles inferred from their traffic")
	f.capture.register(fs)
	f.capture.registerParallel(fs)
}

// analyzeCaptures reads the captures and audits them into a report. err
// is an error that left nothing to report; readErr a capture that could
// not be read to its end, with rep holding what was read before it.
func (e *env) analyzeCaptures(f *analyzeFlags, paths []string, failOn []string) (rep *report.Report, readErr error, err error) {
	cat, err := catalog.Load(f.catalogs...)
	if err != nil {
		return nil, nil, err
	}
	products, err := f.products.parse("analyze", cat)
	if err != nil {
		return nil, nil, err
	}
	inv := inventory.New()
	invSHA := ""
	if f.inventory != "" {
		if inv, err = inventory.LoadIn(f.inventory, cat, products); err != nil {
			return nil, nil, err
		}
		if invSHA, err = analyzer.FileSHA256(f.inventory); err != nil {
			return nil, nil, err
		}
	} else if !f.inferRoles {
		fmt.Fprintln(e.stderr, "flowaudit: no inventory (-i): hosts have no roles, so every service is undocumented; --infer-roles proposes roles")
	}
	// Waivers are checked before the long read; with --infer-roles they
	// are read again afterwards, so they may name inferred hosts.
	var waivers *audit.Waivers
	if f.waivers != "" {
		if waivers, err = audit.LoadWaivers(f.waivers, inv, cat); err != nil && !f.inferRoles {
			return nil, nil, err
		}
	}

	res, readErr := e.readCaptures(paths, cat, f.capture, nil)
	if res == nil {
		return nil, nil, readErr
	}
	if f.inferRoles {
		inferMissingHosts(res, inv, cat, f.products.scope(products, inv).Products(), f.products.all)
		if f.waivers != "" {
			if waivers, err = audit.LoadWaivers(f.waivers, inv, cat); err != nil {
				return nil, nil, err
			}
		}
	}
	generated := time.Now().UTC()
	if v := e.getenv("SOURCE_DATE_EPOCH"); v != "" {
		sec, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, nil, usagef("SOURCE_DATE_EPOCH=%q is not a number of seconds", v)
		}
		generated = time.Unix(sec, 0).UTC()
	} else if f.reproducible {
		generated = lastPacket(res).UTC()
	}
	scope := f.products.scope(products, inv)
	services := analyzer.AuditServices(res.Services, capturePaths(res))
	res.Services = nil // the audit's copy is all that is needed from here
	result := audit.Audit(services, inv, cat,
		audit.Options{Products: products, Scope: scope, IncludeNoise: f.includeNoise, Now: generated, Waivers: waivers})
	services = nil
	result.AddSweeps(analyzer.AuditSweeps(res.Sweeps, capturePaths(res)), inv)
	rep = &report.Report{
		Tool: "flowaudit", Version: version, Generated: generated,
		Inventory: f.inventory, InventorySHA: invSHA, InferRoles: f.inferRoles, CatalogFiles: cat.Files(), Products: products, Scope: scope.Products(),
		Hosts: inv.Hosts, Result: result, FailOn: failOn, Skipped: map[string]uint64{}, Packets: res.Packets,
	}
	st := res.Stats
	rep.Limits = report.Limits{MaxConnections: f.capture.maxConnections, EvictedConnections: st.Evicted,
		MaxServices: f.capture.maxServices, UnaggregatedServices: st.UnaggregatedServices,
		UnaggregatedServicesMore: st.UnaggregatedServicesMore, UnaggregatedConnections: st.Unaggregated}
	if n := st.Unaggregated; n > 0 {
		// Always said, terminal or not: the report is incomplete.
		fmt.Fprintf(e.stderr, "flowaudit: %d connections were not analyzed: more than --max-services=%d services (a scan?)\n", n, f.capture.maxServices)
	}
	for _, s := range res.Skipped {
		if s.Reason == decode.ReasonARP.String() && !f.includeNoise {
			result.AddNoise("arp", s.Count)
			continue
		}
		rep.Skipped[s.Reason] = s.Count
	}
	for _, c := range res.Captures {
		rep.Captures = append(rep.Captures, reportCapture(c))
	}

	return rep, readErr, nil
}

// reportCapture is a capture as reports show it: its status, where
// reading stopped and why, without the path and position the error
// message repeats.
func reportCapture(c analyzer.Capture) report.Capture {
	rc := report.Capture{Path: c.Path, SHA256: c.SHA256, Format: c.Format, Packets: c.Packets, Bytes: c.Bytes, First: c.First, Last: c.Last,
		Status: string(c.Status), Analysed: c.Decoded, NothingAnalysed: c.NothingAnalysed(), NotDecoded: c.NotDecoded(),
		Records: c.Records}
	if c.Err != nil {
		rc.Error = c.Err.Error()
		var ce *capture.Error
		if errors.As(c.Err, &ce) {
			rc.Offset, rc.Frame, rc.Error = ce.Offset, ce.Frame, ce.Err.Error()
		}
	}
	return rc
}

func capturePaths(res *analyzer.Result) []string {
	out := make([]string, len(res.Captures))
	for i, c := range res.Captures {
		out[i] = c.Path
	}
	return out
}

// lastPacket is the latest packet time of all captures: what
// --reproducible pins the generation time to.
func lastPacket(res *analyzer.Result) time.Time {
	var t time.Time
	for _, c := range res.Captures {
		if c.Last.After(t) {
			t = c.Last
		}
	}
	return t
}

// parseFailOn reads --fail-on: a comma-separated list of finding kinds, or
// "none".
func parseFailOn(s string) ([]string, error) {
	var out []string
	for _, k := range strings.Split(s, ",") {
		k = strings.TrimSpace(k)
		switch {
		case k == "":
			return nil, usagef("--fail-on: empty finding kind in %q: want a comma-separated list of %s, or all or none", s, strings.Join(report.Kinds, ","))
		case k == "none":
			continue
		case k == "all":
			out = append(out, report.Kinds...)
		case slices.Contains(report.Kinds, k):
			out = append(out, k)
		default:
			return nil, usagef("--fail-on: unknown finding kind %q%s: want %s, all or none", k, catalog.DidYouMean(k, report.Kinds), strings.Join(report.Kinds, ","))
		}
	}
	return out, nil
}

// writeReport writes the report to -o's file, or to standard output
// (where a terminal table is fitted to the terminal's width and coloured).
func (e *env) writeReport(rep *report.Report, format, output string, wide bool) error {
	if output == "" || output == "-" {
		return rep.Write(e.stdout, format, report.TextOptions{Color: e.color, Width: e.termWidth(), Wide: wide})
	}
	return e.writeOutput(output, func(w io.Writer) error { return rep.Write(w, format, report.TextOptions{Wide: wide}) })
}
