package report

import (
	"fmt"
	"io"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"
)

// TextOptions steer the terminal table.
type TextOptions struct {
	Color bool // ANSI colours (a terminal, NO_COLOR unset)
	Width int  // wrap long cells to fit; 0 for no limit
}

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
func (r *Report) Text(w io.Writer, o TextOptions) error {
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
	fmt.Fprintf(w, "%s %s: %s\n", r.Tool, r.Version, captureList(r))
	for _, t := range r.AllTables() {
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
		var cfg []table.ColumnConfig
		if o.Width > 0 {
			limit := max(20, o.Width/len(keep))
			for n := range keep {
				cfg = append(cfg, table.ColumnConfig{Number: n + 1, WidthMax: limit, WidthMaxEnforcer: text.WrapSoft})
			}
		}
		tw.SetColumnConfigs(cfg)
		for _, row := range t.Rows {
			out := table.Row{}
			for _, i := range keep {
				out = append(out, row[i])
			}
			tw.AppendRow(out)
		}
		tw.Render()
	}
	return nil
}
