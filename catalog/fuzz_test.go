package catalog

import (
	"testing"
)

// FuzzParse: any bytes as a catalog file give roles and rules or errors
// with a position, never a panic.
func FuzzParse(f *testing.F) {
	f.Add([]byte(semantics))
	f.Add([]byte("rules:\n  - {id: a, from: Any, to: Any, protocols: [tcp], ports: \"1-2, 5..9, 6891 -6901\"}\n"))
	f.Add([]byte("roles:\n  - {id: g, name: G, product: p, members: [g]}\n"))
	f.Add([]byte("document: {product: x}\nrules: [{id: s, from: A, to: A, same_as: {from: A, to: A}}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pf, errs := parse("fuzz.yaml", data)
		for _, e := range errs {
			if e.File != "fuzz.yaml" {
				t.Fatalf("error without the file name: %v", e)
			}
		}
		c, berrs := build([]parsedFile{pf})
		if len(berrs) == 0 {
			for _, r := range c.Rules() {
				if r.ID == "" || (len(r.Protocols) == 0) {
					t.Fatalf("incomplete rule accepted: %+v", r)
				}
			}
		}
	})
}

// FuzzParsePorts: port text either parses to valid sorted ranges or errs.
func FuzzParsePorts(f *testing.F) {
	for _, s := range []string{"443", "80, 443", "16500..16509", "49152–65535", "6891 -6901", "1024-65535*", "67/68", "none", "x-y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rs, err := ParsePorts(s)
		if err != nil {
			return
		}
		for i, r := range rs {
			if r.Lo > r.Hi || i > 0 && rs[i-1].Hi >= r.Lo {
				t.Fatalf("ParsePorts(%q) = %v: unsorted or overlapping", s, rs)
			}
		}
	})
}
