package catalog

import "testing"

// BenchmarkLoad is the start-up cost every command that reads the embedded
// catalog pays once.
func BenchmarkLoad(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(); err != nil {
			b.Fatal(err)
		}
	}
}
