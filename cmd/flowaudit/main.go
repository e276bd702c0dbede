// Command flowaudit checks packet captures from remote-desktop and
// unified-communications pilots against the vendors' documented ports.
package main

import (
	"os"

	"github.com/flowaudit/flowaudit/analyzer/gcpace"
)

// gcFloor is the heap the collector lets a run grow to before it first
// collects (package gcpace): the make-bench analysis, 97,101 services,
// fits under it.
const gcFloor = 256 << 20

func main() {
	gcpace.Start(gcFloor)
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
