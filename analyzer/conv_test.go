package analyzer

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/flowaudit/flowaudit/analyzer/capturetest"
	"github.com/flowaudit/flowaudit/analyzer/decode"
	"github.com/flowaudit/flowaudit/analyzer/flow"
)

var update = flag.Bool("update", false, "rewrite golden files (the tshark counts need tshark on PATH)")

const convGolden = "testdata/tshark-conv.txt"

// convCounts are TCP and UDP conversation counts.
type convCounts struct{ tcp, udp int }

type convGoldenFile struct {
	header    []string
	tshark    map[string]convCounts
	flowaudit map[string]convCounts // documented differences
	notes     []string              // the "flowaudit" lines, verbatim
}

var (
	tsharkLine = regexp.MustCompile(`^(\S+)\s+tcp=(\d+)\s+udp=(\d+)\s*$`)
	diffLine   = regexp.MustCompile(`^flowaudit\s+(\S+)\s+tcp=(\d+)\s+udp=(\d+)\s+#\s*\S.*$`)
)

func readConvGolden(t *testing.T) convGoldenFile {
	t.Helper()
	g := convGoldenFile{tshark: map[string]convCounts{}, flowaudit: map[string]convCounts{}}
	f, err := os.Open(convGolden)
	if err != nil {
		if os.IsNotExist(err) && *update {
			return g
		}
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		s := sc.Text()
		atoi := func(v string) int { n, _ := strconv.Atoi(v); return n }
		switch {
		case s == "" || strings.HasPrefix(s, "#"):
			if len(g.tshark) == 0 && len(g.notes) == 0 {
				g.header = append(g.header, s)
			}
		case diffLine.MatchString(s):
			m := diffLine.FindStringSubmatch(s)
			g.flowaudit[m[1]] = convCounts{atoi(m[2]), atoi(m[3])}
			g.notes = append(g.notes, s)
		case tsharkLine.MatchString(s):
			m := tsharkLine.FindStringSubmatch(s)
			g.tshark[m[1]] = convCounts{atoi(m[2]), atoi(m[3])}
		default:
			t.Fatalf("%s:%d: cannot read %q", convGolden, line, s)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return g
}

// tsharkConv runs tshark's conversation statistics on one file and counts
// the TCP and UDP conversation lines.
func tsharkConv(t *testing.T, path string) convCounts {
	out, _ := exec.Command("tshark", "-n", "-r", path, "-q", "-z", "conv,tcp", "-z", "conv,udp").Output()
	var c convCounts
	var sec *int
	for _, l := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(l, "TCP Conversations"):
			sec = &c.tcp
		case strings.HasPrefix(l, "UDP Conversations"):
			sec = &c.udp
		case sec != nil && strings.Contains(l, "<->"):
			*sec++
		}
	}
	return c
}

func writeConvGolden(t *testing.T, g convGoldenFile, files []string) {
	t.Helper()
	ver, err := exec.Command("tshark", "--version").Output()
	if err != nil {
		t.Fatalf("-update needs tshark: %v", err)
	}
	version := strings.TrimSuffix(strings.TrimSpace(strings.SplitN(string(ver), "\n", 2)[0]), ".")
	var b strings.Builder
	fmt.Fprintf(&b, `# TCP and UDP conversation counts of every capture in ../shared/captures,
# from %s, run on each FILE as:
#   tshark -n -r FILE -q -z conv,tcp -z conv,udp
# counting the lines with "<->" in its "TCP Conversations" and "UDP
# Conversations" tables. Regenerate with
#   go test ./analyzer/ -run TestTsharkConversations -update
# which keeps the "flowaudit" lines below.
#
# TestTsharkConversations checks that flowaudit finds the same number of
# TCP and UDP connections. A line
#   flowaudit FILE tcp=N udp=M # reason
# records a legitimate difference: flowaudit's count and why it differs.
#
`, version)
	for _, f := range files {
		c := tsharkConv(t, capturetest.Path(t, f))
		fmt.Fprintf(&b, "%s tcp=%d udp=%d\n", f, c.tcp, c.udp)
	}
	if len(g.notes) > 0 {
		b.WriteString("\n# Differences.\n")
		for _, n := range g.notes {
			b.WriteString(n + "\n")
		}
	}
	if err := os.MkdirAll(filepath.Dir(convGolden), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(convGolden, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// flowCounts runs the pipeline on one file and counts TCP and UDP
// connections. A read error is fine here: the counts cover what was read.
func flowCounts(t *testing.T, path string) (convCounts, *Result, error) {
	t.Helper()
	var c convCounts
	res, err := Run([]string{path}, Options{OnConnection: func(fc *flow.Connection) {
		switch fc.Proto {
		case decode.ProtoTCP:
			c.tcp++
		case decode.ProtoUDP:
			c.udp++
		}
	}})
	if res == nil {
		t.Fatalf("%s: no result: %v", path, err)
	}
	return c, res, err
}

// TestTsharkConversations compares flowaudit's TCP and UDP connection
// counts with tshark's conversation counts recorded in the golden file.
func TestTsharkConversations(t *testing.T) {
	dir := capturetest.Dir(t)
	files := capturetest.Files(t)
	g := readConvGolden(t)
	if *update {
		writeConvGolden(t, g, files)
		g = readConvGolden(t)
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			want, ok := g.tshark[f]
			if !ok {
				t.Fatalf("%s is not in %s; run with -update", f, convGolden)
			}
			if d, ok := g.flowaudit[f]; ok {
				want = d
			}
			got, _, _ := flowCounts(t, filepath.Join(dir, f))
			if got != want {
				t.Errorf("tcp=%d udp=%d, want tcp=%d udp=%d", got.tcp, got.udp, want.tcp, want.udp)
			}
		})
	}
	for f := range g.flowaudit {
		if _, ok := g.tshark[f]; !ok {
			t.Errorf("%s: difference noted for a file not in the list", f)
		}
	}
}

// TestTsharkLive reruns tshark, when it is installed, on every shared
// capture and checks the golden counts still hold, so the file cannot drift
// from what tshark says (CI installs tshark for this).
func TestTsharkLive(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed")
	}
	dir := capturetest.Dir(t)
	g := readConvGolden(t)
	for _, f := range capturetest.Files(t) {
		want, ok := g.tshark[f]
		if !ok {
			t.Errorf("%s is not in %s", f, convGolden)
			continue
		}
		if got := tsharkConv(t, filepath.Join(dir, f)); got != want {
			t.Errorf("%s: tshark now says tcp=%d udp=%d, the golden file tcp=%d udp=%d", f, got.tcp, got.udp, want.tcp, want.udp)
		}
	}
}
