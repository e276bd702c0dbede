// Package graphcache keeps the native code the graph layout library
// compiles in the user's own cache directory, not in a shared temporary
// one.
//
// The graph layout library (github.com/goccy/go-graphviz) runs Graphviz
// as WebAssembly (wazero) and compiles it to native code when the program
// starts, caching the code in os.TempDir()/go-graphviz: a directory it
// creates readable by all, and uses whoever created it. On a machine
// shared with others (/tmp) anyone could put native code there for
// flowaudit to run. Package initialisation runs this package before the
// library's (its import path sorts first and it needs only the standard
// library; the Go specification orders initialisation so), and it points
// TMPDIR, for the library's initialisation only, at flowaudit's directory
// in the user's cache directory (os.UserCacheDir: $XDG_CACHE_HOME or
// ~/.cache on Linux), created private (0700) and used only when it is the
// user's own and writable by nobody else, in directories no other user
// can change (links resolved: one planted in /tmp is followed to a
// directory of the other user's, refused). Without such a directory the
// library finds no cache directory and compiles Graphviz at every start
// (about 0.4 s). The report package, initialised after the library, puts
// TMPDIR back (Restore).
package graphcache

import (
	"os"
	"path/filepath"
)

// Dir is the directory the library's cache was pointed at ("" when there
// was none that was safe, or on a platform this package leaves alone).
var Dir string

// restore puts TMPDIR back as it was.
var restore = func() {}

// unsafeDir makes the library's cache directory impossible to create: it
// then keeps no cache.
const unsafeDir = "/nonexistent/flowaudit-no-graph-cache"

func init() {
	if !supported {
		return
	}
	prev, had := os.LookupEnv("TMPDIR")
	restore = func() {
		if had {
			os.Setenv("TMPDIR", prev)
		} else {
			os.Unsetenv("TMPDIR")
		}
	}
	dir := privateDir()
	if dir == "" {
		os.Setenv("TMPDIR", unsafeDir)
		return
	}
	Dir = dir
	os.Setenv("TMPDIR", dir)
}

// privateDir is flowaudit's cache directory, made if missing, when it is
// a directory of the user's own that no one else can write, in
// directories no one else can change (heldSafe), with its links resolved.
func privateDir() string {
	base, err := os.UserCacheDir()
	if err != nil || !filepath.IsAbs(base) {
		return ""
	}
	dir := filepath.Join(base, "flowaudit")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return ""
	}
	if !private(dir) {
		return ""
	}
	// The directories above it, links followed ($XDG_CACHE_HOME may be
	// a link another user planted in /tmp), must be no one else's to
	// change: the library is given the path with no links.
	real, err := filepath.EvalSymlinks(dir)
	if err != nil || !private(real) || !heldSafe(real) {
		return ""
	}
	return real
}

// Restore puts TMPDIR back as it was before this package's
// initialisation; the report package calls it once the library is
// initialised.
func Restore() {
	restore()
	restore = func() {}
}
