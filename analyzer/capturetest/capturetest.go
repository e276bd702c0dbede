// Package capturetest finds the public captures kept beside the
// repository (../shared/captures, listed in its SOURCES.md) for the tests
// of the reader, decoder, tracker and commands, skipping a test cleanly
// when they are absent, and checks the golden files made from them.
package capturetest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
)

// Dir is the shared captures folder; the test is skipped when it is
// absent.
func Dir(t testing.TB) string {
	t.Helper()
	dir := path()
	if _, err := os.Stat(filepath.Join(dir, "SOURCES.md")); err != nil {
		t.Skipf("shared captures not available: %v", err)
	}
	return dir
}

// Path is the path of one shared capture; the test is skipped when the
// folder is absent.
func Path(t testing.TB, name string) string {
	t.Helper()
	return filepath.Join(Dir(t), name)
}

// Files are the capture files' names, sorted, without SOURCES.md.
func Files(t testing.TB) []string {
	t.Helper()
	ents, err := os.ReadDir(Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if e.Type().IsRegular() && !strings.HasSuffix(e.Name(), ".md") {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// path is ../shared/captures from the repository root, found from this
// file's location so every package's tests agree whatever their depth.
func path() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return filepath.Join("..", "shared", "captures")
	}
	root := filepath.Join(filepath.Dir(file), "..", "..")
	return filepath.Join(root, "..", "shared", "captures")
}

// Golden compares got with the golden file at path, or rewrites the file
// when update is set (the -update flag of the calling test). A difference
// is reported line by line.
func Golden(t testing.TB, path string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update)", err)
	}
	if string(got) != string(want) {
		t.Errorf("result differs from %s (check, then run the test with -update):\n%s", path, lineDiff(string(want), string(got)))
	}
}

// lineDiff lists the lines that differ, for a readable failure.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want %q\n  got  %q\n", i+1, wl, gl)
		}
	}
	return b.String()
}
