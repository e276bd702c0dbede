//go:build unix

package graphcache

import (
	"os"
	"syscall"
)

const supported = true

// private says whether dir is a directory (not a link) owned by this
// user, neither group- nor world-writable.
func private(dir string) bool {
	st, err := os.Lstat(dir)
	if err != nil || !st.IsDir() || st.Mode().Perm()&0o022 != 0 {
		return false
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	return ok && int(sys.Uid) == os.Getuid()
}
