package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"
)

// TextOptions steer the terminal table.
type TextOptions struct {
	Color bool // ANSI colours (a terminal, NO_COLOR unset)
	Width int  // fit the tables to this many columns; 0 for DefaultWidth, negative for no limit
	// Wide shows every column (filters, rules, reasons, hashes), wrapped
	// at word boundaries, instead of one line per row of short columns.
	Wide bool
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
	if note := r.FrameNote(); note != "" {
		fmt.Fprintf(w, "Note: %s.\n", note)
	}
	if reasons := r.Incomplete(); len(reasons) > 0 {
		head := "INCOMPLETE REPORT: not every frame of the captures was analysed"
		if o.Color {
			head = text.Colors{text.FgRed, text.Bold}.Sprint(head)
		}
		fmt.Fprintf(w, "\n%s\n", head)
		for _, why := range reasons {
			fmt.Fprintf(w, "  - %s\n", why)
		}
	}
	// The findings' rows past what the tables show are not made.
	writeTextTables(w, r.tablesUpTo(o.rowLimit()), o)
	return w.err
}

// rowLimit is how many rows a table shows: MaxRows, DefaultMaxRows for 0,
// or negative for all.
func (o TextOptions) rowLimit() int {
	if o.MaxRows == 0 {
		return DefaultMaxRows
	}
	return o.MaxRows
}

// writeTextTables writes tables as go-pretty tables, each under its title.
// By default each table shows its short columns, fitted to o.Width with
// one line per row (see fitColumns); with o.Wide every column, wrapped at
// word boundaries.
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
		if t.WideOnly && !o.Wide {
			continue
		}
		fmt.Fprintf(w, "\n%s\n", title(t))
		if t.Note != "" {
			fmt.Fprintf(w, "  Note: %s\n", t.Note)
		}
		if len(t.Rows) == 0 && t.More == 0 {
			fmt.Fprintln(w, "  none")
			continue
		}
		tw := table.NewWriter()
		tw.SetOutputMirror(w)
		style := table.StyleLight
		// No outer border and no column rules: two spaces between
		// columns leave the width to the cells.
		style.Options.DrawBorder = false
		style.Options.SeparateColumns = false
		if !o.Color {
			style.Color = table.ColorOptions{}
		} else {
			style.Color.Header = text.Colors{text.Bold}
		}
		style.Format.Header = text.FormatDefault
		style.Format.Footer = text.FormatDefault
		tw.SetStyle(style)
		rows, cut := t.Rows, t.More
		if limit := o.rowLimit(); limit >= 0 && len(rows) > limit {
			rows, cut = rows[:limit], cut+len(rows)-limit
		}
		var keep []int
		for i := range t.Header {
			if o.Wide || !t.Wide[i] && !emptyColumn(rows, i) {
				keep = append(keep, i)
			}
		}
		var cells [][]string
		var cfg []table.ColumnConfig
		for {
			cells = make([][]string, len(rows))
			for r, row := range rows {
				cells[r] = make([]string, len(keep))
				for n, i := range keep {
					cells[r][n] = row[i]
					if !o.Wide && t.Brief[i] {
						cells[r][n] = brief(row[i])
					}
					if short := t.Short[i]; !o.Wide && r < len(short) {
						cells[r][n] = short[r]
					}
				}
			}
			var fits bool
			cfg, fits = fitColumns(t, keep, cells, o)
			if fits || o.Wide {
				break
			}
			// Too wide even with the Cut columns at their narrowest:
			// leave out the last of them (--wide and the other formats
			// have it).
			last := -1
			for n, i := range keep {
				if t.Cut[i] {
					last = n
				}
			}
			if last < 0 {
				break
			}
			keep = append(keep[:last:last], keep[last+1:]...)
		}
		hdr := table.Row{}
		for _, i := range keep {
			hdr = append(hdr, t.Header[i])
		}
		tw.AppendHeader(hdr)
		tw.SetColumnConfigs(cfg)
		for _, row := range cells {
			out := make(table.Row, len(row))
			for n, c := range row {
				out[n] = c
			}
			tw.AppendRow(out)
		}
		tw.Render()
		if cut > 0 {
			fmt.Fprintf(w, "  … and %d more rows: --format csv, json, markdown or html lists them all\n", cut)
		}
	}
}

// emptyColumn reports whether column i is empty in every row (and there is
// a row): the terminal's default view leaves it out (a "Host names" column
// on a capture without names).
func emptyColumn(rows [][]string, i int) bool {
	for _, row := range rows {
		if row[i] != "" {
			return false
		}
	}
	return len(rows) > 0
}

// brief drops a cell's trailing parenthesis: "cs01 (192.0.2.20)" is
// "cs01", "rejected (1 rejected, 0 unanswered)" is "rejected".
func brief(s string) string {
	if !strings.HasSuffix(s, ")") {
		return s
	}
	depth := 0
	for i := len(s) - 1; i >= 0; i-- {
		switch s[i] {
		case ')':
			depth++
		case '(':
			depth--
			if depth == 0 {
				if i > 0 && s[i-1] == ' ' {
					return s[:i-1]
				}
				return s
			}
		}
	}
	return s
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

// columnPadding is what go-pretty adds to each column in the house
// style: a space on each side.
const columnPadding = 2

// minCut is how narrow a column may be shortened with "…".
const minCut = 6

// fitColumns fits the table to o.Width (0: DefaultWidth, negative: no
// limit). Each column starts at its widest cell; while the table is too
// wide, the widest column that may give way loses a character. In the
// default view of a table with Cut columns (names, roles, outcomes), those
// may give way down to minCut and are then shortened with "…", and the
// others keep their width, so that every row stays on one line. In other
// tables (and in every table with --wide) columns are wrapped at word
// boundaries and never made narrower than their longest word, so a rule
// id, an address or a hash is never split. fits says whether the table
// is now no wider than o.Width.
func fitColumns(t Table, keep []int, cells [][]string, o TextOptions) (cfg []table.ColumnConfig, fits bool) {
	width := o.Width
	if width == 0 {
		width = DefaultWidth
	}
	if width < 0 {
		return nil, true
	}
	n := len(keep)
	oneLine := !o.Wide && len(t.Cut) > 0 // rows stay on one line
	widths := make([]int, n)
	floor := make([]int, n)
	for k, i := range keep {
		widths[k] = text.StringWidthWithoutEscSequences(t.Header[i])
		floor[k] = longestWord(t.Header[i])
		for _, row := range cells {
			widths[k] = max(widths[k], text.StringWidthWithoutEscSequences(row[k]))
			floor[k] = max(floor[k], longestWord(row[k]))
		}
		switch {
		case oneLine && t.Cut[i]:
			floor[k] = min(widths[k], max(minCut, text.StringWidthWithoutEscSequences(t.Header[i])))
		case oneLine:
			floor[k] = widths[k] // never wrapped, never cut
		}
	}
	total := n * columnPadding
	for _, w := range widths {
		total += w
	}
	for total > width {
		widest := -1
		for k := range widths {
			if widths[k] > floor[k] && (widest < 0 || widths[k] > widths[widest]) {
				widest = k
			}
		}
		if widest < 0 {
			break // as narrow as it can be without splitting a word
		}
		widths[widest]--
		total--
	}
	for k, i := range keep {
		natural := text.StringWidthWithoutEscSequences(t.Header[i])
		for _, row := range cells {
			natural = max(natural, text.StringWidthWithoutEscSequences(row[k]))
		}
		if widths[k] >= natural {
			continue
		}
		enforcer := text.WrapSoft
		if !o.Wide && t.Cut[i] {
			enforcer = shorten
		}
		cfg = append(cfg, table.ColumnConfig{Number: k + 1, WidthMax: widths[k], WidthMaxEnforcer: enforcer})
	}
	return cfg, total <= width
}

// longestWord is the display width of s's longest space-separated word.
func longestWord(s string) int {
	l := 0
	for _, w := range strings.Fields(s) {
		l = max(l, text.StringWidthWithoutEscSequences(w))
	}
	return l
}

// shorten cuts s to width with "…", at a word boundary when one is in
// the second half of the cut, so "RAS Secure Gateway (Normal mode)" at 20
// is "RAS Secure Gateway…".
func shorten(s string, width int) string {
	if text.StringWidthWithoutEscSequences(s) <= width {
		return s
	}
	if width < 1 {
		return ""
	}
	var b strings.Builder
	w, lastSpace := 0, -1
	for _, r := range s {
		rw := text.RuneWidth(r)
		if w+rw > width-1 {
			break
		}
		if r == ' ' {
			lastSpace = b.Len()
		}
		b.WriteRune(r)
		w += rw
	}
	out := b.String()
	if lastSpace > len(out)/2 {
		out = out[:lastSpace]
	}
	return strings.TrimRight(out, " ,;→(") + "…"
}
