package report

import (
	"fmt"
	"io"
	"strings"
)

// Formats are the formats a report is written in; "table" is the
// terminal's.
var Formats = []string{"table", "markdown", "json", "csv", "html", "dot"}

// DiffFormats are the formats a diff is written in.
var DiffFormats = []string{"table", "markdown", "json", "html"}

// Write writes the report in format; o only affects the table.
func (r *Report) Write(w io.Writer, format string, o TextOptions) error {
	switch format {
	case "table":
		return r.Text(w, o)
	case "markdown":
		return r.Markdown(w)
	case "json":
		return r.JSON(w)
	case "csv":
		return r.CSV(w)
	case "html":
		return r.HTML(w)
	case "dot":
		return r.Graph().DOT(w)
	}
	return fmt.Errorf("unknown report format %q: want %s", format, strings.Join(Formats, ", "))
}

// Write writes the diff in format; o only affects the table.
func (d *Diff) Write(w io.Writer, format string, o TextOptions) error {
	switch format {
	case "table":
		return d.Text(w, o)
	case "markdown":
		return d.Markdown(w)
	case "json":
		return d.JSON(w)
	case "html":
		return d.HTML(w)
	}
	return fmt.Errorf("unknown diff format %q: want %s", format, strings.Join(DiffFormats, ", "))
}
