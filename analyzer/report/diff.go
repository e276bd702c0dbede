package report

import (
	"bufio"
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/flowaudit/flowaudit/analyzer/diff"
)

// Diff is a comparison of two analyses as `flowaudit diff` renders it.
type Diff struct {
	Tool, Version string
	Result        *diff.Result
	FailOn        []string // categories that make the exit code 3
}

// DiffKinds are the categories `diff --fail-on` accepts.
var DiffKinds = []string{diff.Regressed, diff.Changed, diff.Unresolved, "mismatch"}

// Failures is how many changes of the --fail-on categories there are;
// "mismatch" counts the warnings that the inputs were not made alike.
func (d *Diff) Failures() int {
	n := 0
	for _, k := range d.FailOn {
		if k == "mismatch" {
			n += len(d.Result.Warnings)
			continue
		}
		n += d.Result.Count(k)
	}
	return n
}

func stateCell(s diff.State) string {
	out := s.State
	switch {
	case s.State == diff.Blocked && s.Outcome != "":
		out += " (" + s.Outcome + ")"
	case s.State == diff.Waived && s.Waiver != "":
		out += " (" + s.Waiver + ")"
	}
	if s.Expired {
		out += ", waiver " + s.Waiver + " expired"
	}
	if s.Connections > 0 {
		out += fmt.Sprintf(", %d conn", s.Connections)
	}
	return out
}

func hostsCell(hs []string) string {
	if len(hs) == 0 {
		return "any"
	}
	return strings.Join(hs, ", ")
}

var diffTitles = map[string]struct{ title, intro string }{
	diff.Regressed:  {"Regressed", "Worse after the change: established before and blocked or never seen after, new undocumented services and sweeps, waivers that expired."},
	diff.Fixed:      {"Fixed", "Better after the change: blocked or never seen before and established after, undocumented services and sweeps before and gone after."},
	diff.Changed:    {"Changed", "Different, neither fixed nor regressed: another outcome, other matching rules or label (a catalog or inventory change), newly waived, or traffic that occurred in one capture only."},
	diff.Unresolved: {"Unresolved", "Findings in both: what the change left to do."},
}

// DiffTables are the diff's tables in order: summary, warnings, the
// categories, then the two inputs.
func (d *Diff) DiffTables() []Table {
	r := d.Result
	sum := Table{ID: "summary", Title: "Summary", Header: []string{"Result", "Count"}}
	for _, c := range []string{diff.Regressed, diff.Fixed, diff.Changed, diff.Unresolved} {
		sum.Rows = append(sum.Rows, []string{diffTitles[c].title, count(r.Count(c))})
	}
	sum.Rows = append(sum.Rows, []string{"Unchanged", count(r.Unchanged)})
	sum.Rows = append(sum.Rows, []string{"Warnings", count(len(r.Warnings))})
	sum.Rows = append(sum.Rows, []string{fmt.Sprintf("Failures (--fail-on %s)", failOnList(d.FailOn)), count(d.Failures())})
	out := []Table{sum}
	if len(r.Warnings) > 0 {
		w := Table{ID: "warnings", Title: fmt.Sprintf("Warnings (%d)", len(r.Warnings)), Header: []string{"Warning"}}
		for _, s := range r.Warnings {
			w.Rows = append(w.Rows, []string{s})
		}
		out = append(out, w)
	}
	for _, c := range []string{diff.Regressed, diff.Fixed, diff.Changed, diff.Unresolved} {
		changes := r.Of(c)
		t := Table{ID: c, Title: fmt.Sprintf("%s (%d)", diffTitles[c].title, len(changes)), Intro: diffTitles[c].intro,
			Header: []string{"Client", "Server", "Service", "Rule", "Before", "After", "Why"}, Code: map[int]bool{3: true}}
		for _, ch := range changes {
			client, server, rules := ch.Client, ch.Server, ""
			switch ch.Kind {
			case "missing":
				client, server, rules = hostsCell(ch.Clients), hostsCell(ch.Servers), ch.Rule
			case "sweep":
			default:
				rs := ch.After.Rules
				if len(rs) == 0 {
					rs = ch.Before.Rules
				}
				rules = strings.Join(rs, ", ")
			}
			t.Rows = append(t.Rows, []string{client, server, ch.ServiceName(), rules, stateCell(ch.Before), stateCell(ch.After), ch.Reason})
		}
		out = append(out, t)
	}
	in := Table{ID: "inputs", Title: "Inputs", Header: []string{"Input", "Before", "After"}, Code: map[int]bool{}}
	b, a := r.Before.Identity, r.After.Identity
	in.Rows = append(in.Rows, []string{"Report", r.Before.Name, r.After.Name})
	caps := func(fs []diff.File) string {
		var parts []string
		for _, f := range fs {
			parts = append(parts, f.Path+" (sha256 "+f.SHA256+")")
		}
		return strings.Join(parts, "; ")
	}
	in.Rows = append(in.Rows, []string{"Captures", caps(b.Captures), caps(a.Captures)})
	inv := func(f *diff.File) string {
		if f == nil {
			return "none"
		}
		return f.Path + " (sha256 " + f.SHA256 + ")"
	}
	if len(b.NameLogs) > 0 || len(a.NameLogs) > 0 {
		none := func(s string) string {
			if s == "" {
				return "none"
			}
			return s
		}
		in.Rows = append(in.Rows, []string{"Host names (Zeek logs)", none(caps(b.NameLogs)), none(caps(a.NameLogs))})
	}
	in.Rows = append(in.Rows, []string{"Inventory", inv(b.Inventory), inv(a.Inventory)})
	cat := func(i diff.Identity) string {
		return fmt.Sprintf("%s; %s (%d rules)", strings.Join(i.CatalogFiles, ", "), productList(i.Products), i.Rules)
	}
	in.Rows = append(in.Rows, []string{"Catalog", cat(b), cat(a)})
	in.Rows = append(in.Rows, []string{"Tool", "flowaudit " + b.Version, "flowaudit " + a.Version})
	in.Rows = append(in.Rows, []string{"Generated", b.Generated, a.Generated})
	return append(out, in)
}

func productList(p []string) string {
	if len(p) == 0 {
		return "all products"
	}
	return "products " + strings.Join(p, ", ")
}

func (d *Diff) headline() string {
	return fmt.Sprintf("%s %s: %s → %s", d.Tool, d.Version, d.Result.Before.Name, d.Result.After.Name)
}

// Text writes the diff as go-pretty tables.
func (d *Diff) Text(out io.Writer, o TextOptions) error {
	w := &errWriter{w: out}
	fmt.Fprintln(w, d.headline())
	writeTextTables(w, d.DiffTables(), o)
	return w.err
}

// Markdown writes the diff for a change ticket.
func (d *Diff) Markdown(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# flowaudit diff\n\n%s %s: %s → %s.\n", d.Tool, d.Version, mdCell(d.Result.Before.Name, false), mdCell(d.Result.After.Name, false))
	writeMarkdownTables(bw, d.DiffTables())
	return bw.Flush()
}

// HTML writes the diff as a self-contained page, styled as the report.
func (d *Diff) HTML(w io.Writer) error {
	return diffPage.Execute(w, struct {
		D      *Diff
		Tables []Table
	}{d, d.DiffTables()})
}

var diffPage = template.Must(template.Must(htmlPage.Clone()).New("diff").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>flowaudit diff</title>
{{template "style"}}
<style>h2.regressed{border-color:#c62828}h2.fixed{border-color:#2e7d32}h2.changed{border-color:#1565c0}h2.unresolved{border-color:#ef8f00}h2.warnings{border-color:#ef8f00}</style>
</head>
<body>
<h1>flowaudit diff</h1>
<p class="meta">{{.D.Tool}} {{.D.Version}}: {{.D.Result.Before.Name}} → {{.D.Result.After.Name}}.</p>
<nav>{{range .Tables}}<a href="#{{.ID}}">{{.Title}}</a> {{end}}</nav>
{{template "tables" .Tables}}
</body>
</html>
`))

// The JSON diff. Field names are fixed and documented in the README.
type jsonDiff struct {
	Tool     string          `json:"tool"`
	Version  string          `json:"version"`
	Before   jsonDiffInput   `json:"before"`
	After    jsonDiffInput   `json:"after"`
	Warnings []string        `json:"warnings"`
	Summary  jsonDiffSummary `json:"summary"`
	Changes  []diff.Change   `json:"changes"`
}

type jsonDiffInput struct {
	Report    string      `json:"report"`
	Captures  []diff.File `json:"captures"`
	Inventory *diff.File  `json:"inventory"`
	NameLogs  []diff.File `json:"name_logs,omitempty"` // zeek ssl.log, http.log that named the conn.log's connections
	Catalog   jsonCatalog `json:"catalog"`
	Version   string      `json:"version"`
	Generated string      `json:"generated"`
}

type jsonDiffSummary struct {
	Fixed      int      `json:"fixed"`
	Regressed  int      `json:"regressed"`
	Changed    int      `json:"changed"`
	Unresolved int      `json:"unresolved"`
	Unchanged  int      `json:"unchanged"`
	FailOn     []string `json:"fail_on"`
	Failures   int      `json:"failures"`
}

func diffInputJSON(r *diff.Report) jsonDiffInput {
	i := r.Identity
	out := jsonDiffInput{Report: r.Name, Captures: i.Captures, Inventory: i.Inventory, NameLogs: i.NameLogs, Version: i.Version, Generated: i.Generated,
		Catalog: jsonCatalog{Files: names(i.CatalogFiles), Products: names(i.Products), Rules: i.Rules}}
	if out.Captures == nil {
		out.Captures = []diff.File{}
	}
	return out
}

// JSON writes the diff as indented JSON.
func (d *Diff) JSON(w io.Writer) error {
	r := d.Result
	out := jsonDiff{Tool: d.Tool, Version: d.Version, Before: diffInputJSON(r.Before), After: diffInputJSON(r.After),
		Warnings: names(r.Warnings), Changes: r.Changes,
		Summary: jsonDiffSummary{Fixed: r.Count(diff.Fixed), Regressed: r.Count(diff.Regressed), Changed: r.Count(diff.Changed),
			Unresolved: r.Count(diff.Unresolved), Unchanged: r.Unchanged, FailOn: names(d.FailOn), Failures: d.Failures()}}
	if out.Changes == nil {
		out.Changes = []diff.Change{}
	}
	return writeIndented(w, &out)
}
