package capture

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/flowaudit/flowaudit/analyzer/capturetest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// sourcesRow is what SOURCES.md says about one file.
type sourcesRow struct {
	format   string // "pcap, little-endian, microsecond"
	linkType int    // LINKTYPE number for pcap files, -1 when not given
	packets  int    // leading number of the Packets column
}

var linkTypeRE = regexp.MustCompile(`\(LINKTYPE (\d+)\)`)

func readSources(t testing.TB, dir string) map[string]sourcesRow {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "SOURCES.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows := map[string]sourcesRow{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "|")
		if len(cols) < 12 || !strings.HasPrefix(cols[0], "") {
			continue
		}
		name := strings.TrimSpace(cols[1])
		if !strings.Contains(name, ".") || name == "File" {
			continue
		}
		row := sourcesRow{format: strings.TrimSpace(cols[5]), linkType: -1}
		if m := linkTypeRE.FindStringSubmatch(cols[6]); m != nil && strings.HasPrefix(row.format, "pcap,") {
			row.linkType, _ = strconv.Atoi(m[1])
		}
		num := strings.Fields(cols[7])
		if len(num) == 0 {
			t.Fatalf("SOURCES.md: %s: no packet count", name)
		}
		if row.packets, err = strconv.Atoi(num[0]); err != nil {
			t.Fatalf("SOURCES.md: %s: packet count %q", name, cols[7])
		}
		rows[name] = row
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// sourcesExceptions are files where this reader (like libpcap and pcapgo)
// reads a different number of packets than SOURCES.md, which was measured
// with Wireshark 4.0.
var sourcesExceptions = map[string]struct {
	packets int
	why     string
}{
	"sv-bug-6875-01-fuzz.pcap": {1, "Wireshark guesses a pcap variant with 24-byte record headers for this file " +
		"(its 2nd 'packet' has a timestamp of -1409179648 s); read as the standard pcap its magic says it is, " +
		"the 2nd record header (offset 228) claims 1409179648 bytes, as libpcap also reports"},
}

// fileSummary is what reading one capture gives, as kept in the golden file.
type fileSummary struct {
	name        string
	format      string
	packets     int
	linkTypes   map[uint32]int
	frames      []uint64 // pcapng only: Wireshark frame numbers
	first, last int64
	interfaces  map[string]int // "section/interface" -> packets
	err         string
	errIs       string
}

func summarize(t testing.TB, path string) fileSummary {
	t.Helper()
	s := fileSummary{name: filepath.Base(path), linkTypes: map[uint32]int{}, interfaces: map[string]int{}, first: -1, last: -1}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := NewReader(s.name, f) // base name, so messages do not depend on the checkout
	if err == nil {
		defer r.Close()
		s.format = r.Detail()
		var prev Packet
		for {
			var p *Packet
			p, err = r.Next()
			if err != nil {
				break
			}
			if s.packets > 0 && (p.Offset <= prev.Offset || p.Frame <= prev.Frame) {
				t.Errorf("%s: frame %d at offset %d after frame %d at %d", s.name, p.Frame, p.Offset, prev.Frame, prev.Offset)
			}
			if len(p.Data) != p.CaptureLength || p.CaptureLength > p.Length {
				t.Errorf("%s: frame %d: %d bytes, capture length %d, length %d", s.name, p.Frame, len(p.Data), p.CaptureLength, p.Length)
			}
			s.packets++
			s.linkTypes[p.LinkType]++
			if s.first < 0 {
				s.first = p.Offset
			}
			s.last = p.Offset
			if strings.HasPrefix(s.format, "pcapng") {
				s.frames = append(s.frames, p.Frame)
				s.interfaces[fmt.Sprintf("%d/%d", p.Section, p.InterfaceIndex)]++
			}
			prev = *p
		}
	}
	if err == io.EOF {
		return s
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Errorf("%s: error %T %v is not *Error", s.name, err, err)
		s.err = err.Error()
		return s
	}
	s.err = e.Error()
	for _, c := range []struct {
		name string
		err  error
	}{{"ErrEmpty", ErrEmpty}, {"ErrUnknownFormat", ErrUnknownFormat}, {"ErrTruncated", ErrTruncated}, {"ErrCorrupt", ErrCorrupt}, {"ErrUnsupported", ErrUnsupported}} {
		if errors.Is(err, c.err) {
			s.errIs = c.name
		}
	}
	return s
}

func (s fileSummary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "file: %s\n", s.name)
	fmt.Fprintf(&b, "  format: %s\n", s.format)
	fmt.Fprintf(&b, "  packets: %d\n", s.packets)
	var lts []uint32
	for lt := range s.linkTypes {
		lts = append(lts, lt)
	}
	sort.Slice(lts, func(i, j int) bool { return lts[i] < lts[j] })
	var parts []string
	for _, lt := range lts {
		parts = append(parts, fmt.Sprintf("%d x%d", lt, s.linkTypes[lt]))
	}
	fmt.Fprintf(&b, "  link types: %s\n", strings.Join(parts, ", "))
	if s.packets > 0 {
		fmt.Fprintf(&b, "  offsets: first %d, last %d\n", s.first, s.last)
	}
	if len(s.frames) > 0 {
		var fr []string
		for _, f := range s.frames {
			fr = append(fr, strconv.FormatUint(f, 10))
		}
		fmt.Fprintf(&b, "  frames: %s\n", strings.Join(fr, " "))
		var ifs []string
		for k := range s.interfaces {
			ifs = append(ifs, k)
		}
		sort.Strings(ifs)
		parts = parts[:0]
		for _, k := range ifs {
			parts = append(parts, fmt.Sprintf("%s x%d", k, s.interfaces[k]))
		}
		fmt.Fprintf(&b, "  section/interface: %s\n", strings.Join(parts, ", "))
	}
	if s.err == "" {
		fmt.Fprintf(&b, "  error: none\n")
	} else {
		fmt.Fprintf(&b, "  error: %s [%s]\n", s.err, s.errIs)
	}
	return b.String()
}

const goldenHeader = `# Expected result of reading every file in ../shared/captures with this
# package: container, packets, link types, record offsets, Wireshark frame
# numbers (pcapng), section/interface use and the exact error.
# Regenerate with: go test ./analyzer/capture -update
#
# How the expectations were obtained and checked:
# - TestSharedCaptures also asserts, independently of this file, that the
#   packet count, the container description and (for pcap) the link type
#   equal SOURCES.md, which was measured with capinfos/tshark (Wireshark 4.x);
#   the one exception is listed in sourcesExceptions in files_test.go.
# - Counts, errors and pcapng frame numbers were cross-checked by hand with
#   capinfos and tshark 4.0.17 (Debian 12): capinfos -c reports the same
#   counts; for fuzz-2021-10-13.pcap both read 1 packet (pcap 2.0: lengths
#   swapped) and then find the file cut short; for gopacket-le-test901.pcapng
#   both stop at the SHB of version 2.0 after 1 packet; tshark numbers the
#   pcapng custom blocks of gopacket-be-test202.pcapng as frames 1, 7 and 10,
#   so its packets are frames 2 3 4 5 6 8 9 11, as below.
# - For sv-bug-6875-01-fuzz.pcap tshark shows 2 packets because it reads the
#   file as a pcap variant with 24-byte record headers; read as standard pcap
#   (libpcap, pcapgo, this reader) the 2nd record header is impossible.

`

func TestSharedCaptures(t *testing.T) {
	dir := capturetest.Dir(t)
	sources := readSources(t, dir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	out.WriteString(goldenHeader)
	seen := 0
	for _, e := range entries {
		if e.IsDir() || e.Name() == "SOURCES.md" {
			continue
		}
		seen++
		s := summarize(t, filepath.Join(dir, e.Name()))
		out.WriteString(s.String())
		out.WriteString("\n")

		src, ok := sources[e.Name()]
		if !ok {
			t.Errorf("%s: not in SOURCES.md", e.Name())
			continue
		}
		want := src.packets
		if ex, ok := sourcesExceptions[e.Name()]; ok {
			want = ex.packets
		}
		if s.packets != want {
			t.Errorf("%s: %d packets, SOURCES.md says %d", e.Name(), s.packets, want)
		}
		if s.format != src.format {
			t.Errorf("%s: format %q, SOURCES.md says %q", e.Name(), s.format, src.format)
		}
		if src.linkType >= 0 && s.packets > 0 && s.linkTypes[uint32(src.linkType)] != s.packets {
			t.Errorf("%s: link types %v, SOURCES.md says %d", e.Name(), s.linkTypes, src.linkType)
		}
	}
	if seen != len(sources) {
		t.Errorf("%d capture files, SOURCES.md lists %d", seen, len(sources))
	}
	capturetest.Golden(t, filepath.Join("testdata", "shared-captures.golden"), []byte(out.String()), *update)
}
