// Package capturetest finds the public captures kept beside the
// repository (../shared/captures, listed in its SOURCES.md) for the tests
// of the reader, decoder, tracker and commands, and skips a test cleanly
// when they are absent.
package capturetest

import (
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
