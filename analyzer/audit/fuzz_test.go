package audit

import (
	"errors"
	"testing"

	"github.com/flowaudit/flowaudit/catalog/yamlfile"
)

// FuzzParseWaivers: any bytes give waivers or file:line errors on a line
// of the file, never a panic, and accepted waivers always carry a reason
// and a ticket.
func FuzzParseWaivers(f *testing.F) {
	f.Add([]byte("waivers:\n  - {client: client1, server: 192.0.2.10, proto: tcp, port: 8443, reason: r, ticket: t}\n"))
	f.Add([]byte("waivers:\n  - {rule: c-usb, reason: r, ticket: t, expires: 2026-01-31}\n"))
	f.Add([]byte("waivers:\n  - {server: 10.0.0.0/8, port: 1-100, reason: r, ticket: t}\n"))
	f.Add([]byte("waivers:\n  - {client: 192.0.2.1/24, reason: r, ticket: t}\n"))
	f.Add([]byte("waivers:\n  - reason: r\n    ticket: t\n    port: [80, 443\n    proto: tcp\n"))
	f.Add([]byte("waivers:\n  - reason: r\n    ticket: t\n   port: 80\n"))
	cat, inv := fixture(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		ws, err := ParseWaivers("fuzz.yaml", data, inv, cat)
		if err != nil {
			// every error points into the file
			var list yamlfile.ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("%v is not a list of file:line errors", err)
			}
			lines := yamlfile.LineCount(data)
			for _, pe := range list {
				if pe.Line < 0 || pe.Line > lines {
					t.Fatalf("%v: line %d of a %d-line file", pe, pe.Line, lines)
				}
			}
			return
		}
		for _, w := range ws.List {
			if w.Reason == "" || w.Ticket == "" {
				t.Fatalf("waiver without reason or ticket accepted: %+v", w)
			}
		}
	})
}
