package capture

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestShareCloseOnExec: the descriptor a Share keeps is closed on exec,
// as the descriptors Go opens are, so no program started while a capture
// is read inherits it.
func TestShareCloseOnExec(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, make([]byte, 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sh := Share(f, 2)
	if sh == nil {
		t.Fatal("not shared")
	}
	defer sh[0].Close()
	defer sh[1].Close()
	flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(sh[0].(*mapping).sh.fd), syscall.F_GETFD, 0)
	if errno != 0 {
		t.Fatal(errno)
	}
	if flags&syscall.FD_CLOEXEC == 0 {
		t.Error("the shared descriptor is inherited by programs started meanwhile")
	}
}
