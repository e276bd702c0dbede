// Command pcapgen writes the synthetic captures used by flowaudit's tests,
// samples and benchmarks (see package analyzer/pcapgen).
//
//	pcapgen -kind linktypes [-o testdata/captures]
//	pcapgen -kind flowcases [-o testdata/flowcases]
//	pcapgen -kind samples [-o testdata/samples]
//	pcapgen -kind generate-all [-o testdata]
//	pcapgen -kind bench [-o /tmp/flowaudit-bench.pcap] [-seed N] [-flows N] [-format pcap|pcapng]
//	pcapgen -kind scan [-o /tmp/flowaudit-scan.pcap] [-seed N] [-clients N] [-hosts N] [-ports 22,80,... | -port-count N]
//	pcapgen read FILE...
//	pcapgen sha256 FILE...
//
// read only reads: it counts the packets of each file with pcapgo's
// ZeroCopyReadPacketData, the floor any capture analysis can reach.
// sha256 only hashes: it computes each file's SHA-256 as flowaudit
// analyze does (analyzer.FileSHA256: crypto/sha256 over a memory map of
// the file), the floor of analyze's wall time on any number of cores,
// since one digest runs on one core from the first byte to the last.
package main

import (
	"bufio"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/flowaudit/flowaudit/analyzer"
	"github.com/flowaudit/flowaudit/analyzer/pcapgen"
	"github.com/gopacket/gopacket/pcapgo"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "read" {
		return readFiles(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "sha256" {
		return hashFiles(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("pcapgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	kind := fs.String("kind", "", "what to generate: linktypes, flowcases, samples, generate-all, bench, scan")
	out := fs.String("o", "", "output directory (linktypes, flowcases, samples: the case directory; generate-all: testdata) or file (bench)")
	seed := fs.Uint64("seed", 1, "bench: random seed")
	flows := fs.Int("flows", 200000, "bench: number of flows")
	format := fs.String("format", "pcap", "bench: pcap or pcapng")
	clients := fs.Int("clients", 1, "scan: scanning clients")
	hosts := fs.Int("hosts", 0, "scan: addresses of 10.20.0.0/16 each client probes (0: all 65,536)")
	ports := fs.String("ports", "22,80,135,139,443,445,3389,8080", "scan: ports probed, comma-separated")
	portCount := fs.Int("port-count", 0, "scan: probe ports 1 to N instead of -ports")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: pcapgen -kind linktypes|flowcases|samples|generate-all|bench|scan [-o PATH] [-seed N] [-flows N] [-clients N -hosts N -ports LIST]\n       pcapgen read FILE...\n       pcapgen sha256 FILE...\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "pcapgen: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	var err error
	switch *kind {
	case "linktypes":
		err = genCases(stdout, or(*out, filepath.Join("testdata", "captures")), pcapgen.LinkTypeCases())
	case "flowcases":
		err = genCases(stdout, or(*out, filepath.Join("testdata", "flowcases")), pcapgen.FlowCases())
	case "samples":
		err = genSamples(stdout, or(*out, filepath.Join("testdata", "samples")))
	case "generate-all":
		err = pcapgen.GenerateAll(or(*out, "testdata"))
		if err == nil {
			err = pcapgen.GenerateSamples(filepath.Join(or(*out, "testdata"), "samples"))
		}
		if err == nil {
			fmt.Fprintf(stdout, "regenerated %d files under %s\n", len(pcapgen.LinkTypeCases())+len(pcapgen.FlowCases())+len(pcapgen.SampleCases()), or(*out, "testdata"))
		}
	case "bench":
		err = bench(stdout, or(*out, "/tmp/flowaudit-bench.pcap"), *seed, *flows, *format)
	case "scan":
		err = scan(stdout, or(*out, "/tmp/flowaudit-scan.pcap"), *seed, *clients, *hosts, *ports, *portCount)
	default:
		fs.Usage()
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "pcapgen: %v\n", err)
		return 1
	}
	return 0
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func genCases(stdout io.Writer, dir string, cases []pcapgen.Case) error {
	if err := pcapgen.GenerateCases(dir, cases); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d captures and README.md to %s\n", len(cases), dir)
	return nil
}

// genSamples writes the sample captures (dir/<family>/pilot.pcapng and
// dir/ras/after.pcapng); the hand-written inventories and READMEs next to
// them are left alone.
func genSamples(stdout io.Writer, dir string) error {
	if err := pcapgen.GenerateSamples(dir); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d sample captures to %s\n", len(pcapgen.SampleCases()), dir)
	return nil
}

func bench(stdout io.Writer, path string, seed uint64, flows int, format string) error {
	o := pcapgen.WriteOptions{}
	switch format {
	case "pcap":
	case "pcapng":
		o.Format = pcapgen.FormatPcapNG
	default:
		return fmt.Errorf("unknown format %q (want pcap or pcapng)", format)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	start := time.Now()
	st, err := pcapgen.Mix{Seed: seed, Flows: flows}.Write(f, o)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	el := time.Since(start)
	fmt.Fprintf(stdout, "%s: %d packets, %d flows, %d frame bytes, %d file bytes, span %s, generated in %s (%.0f packets/s)\n",
		path, st.Packets, st.Flows, st.Bytes, info.Size(), st.Last.Sub(st.First).Round(time.Second), el.Round(time.Millisecond), float64(st.Packets)/el.Seconds())
	return nil
}

// scan writes a SYN scan capture (pcapgen.Scan).
func scan(stdout io.Writer, path string, seed uint64, clients, hosts int, ports string, portCount int) error {
	sc := pcapgen.Scan{Seed: seed, Clients: clients, Hosts: hosts}
	if portCount > 65535 {
		return fmt.Errorf("-port-count %d: at most 65535", portCount)
	}
	if portCount > 0 {
		for p := 1; p <= portCount; p++ {
			sc.Ports = append(sc.Ports, uint16(p))
		}
	} else {
		for _, f := range strings.Split(ports, ",") {
			p, err := strconv.ParseUint(strings.TrimSpace(f), 10, 16)
			if err != nil {
				return fmt.Errorf("-ports: %q is not a port", f)
			}
			sc.Ports = append(sc.Ports, uint16(p))
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	start := time.Now()
	st, err := sc.Write(f, pcapgen.WriteOptions{})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	fmt.Fprintf(stdout, "%s: %d probes, %d packets, %d frame bytes, generated in %s\n", path, sc.Probes(), st.Packets, st.Bytes, time.Since(start).Round(time.Millisecond))
	return nil
}

func readFiles(paths []string, stdout, stderr io.Writer) int {
	if len(paths) == 0 {
		fmt.Fprintln(stderr, "usage: pcapgen read FILE...")
		return 2
	}
	rc := 0
	for _, p := range paths {
		start := time.Now()
		n, b, err := countPackets(p)
		el := time.Since(start)
		if err != nil {
			fmt.Fprintf(stderr, "pcapgen: %s: after %d packets: %v\n", p, n, err)
			rc = 1
			continue
		}
		fmt.Fprintf(stdout, "%s: %d packets, %d captured bytes, read in %s (%.0f packets/s)\n", p, n, b, el.Round(time.Millisecond), float64(n)/el.Seconds())
	}
	return rc
}

// hashFiles prints the SHA-256 of each file, as analyze computes it, and
// how long it took.
func hashFiles(paths []string, stdout, stderr io.Writer) int {
	if len(paths) == 0 {
		fmt.Fprintln(stderr, "usage: pcapgen sha256 FILE...")
		return 2
	}
	rc := 0
	for _, p := range paths {
		start := time.Now()
		sum, err := analyzer.FileSHA256(p)
		el := time.Since(start)
		if err != nil {
			fmt.Fprintf(stderr, "pcapgen: %v\n", err)
			rc = 1
			continue
		}
		var size int64
		if st, err := os.Stat(p); err == nil {
			size = st.Size()
		}
		fmt.Fprintf(stdout, "%s  %s: %d bytes hashed in %s (%.2f GB/s)\n", sum, p, size, el.Round(time.Millisecond), float64(size)/el.Seconds()/1e9)
	}
	return rc
}

// countPackets reads every packet of a pcap or pcapng file (optionally
// gzip-compressed) without copying or decoding it.
func countPackets(path string) (n int, bytes int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	var r io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return 0, 0, err
		}
		r = bufio.NewReaderSize(gz, 1<<20)
	}
	var read func() ([]byte, error)
	bb := r.(*bufio.Reader)
	if magic, _ := bb.Peek(4); len(magic) == 4 && magic[0] == 0x0a && magic[1] == 0x0d && magic[2] == 0x0d && magic[3] == 0x0a {
		ng, err := pcapgo.NewNgReader(bb, pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			return 0, 0, err
		}
		read = func() ([]byte, error) { d, _, err := ng.ZeroCopyReadPacketData(); return d, err }
	} else {
		pr, err := pcapgo.NewReader(bb)
		if err != nil {
			return 0, 0, err
		}
		read = func() ([]byte, error) { d, _, err := pr.ZeroCopyReadPacketData(); return d, err }
	}
	for {
		d, err := read()
		if errors.Is(err, io.EOF) {
			return n, bytes, nil
		}
		if err != nil {
			return n, bytes, err
		}
		n++
		bytes += int64(len(d))
	}
}
