package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Markdown writes the report for a change ticket: a title, then every
// table as a GitHub-flavoured Markdown table.
func (r *Report) Markdown(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# flowaudit report\n\n")
	fmt.Fprintf(bw, "%s %s, generated %s. Captures: %s.\n", r.Tool, r.Version, TS(r.Generated), captureList(r))
	if note := r.FrameNote(); note != "" {
		fmt.Fprintf(bw, "\nNote: %s.\n", mdCell(note, false))
	}
	if reasons := r.Incomplete(); len(reasons) > 0 {
		fmt.Fprintf(bw, "\n> **Incomplete report: not every frame of the captures was analysed.**\n>\n")
		for _, why := range reasons {
			fmt.Fprintf(bw, "> - %s\n", mdCell(why, false))
		}
	}
	tables := r.AllTables()
	writeMarkdownTables(bw, tables[:1])
	fmt.Fprintf(bw, "\n## Graph\n\n%s\n\n```mermaid\n", graphIntro)
	if err := r.Graph().Mermaid(bw); err != nil {
		return err
	}
	fmt.Fprintf(bw, "```\n")
	writeMarkdownTables(bw, tables[1:])
	return bw.Flush()
}

// writeMarkdownTables writes each table under a level-2 heading.
func writeMarkdownTables(bw *bufio.Writer, tables []Table) {
	for _, t := range tables {
		fmt.Fprintf(bw, "\n## %s\n\n", t.Title)
		if t.Intro != "" {
			fmt.Fprintf(bw, "%s\n\n", t.Intro)
		}
		if t.Note != "" {
			fmt.Fprintf(bw, "**Note:** %s\n\n", mdCell(t.Note, false))
		}
		if len(t.Rows) == 0 {
			fmt.Fprintf(bw, "None.\n")
			continue
		}
		fmt.Fprintf(bw, "| %s |\n|%s\n", strings.Join(t.Header, " | "), strings.Repeat(" --- |", len(t.Header)))
		for _, row := range t.Rows {
			cells := make([]string, len(row))
			for i, c := range row {
				cells[i] = mdCell(c, t.Code[i])
			}
			fmt.Fprintf(bw, "| %s |\n", strings.Join(cells, " | "))
		}
	}
}

func captureList(r *Report) string {
	var names []string
	for _, c := range r.Captures {
		names = append(names, c.Path)
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// mdCell escapes a table cell: pipes, newlines, and Markdown markup.
func mdCell(s string, code bool) string {
	if s == "" {
		return ""
	}
	s = strings.ReplaceAll(s, "\n", " ")
	if code {
		return "`" + strings.ReplaceAll(s, "|", "\\|") + "`"
	}
	r := strings.NewReplacer("|", "\\|", "*", "\\*", "_", "\\_", "`", "\\`", "<", "&lt;", ">", "&gt;", "[", "\\[", "]", "\\]")
	return r.Replace(s)
}
