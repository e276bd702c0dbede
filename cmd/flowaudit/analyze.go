package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/flowaudit/flowaudit/analyzer"
	"github.com/flowaudit/flowaudit/analyzer/analysis"
	"github.com/flowaudit/flowaudit/analyzer/audit"
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
finished connection; or NetFlow/IPFIX records: nfdump -o csv or -o json,
or an IPFIX or NetFlow v9 file (RFC 7011 messages, RFC 3954 packets),
their one-way records paired. Its findings have no frame, filter or evidence pcap,
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
     line that does not read (FILE:LINE), an IPFIX message that does not
     (FILE: offset N (message M)) or data sets without their template, no
     frame of any capture analysed
     (empty, a link type not decoded, no IP), connections past
     --max-services (their services were not analysed), host names of a
     Zeek ssl.log/http.log past the uid bound, or answers of its dns.log
     past the same bound (their connections unnamed), a name log given
     without flow records it can name (an ssl.log or http.log names a
     Zeek conn.log's, a dns.log any flow record's; standard input is
     looked at to tell), a name log of two kinds or a dns.log without
     id.resp_p (FILE:LINE), or the report could not be written
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
	if err := fileFlags("analyze", map[string][]string{"-i": {f.inventory}, "--waivers": {f.waivers}, "--catalog": f.catalogs}); err != nil {
		return e.fail(err)
	}
	if inside(f.output, f.evidence) {
		// The bundle's SHA256SUMS would no longer hold.
		return e.fail(usagef("analyze: -o %s is inside the --evidence bundle %s, which holds the report in every format: write it elsewhere", f.output, f.evidence))
	}
	if err := checkOutputs("analyze", []string{f.output}, append(append([]string{f.inventory, f.waivers}, f.catalogs...), paths...)...); err != nil {
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
	// The first capture's digest, the longest task of the analysis, is
	// begun now, while the catalogs, inventory and waivers load.
	f.capture.early = analyzer.StartEarly(paths[0], f.capture.parallel)
	defer f.capture.early.Close()
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
		if err := ev.Write(rep, paths, keep, evidence.Inputs(f.inventory, f.waivers, f.catalogs, rep.NameLogs)); err != nil {
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

// analyzeCaptures loads what the flags name (catalogs, inventory,
// waivers), reads the captures and has package analysis audit them into a
// report. err
// is an error that left nothing to report; readErr a capture that could
// not be read to its end, with rep holding what was read before it.
func (e *env) analyzeCaptures(f *analyzeFlags, paths []string, failOn []string) (rep *report.Report, readErr error, err error) {
	// The captures are hashed on the other core while they are read and
	// audited; analysis.Report waits for their digests after the audit.
	cf := f.capture
	cf.lateDigests = true
	cf.addrMACs = f.inferRoles
	cf.forAudit = !f.inferRoles // inference reads Result.Services
	// Without --catalog the read needs only the built-in server ports: it
	// begins now, on its own goroutine, while the catalogs, inventory and
	// waivers load; an error in them stops it. Not from standard input or
	// a pipe: a live capture (tcpdump -w - | flowaudit analyze -) may
	// bring its next packets much later, or never, and an error in the
	// inventory would wait for them instead of being said at once.
	var pending *pendingRead
	if len(f.catalogs) == 0 && !slices.ContainsFunc(paths, mayBlock) {
		// Arguments it refuses (standard input given twice) are refused
		// by the read below, after the catalogs, inventory and waivers,
		// as they always were: their errors come first.
		if p, perr := e.startCaptures(paths, nil, cf, nil, true); perr == nil {
			pending = p
			defer func() {
				if err != nil {
					pending.cancel()
				}
			}()
		}
	}
	cat, err := e.loadCatalog(f.catalogs)
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
		e.warnOutOfScope(products, inv)
		if len(inv.Hosts) == 0 && !f.inferRoles {
			// `hosts: []` (what roles writes when it proposes none) is
			// valid YAML and no inventory at all.
			e.warnOnce(fmt.Sprintf("flowaudit: warning: %s lists no hosts: hosts have no roles, so every service is undocumented; --infer-roles proposes roles", f.inventory))
		}
		if invSHA, err = analyzer.FileSHA256(f.inventory); err != nil {
			return nil, nil, err
		}
	} else if !f.inferRoles {
		e.warnOnce("flowaudit: no inventory (-i): hosts have no roles, so every service is undocumented; --infer-roles proposes roles")
	}
	// Waivers are checked before the long read; with --infer-roles they
	// are read again afterwards, so they may name inferred hosts.
	var waivers *audit.Waivers
	if f.waivers != "" {
		if waivers, err = audit.LoadWaivers(f.waivers, inv, cat); err != nil && !f.inferRoles {
			return nil, nil, err
		}
	}

	var res *analyzer.Result
	if pending != nil {
		res, readErr = pending.wait()
	} else {
		res, readErr = e.readCaptures(paths, cat, cf, nil)
	}
	if res == nil {
		return nil, nil, readErr
	}
	if f.inferRoles {
		analysis.InferMissingHosts(res, inv, cat, f.products.scope(products, inv).Products(), f.products.all)
		if f.waivers != "" {
			if waivers, err = audit.LoadWaivers(f.waivers, inv, cat); err != nil {
				return nil, nil, err
			}
		}
	}
	generated, err := analysis.Generated(res, e.getenv("SOURCE_DATE_EPOCH"), f.reproducible, time.Now())
	if err != nil {
		return nil, nil, usagef("%v", err)
	}
	rep, digestErr := analysis.Report(res, analysis.Input{
		Tool: "flowaudit", Version: version,
		Catalog: cat, Inventory: inv, InventoryPath: f.inventory, InventorySHA: invSHA, InferRoles: f.inferRoles,
		Products: products, Scope: f.products.scope(products, inv), Waivers: waivers, IncludeNoise: f.includeNoise,
		FailOn: failOn, Generated: generated,
		MaxConnections: f.capture.maxConnections, MaxServices: f.capture.maxServices,
	})
	// Services not kept, names not kept: the report (still written) is
	// incomplete, and the exit code 1 whatever the findings.
	readErr = errors.Join(readErr, digestErr, limitsIncompleteness(rep.Limits).err())
	return rep, readErr, nil
}

// mayBlock says whether reading path may wait for its writer: standard
// input, a named pipe, a device; not a regular file or a directory (of
// regular files), nor a path that does not exist (its error comes at
// once).
func mayBlock(path string) bool {
	if path == "-" {
		return true
	}
	st, err := os.Stat(path)
	return err == nil && !st.Mode().IsRegular() && !st.IsDir()
}

// parseFailOn reads --fail-on: a comma-separated list of finding kinds, or
// "none", which stands alone ("none,undocumented" says two things).
func parseFailOn(s string) ([]string, error) {
	var out []string
	items := strings.Split(s, ",")
	for _, k := range items {
		k = strings.TrimSpace(k)
		switch {
		case k == "":
			return nil, usagef("--fail-on: empty finding kind in %q: want a comma-separated list of %s, or all or none", s, strings.Join(report.Kinds, ","))
		case k == "none":
			if len(items) > 1 {
				return nil, usagef("--fail-on: none in %q: none stands alone", s)
			}
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
