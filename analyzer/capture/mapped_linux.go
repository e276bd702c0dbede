package capture

import "syscall"

// mapRange maps n bytes of the file at off, read-only, with the pages
// populated at once (one system call instead of a fault per page).
func mapRange(fd uintptr, off int64, n int) ([]byte, error) {
	return syscall.Mmap(int(fd), off, n, syscall.PROT_READ, syscall.MAP_SHARED|syscall.MAP_POPULATE)
}

func unmapRange(b []byte) { _ = syscall.Munmap(b) }

// dupFD duplicates fd for a Share, close-on-exec as every descriptor Go
// opens: a program started meanwhile does not inherit it.
func dupFD(fd uintptr) (int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	d, err := syscall.Dup(int(fd))
	if err == nil {
		syscall.CloseOnExec(d)
	}
	return d, err
}

func closeFD(fd int) { _ = syscall.Close(fd) }
