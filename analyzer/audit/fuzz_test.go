package audit

import "testing"

// FuzzParseWaivers: any bytes give waivers or file:line errors, never a
// panic, and accepted waivers always carry a reason and a ticket.
func FuzzParseWaivers(f *testing.F) {
	f.Add([]byte("waivers:\n  - {client: client1, server: 192.0.2.10, proto: tcp, port: 8443, reason: r, ticket: t}\n"))
	f.Add([]byte("waivers:\n  - {rule: c-usb, reason: r, ticket: t, expires: 2026-01-31}\n"))
	f.Add([]byte("waivers:\n  - {server: 10.0.0.0/8, port: 1-100, reason: r, ticket: t}\n"))
	cat, inv := fixture(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		ws, err := ParseWaivers("fuzz.yaml", data, inv, cat)
		if err != nil {
			return
		}
		for _, w := range ws.List {
			if w.Reason == "" || w.Ticket == "" {
				t.Fatalf("waiver without reason or ticket accepted: %+v", w)
			}
		}
	})
}
