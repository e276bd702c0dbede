// Command flowaudit checks packet captures from remote-desktop and
// unified-communications pilots against the vendors' documented ports.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
