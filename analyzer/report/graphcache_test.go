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
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real // the library is given the path without links
	}
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

// TestGraphCacheEnvironments: a cache directory reached through a link
// another user could have planted (to a directory anyone can write, or
// another user's) is not used: the links are followed and every
// directory above the cache must be the user's or root's, writable by no
// one else unless sticky (it used the private directory the link led
// to, which the other user could swap for their own); a relative
// $XDG_CACHE_HOME, no home at all, and a cache directory the user made
// read-only leave the graphs drawn.
func TestGraphCacheEnvironments(t *testing.T) {
	if os.Getenv("GRAPHCACHE_CHILD") == "1" {
		return // TestGraphCacheNotInTemp's child prints what it saw
	}
	if runtime.GOOS == "windows" {
		t.Skip("the temporary directory is the user's own")
	}
	child := func(env ...string) string {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^TestGraphCacheNotInTemp$")
		for _, e := range os.Environ() {
			if !strings.HasPrefix(e, "HOME=") && !strings.HasPrefix(e, "XDG_CACHE_HOME=") && !strings.HasPrefix(e, "TMPDIR=") {
				cmd.Env = append(cmd.Env, e)
			}
		}
		cmd.Env = append(cmd.Env, append([]string{"GRAPHCACHE_CHILD=1"}, env...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if !strings.Contains(string(out), "SVG=true <nil>") {
			t.Errorf("no graph drawn: %s", out)
		}
		return string(out)
	}
	root := t.TempDir()
	anyones := filepath.Join(root, "anyones")
	if err := os.Mkdir(anyones, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(anyones, 0o777)
	link := filepath.Join(root, "planted")
	if err := os.Symlink(anyones, link); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	if out := child("TMPDIR="+tmp, "XDG_CACHE_HOME="+link); !strings.Contains(out, "DIR=\n") {
		t.Errorf("a link to a directory anyone can write: used: %s", out)
	}
	if _, err := os.Stat(filepath.Join(anyones, "flowaudit", "go-graphviz")); err == nil {
		t.Errorf("a cache in a directory anyone can write")
	}
	if os.Getuid() == 0 {
		// Another user's directory (nobody's), writable by them alone.
		other := filepath.Join(root, "others")
		os.Mkdir(other, 0o755)
		if err := os.Chown(other, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		link2 := filepath.Join(root, "planted2")
		os.Symlink(other, link2)
		if out := child("TMPDIR="+tmp, "XDG_CACHE_HOME="+link2); !strings.Contains(out, "DIR=\n") {
			t.Errorf("a link to another user's directory: used: %s", out)
		}
	}
	// A link of the user's own to a private directory: used, by the path
	// the link leads to.
	own := t.TempDir()
	link3 := filepath.Join(t.TempDir(), "cache")
	os.Symlink(own, link3)
	real, _ := filepath.EvalSymlinks(own)
	if out := child("TMPDIR="+tmp, "XDG_CACHE_HOME="+link3); !strings.Contains(out, "DIR="+filepath.Join(real, "flowaudit")+"\n") {
		t.Errorf("the user's own link: %s", out)
	}
	// Relative, or no home at all: no cache, nothing made where it runs.
	if out := child("TMPDIR="+tmp, "XDG_CACHE_HOME=relative"); !strings.Contains(out, "DIR=\n") {
		t.Errorf("relative XDG_CACHE_HOME: %s", out)
	}
	if _, err := os.Stat("relative"); err == nil {
		os.RemoveAll("relative")
		t.Errorf("a relative XDG_CACHE_HOME made a directory where flowaudit ran")
	}
	if out := child("TMPDIR=" + tmp); !strings.Contains(out, "DIR=\n") {
		t.Errorf("no HOME: %s", out)
	}
	// Read-only (the user's choice): graphs still drawn.
	ro := t.TempDir()
	os.Mkdir(filepath.Join(ro, "flowaudit"), 0o500)
	child("TMPDIR="+tmp, "XDG_CACHE_HOME="+ro)
	os.Chmod(filepath.Join(ro, "flowaudit"), 0o700)
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("the temporary directory holds %v", left)
	}
}
