// Package firewalltest runs the firewalls' own checkers (nft -c -f,
// iptables-restore --test, ip6tables-restore --test) on the requests
// flowaudit rules writes, for the tests of the firewall package and the
// command, skipping cleanly when a tool is absent or may not run here.
package firewalltest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Debian packages of the checkers, for skip messages.
var packages = map[string]string{"nft": "nftables", "iptables-restore": "iptables", "ip6tables-restore": "iptables"}

// Check runs tool with args, with standard input from the file stdin when
// it is not "", and fails the test with the tool's output when it rejects
// the input. The checkers talk to the kernel's netfilter, which needs
// CAP_NET_ADMIN: without it (not root, or a container without the
// capability) the check is retried in a user and network namespace of its
// own (unshare -rn), and skipped when that is not allowed either.
func Check(t testing.TB, stdin, tool string, args ...string) {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		t.Skipf("%s not installed (Debian package %s; .ci/run installs it)", tool, packages[tool])
	}
	out, err := run(stdin, path, args...)
	if err != nil && denied(out) {
		if u, uerr := exec.LookPath("unshare"); uerr == nil {
			out, err = run(stdin, u, append([]string{"-rn", path}, args...)...)
		}
		if err != nil && denied(out) {
			t.Skipf("%s may not use netfilter here (needs CAP_NET_ADMIN): %s", tool, out)
		}
	}
	if err != nil {
		t.Fatalf("%s %s rejected the request: %v\n%s", tool, strings.Join(args, " "), err, out)
	}
}

func run(stdin, name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	if stdin != "" {
		f, err := os.Open(stdin)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		cmd.Stdin = f
	}
	return cmd.CombinedOutput()
}

// denied says whether a checker's output is a permission failure, not a
// verdict on its input.
func denied(out []byte) bool {
	s := strings.ToLower(string(out))
	return strings.Contains(s, "permission denied") || strings.Contains(s, "operation not permitted") ||
		strings.Contains(s, "you must be root") || strings.Contains(s, "unshare failed")
}
