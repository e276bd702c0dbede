package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/flowaudit/flowaudit/analyzer/diff"
	"github.com/flowaudit/flowaudit/analyzer/report"
	"github.com/flowaudit/flowaudit/catalog"
)

const diffHelp = `Usage:
  flowaudit diff [flags] BEFORE AFTER

Compares two analyses of one pilot, before and after a firewall change,
and says what the change did. BEFORE and AFTER are each an analyze JSON
report (analyze -f json) or a capture, which is analysed first with the
inventory and the other analysis flags given here.

Services are matched by client, server, protocol and port; expected flows
never seen by rule, protocol and hosts. The diff lists:
  regressed   established before, blocked or never seen after; new
              undocumented services and sweeps; waivers that expired
  fixed       blocked or never seen before, established after;
              undocumented services and sweeps before, gone after
  changed     another outcome, other matching rules or label (a catalog
              or inventory change), newly waived, or traffic that occurred
              in one capture only
  unresolved  findings in both
and both inputs' captures (SHA-256), inventory, catalog and tool version,
with a warning when the inventories or catalogs differ or either
analysis is incomplete.

Examples:
  flowaudit diff before.json after.json
  flowaudit diff -i testdata/samples/ras/inventory.yaml --waivers testdata/samples/ras/waivers.yaml \
      --reproducible testdata/samples/ras/pilot.pcapng testdata/samples/ras/after.pcapng
  flowaudit diff -f markdown -o CHG-1234-diff.md before.json after.pcapng -i inventory.yaml
  flowaudit diff --fail-on regressed,unresolved before.json after.json

Exit codes:
  0  nothing of the --fail-on categories
  1  error (a capture analyze fails on, or a report analyze exited 1 with:
     a capture damaged or unreadable, connections past --max-services, is
     diffed as far as it was read)
  2  usage error
  3  changes of the --fail-on categories (default: regressed)
`

func runDiff(e *env, args []string) int {
	var f analyzeFlags
	fs := newFlagSet("diff", diffHelp)
	fs.StringVarP(&f.format, "format", "f", "", "diff format: table, markdown, json or html (default: from -o's extension, else table)")
	fs.StringVarP(&f.output, "output", "o", "", "write the diff to `FILE` instead of standard output")
	fs.StringVar(&f.failOn, "fail-on", diff.Regressed, "categories that make the exit code 3: "+strings.Join(report.DiffKinds, ",")+" (the inputs' warnings), all, or none")
	f.register(fs)
	if done, err := e.parseFlags(fs, diffHelp, args); done {
		if err != nil {
			return e.fail(err)
		}
		return exitOK
	}
	if fs.NArg() != 2 {
		return e.fail(usagef("diff needs two inputs, BEFORE and AFTER, got %d (see 'flowaudit diff --help')", fs.NArg()))
	}
	failOn, err := parseDiffFailOn(f.failOn)
	if err != nil {
		return e.fail(err)
	}
	format, err := pickFormat("diff", f.format, f.output, "table", report.DiffFormats...)
	if err != nil {
		return e.fail(err)
	}
	if err := fileFlags("diff", map[string][]string{"-i": {f.inventory}, "--waivers": {f.waivers}, "--catalog": f.catalogs}); err != nil {
		return e.fail(err)
	}
	if err := checkOutputs("diff", []string{f.output}, append(append([]string{f.inventory, f.waivers}, f.catalogs...), fs.Args()...)...); err != nil {
		return e.fail(err)
	}
	if err := f.capture.validate("diff"); err != nil {
		return e.fail(err)
	}
	if fs.Arg(0) == "-" && fs.Arg(1) == "-" {
		return e.fail(usagef("diff: standard input can be only one of BEFORE and AFTER"))
	}
	var sides [2]*diff.Report
	var readErr error
	for i, path := range fs.Args() {
		r, rerr, err := e.diffInput(&f, path)
		if err != nil {
			return e.fail(err)
		}
		readErr = errors.Join(readErr, rerr) // each side's, on its own line
		sides[i] = r
	}
	d := &report.Diff{Tool: "flowaudit", Version: version, Result: diff.Compare(sides[0], sides[1]), FailOn: failOn}
	for _, w := range d.Result.Warnings {
		fmt.Fprintf(e.stderr, "flowaudit: warning: %s\n", w)
	}
	direct := f.output == "" || f.output == "-"
	o := report.TextOptions{}
	if direct {
		o = report.TextOptions{Color: e.color, Width: e.termWidth()}
	}
	err = e.writeOutput(f.output, func(out io.Writer) error { return d.Write(out, format, o) })
	if err != nil {
		return e.fail(err)
	}
	if readErr != nil {
		return e.fail(readErr)
	}
	if d.Failures() > 0 {
		return exitFindings
	}
	return exitOK
}

// diffInput reads one side of a diff: an analyze JSON report, or a
// capture it analyses. A report is told from a capture by its first
// byte ('{'); captures start with a binary magic number.
func (e *env) diffInput(f *analyzeFlags, path string) (r *diff.Report, readErr, err error) {
	var in io.Reader
	regular := false
	if path == "-" {
		in = e.stdin
	} else {
		file, err := os.Open(path)
		if err != nil {
			return nil, nil, err
		}
		defer file.Close()
		in = file
		st, err := file.Stat()
		regular = err == nil && st.Mode().IsRegular()
	}
	br := bufio.NewReader(in)
	if isJSON(br) {
		doc, err := report.ReadDocument(path, br)
		if err != nil {
			return nil, nil, err
		}
		return doc.DiffReport(path), failedReport(path, doc), nil
	}
	switch {
	case path == "-":
		// The capture reader takes standard input from the env; hand it
		// what was peeked at.
		e.stdin = br
	case !regular:
		// A named pipe (bash's <(...)) or a device opened again would
		// have lost what was peeked at: the capture reader reads it
		// from here.
		g := *f
		g.capture.opened = map[string]io.Reader{path: br}
		f = &g
	}
	rep, readErr, err := e.analyzeCaptures(f, []string{path}, nil)
	if err != nil {
		return nil, nil, err
	}
	return rep.Document().DiffReport(path), readErr, nil
}

// failedReport is the error analyze exited 1 with when it wrote doc: a
// capture damaged or unreadable, connections past --max-services. A
// saved report is judged as its capture would be: diffed as far as it
// goes, then exit 1. A capture cut short in its last record stays a
// warning, as it is for analyze.
func failedReport(path string, doc *report.Document) error {
	var why []string
	for _, c := range doc.Captures {
		if c.Status == report.StatusDamaged || c.Status == report.StatusUnreadable {
			why = append(why, fmt.Sprintf("%s: %s: %s", c.Path, c.Status, c.Error))
		}
	}
	for _, r := range documentIncompleteness(doc).reasons() {
		why = append(why, r.brief)
	}
	for _, e := range doc.NameLogErrors {
		why = append(why, e+": the host names after it were not read")
	}
	if len(why) == 0 {
		return nil
	}
	return fmt.Errorf("%s: the analysis is incomplete: %s", path, strings.Join(why, "; "))
}

// isJSON peeks past white space at the first byte: '{' starts a JSON
// report.
func isJSON(br *bufio.Reader) bool {
	start := 1
	if b, err := br.Peek(3); err == nil && string(b) == "\ufeff" {
		start = 4 // a UTF-8 byte order mark (a Windows editor's)
	}
	for i := start; i <= 512; i++ {
		b, err := br.Peek(i)
		if err != nil {
			return false
		}
		switch b[i-1] {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return true
		}
		return false
	}
	return false
}

// parseDiffFailOn reads diff's --fail-on: a comma-separated list of
// categories, all, or none. An empty list or item is a usage error, as
// analyze's is: `--fail-on "$UNSET"` must not mean none, an exit code 0
// whatever regressed; so is none beside categories.
func parseDiffFailOn(s string) ([]string, error) {
	var out []string
	items := strings.Split(s, ",")
	for _, k := range items {
		k = strings.TrimSpace(k)
		switch {
		case k == "":
			return nil, usagef("diff --fail-on: empty category in %q: want a comma-separated list of %s, or all or none", s, strings.Join(report.DiffKinds, ","))
		case k == "none":
			if len(items) > 1 {
				return nil, usagef("diff --fail-on: none in %q: none stands alone", s)
			}
			continue
		case k == "all":
			out = append(out, report.DiffKinds...)
		case slices.Contains(report.DiffKinds, k):
			out = append(out, k)
		default:
			return nil, usagef("diff --fail-on: unknown category %q%s: want %s, all or none", k, catalog.DidYouMean(k, report.DiffKinds), strings.Join(report.DiffKinds, ","))
		}
	}
	return out, nil
}
