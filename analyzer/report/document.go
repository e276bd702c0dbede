package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// Document is a report as its JSON document: what `analyze -f json`
// writes and what ReadDocument reads back (for `flowaudit diff`). The
// aliases name the JSON types for other packages, so a field added to the
// JSON report is there for them too.
type (
	Document        = jsonReport
	DocumentFlow    = jsonFlow
	DocumentMissing = jsonMissing
	DocumentCapture = jsonCapture
	DocumentFile    = jsonFile
	DocumentCatalog = jsonCatalog
	DocumentWaiver  = jsonWaiver
	DocumentRule    = jsonRule
)

// ReadDocument reads a JSON report written by `analyze -f json`; name is
// used in error messages. Fields it does not know are ignored (a report
// from a newer flowaudit still reads), but the document must say it is a
// flowaudit report.
func ReadDocument(name string, r io.Reader) (*Document, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var d Document
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("%s: %w", name, positioned(data, err))
	}
	if d.Tool != "flowaudit" {
		return nil, fmt.Errorf("%s: not a flowaudit analyze JSON report (tool %q)", name, d.Tool)
	}
	if dec.More() {
		return nil, fmt.Errorf("%s: offset %d: data after the report's JSON object", name, dec.InputOffset())
	}
	return &d, nil
}

// positioned adds the line and column to a JSON decoding error.
func positioned(data []byte, err error) error {
	var off int64 = -1
	switch e := err.(type) {
	case *json.SyntaxError:
		off = e.Offset
	case *json.UnmarshalTypeError:
		off = e.Offset
	}
	if off < 0 || off > int64(len(data)) {
		return err
	}
	if off > 0 {
		off-- // the offset is past the byte at fault
	}
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := off - int64(bytes.LastIndexByte(data[:off], '\n'))
	return fmt.Errorf("line %d, column %d: %w", line, col, err)
}
