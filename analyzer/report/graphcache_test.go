package report

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/flowaudit/flowaudit/analyzer/report/graphcache"
)

// TestGraphCacheNotInTemp: the layout library's compiled Graphviz is kept
// in flowaudit's directory of the user's cache directory, made private,
// never in the temporary directory (where another user could have put
// code for it to run); TMPDIR is as it was for the rest of the program;
// without a cache directory the library keeps no cache at all and still
// lays out graphs. Each case runs this test binary afresh (what is tested
// happens at package initialisation).
func TestGraphCacheNotInTemp(t *testing.T) {
	if os.Getenv("GRAPHCACHE_CHILD") == "1" {
		svg, err := testReport(t).Graph().SVG(context.Background())
		fmt.Printf("TMPDIR=%s\nDIR=%s\nSVG=%v %v\n", os.Getenv("TMPDIR"), graphcache.Dir, len(svg) > 100, err)
		return
	}
	if runtime.GOOS == "windows" {
		t.Skip("the temporary directory is the user's own")
	}
	child := func(env ...string) string {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^TestGraphCacheNotInTemp$")
		cmd.Env = append(os.Environ(), append([]string{"GRAPHCACHE_CHILD=1"}, env...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return string(out)
	}
	tmp, cache := t.TempDir(), t.TempDir()
	out := child("TMPDIR="+tmp, "XDG_CACHE_HOME="+cache)
	dir := filepath.Join(cache, "flowaudit")
	if !strings.Contains(out, "TMPDIR="+tmp+"\n") || !strings.Contains(out, "DIR="+dir+"\n") || !strings.Contains(out, "SVG=true <nil>") {
		t.Errorf("child:\n%s", out)
	}
	if st, err := os.Stat(filepath.Join(dir, "go-graphviz")); err != nil || !st.IsDir() {
		t.Errorf("no cache in %s: %v", dir, err)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("%s: %v, mode %v", dir, err, st.Mode())
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("the temporary directory holds %v", left)
	}

	// Another's, or anyone's to write: not used, and nothing cached.
	shared := t.TempDir()
	if err := os.Mkdir(filepath.Join(shared, "flowaudit"), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(shared, "flowaudit"), 0o777); err != nil {
		t.Fatal(err)
	}
	tmp2 := t.TempDir()
	out = child("TMPDIR="+tmp2, "XDG_CACHE_HOME="+shared)
	if !strings.Contains(out, "TMPDIR="+tmp2+"\n") || !strings.Contains(out, "DIR=\n") || !strings.Contains(out, "SVG=true <nil>") {
		t.Errorf("world-writable cache directory: child:\n%s", out)
	}
	if left, _ := os.ReadDir(tmp2); len(left) > 0 {
		t.Errorf("the temporary directory holds %v", left)
	}
	if left, _ := os.ReadDir(filepath.Join(shared, "flowaudit")); len(left) > 0 {
		t.Errorf("the world-writable directory holds %v", left)
	}
}
