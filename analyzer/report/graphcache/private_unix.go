//go:build unix

package graphcache

import (
	"os"
	"path/filepath"
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

// heldSafe says whether no other user can move anything in or out of
// the directories above dir (a path with no links): each is owned by
// this user or root and writable by no one else, or sticky (/tmp: a
// user's entries there are theirs to move). Otherwise another user could
// swap a private dir for one of their own between the check and its use.
func heldSafe(dir string) bool {
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		st, err := os.Lstat(p)
		if err != nil || !st.IsDir() {
			return false
		}
		sys, ok := st.Sys().(*syscall.Stat_t)
		if !ok || sys.Uid != 0 && int(sys.Uid) != os.Getuid() {
			return false
		}
		if st.Mode().Perm()&0o022 != 0 && st.Mode()&os.ModeSticky == 0 {
			return false
		}
		if p == filepath.Dir(p) {
			return true
		}
	}
}
