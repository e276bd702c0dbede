package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"
	"github.com/spf13/pflag"
)

// newFlagSet is a GNU-style flag set whose errors come back to the caller
// instead of exiting, with the command's help text as its usage.
func newFlagSet(name, help string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SortFlags = false
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	fs.SetInterspersed(true)
	_ = help
	return fs
}

// parseFlags parses args; it prints help and returns done for --help, and a
// usage error for anything wrong.
func (e *env) parseFlags(fs *pflag.FlagSet, help string, args []string) (done bool, err error) {
	if err := fs.Parse(args); err != nil {
		if err == pflag.ErrHelp {
			fmt.Fprint(e.stdout, help)
			fmt.Fprintf(e.stdout, "\nFlags:\n%s", fs.FlagUsages())
			return true, nil
		}
		return true, usagef("%s: %v (see 'flowaudit %s --help')", fs.Name(), err, fs.Name())
	}
	return false, nil
}

// checkFormat validates a --format value against the allowed ones.
func checkFormat(cmd, format string, allowed ...string) error {
	for _, a := range allowed {
		if format == a {
			return nil
		}
	}
	return usagef("%s: unknown format %q: want %s", cmd, format, strings.Join(allowed, ", "))
}

// newTable is a go-pretty table in the house style: light lines, bold
// header when colours are allowed.
func (e *env) newTable(header ...any) table.Writer {
	t := table.NewWriter()
	t.SetOutputMirror(e.stdout)
	style := table.StyleLight
	if !e.color {
		style.Color = table.ColorOptions{}
		style.Format.Header = text.FormatUpper
	} else {
		style.Color.Header = text.Colors{text.Bold}
	}
	t.SetStyle(style)
	row := table.Row{}
	row = append(row, header...)
	t.AppendHeader(row)
	return t
}

// writeJSON writes v as indented JSON with a trailing newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// writeCSV writes a header and rows.
func writeCSV(w io.Writer, header []string, rows [][]string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}
