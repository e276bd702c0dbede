package report

import (
	"fmt"
	"io"
	"sort"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"
)

// TextOptions steer the terminal table.
type TextOptions struct {
	Color bool // ANSI colours (a terminal, NO_COLOR unset)
	Width int  // wrap long cells to fit this many columns; 0 for DefaultWidth, negative for no limit
	// MaxRows caps each table's rows (0: DefaultMaxRows, negative: no
	// cap); the other formats always hold every row.
	MaxRows int
}

// DefaultMaxRows is how many rows a terminal table shows before pointing
// to the other formats.
const DefaultMaxRows = 1000

// DefaultWidth is the width the table is fitted to when there is no
// terminal to measure (a file, a pipe).
const DefaultWidth = 200

// wrapFrom is the length from which a column may be wrapped; shorter
// columns (addresses, services, counts) are never broken.
const wrapFrom = 32

var sectionColors = map[string]text.Colors{
	"summary":          {text.Bold},
	"undocumented":     {text.FgRed, text.Bold},
	"blocked":          {text.FgYellow, text.Bold},
	"missing":          {text.FgMagenta, text.Bold},
	"optional-missing": {text.FgMagenta},
	"documented":       {text.FgGreen, text.Bold},
	"waived":           {text.FgCyan},
}

// Text writes the report as go-pretty tables: the summary, then
// undocumented, blocked, never seen and documented services, then notes
// and inputs.
func (r *Report) Text(out io.Writer, o TextOptions) error {
	// go-pretty's Render and fmt.Fprint drop write errors: keep the first.
	w := &errWriter{w: out}
	fmt.Fprintf(w, "%s %s: %s\n", r.Tool, r.Version, captureList(r))
	writeTextTables(w, r.AllTables(), o)
	return w.err
}

// writeTextTables writes tables as go-pretty tables, each under its title.
func writeTextTables(w io.Writer, tables []Table, o TextOptions) {
	title := func(t Table) string {
		if !o.Color {
			return t.Title
		}
		c, ok := sectionColors[t.ID]
		if !ok {
			c = text.Colors{text.Bold}
		}
		return c.Sprint(t.Title)
	}
	for _, t := range tables {
		fmt.Fprintf(w, "\n%s\n", title(t))
		if len(t.Rows) == 0 {
			fmt.Fprintln(w, "  none")
			continue
		}
		tw := table.NewWriter()
		tw.SetOutputMirror(w)
		style := table.StyleLight
		if !o.Color {
			style.Color = table.ColorOptions{}
		} else {
			style.Color.Header = text.Colors{text.Bold}
		}
		style.Format.Header = text.FormatDefault
		style.Format.Footer = text.FormatDefault
		tw.SetStyle(style)
		var keep []int
		hdr := table.Row{}
		for i, h := range t.Header {
			if !t.Wide[i] {
				keep = append(keep, i)
				hdr = append(hdr, h)
			}
		}
		tw.AppendHeader(hdr)
		tw.SetColumnConfigs(fitColumns(t, keep, o.Width))
		rows, cut := t.Rows, 0
		if limit := o.MaxRows; limit >= 0 {
			if limit == 0 {
				limit = DefaultMaxRows
			}
			if len(rows) > limit {
				rows, cut = rows[:limit], len(rows)-limit
			}
		}
		for _, row := range rows {
			out := table.Row{}
			for _, i := range keep {
				out = append(out, row[i])
			}
			tw.AppendRow(out)
		}
		if cut > 0 {
			tw.AppendFooter(table.Row{fmt.Sprintf("… and %d more rows: --format csv, json, markdown or html lists them all", cut)})
		}
		tw.Render()
	}
}

// errWriter keeps the first write error and writes nothing after it.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

// fitColumns shares the width among the long text columns (reasons,
// descriptions, rule lists) once the short ones have what they need: a
// long column that fits in its share keeps its width, the rest share what
// is left, and none is cut narrower than wrapFrom.
func fitColumns(t Table, keep []int, width int) []table.ColumnConfig {
	if width == 0 {
		width = DefaultWidth
	}
	if width < 0 {
		return nil
	}
	longest := make([]int, len(keep))
	for n, i := range keep {
		longest[n] = text.StringWidthWithoutEscSequences(t.Header[i])
		for _, row := range t.Rows {
			longest[n] = max(longest[n], text.StringWidthWithoutEscSequences(row[i]))
		}
	}
	avail := width - 1
	var long []int // indexes into keep, shortest first
	for n, l := range longest {
		avail -= 3 // borders and padding
		if l > wrapFrom {
			long = append(long, n)
		} else {
			avail -= l
		}
	}
	sort.Slice(long, func(a, b int) bool { return longest[long[a]] < longest[long[b]] })
	var cfg []table.ColumnConfig
	for k, n := range long {
		share := max(wrapFrom, avail/(len(long)-k))
		if longest[n] <= share {
			avail -= longest[n]
			continue
		}
		avail -= share
		cfg = append(cfg, table.ColumnConfig{Number: n + 1, WidthMax: share, WidthMaxEnforcer: text.WrapSoft})
	}
	sort.Slice(cfg, func(a, b int) bool { return cfg[a].Number < cfg[b].Number })
	return cfg
}
