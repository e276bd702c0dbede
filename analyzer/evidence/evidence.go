// Package evidence writes an evidence bundle for a firewall change ticket:
// the report in every format, a pcapng per finding holding the packets of
// its first connections, copies of the input files, and SHA256SUMS over all
// of them. It checks the bundle directory before the captures are read, so
// a re-run replaces only a previous bundle's files and never mixes with, or
// deletes, files flowaudit did not write.
package evidence

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/flowaudit/flowaudit/analyzer"
	"github.com/flowaudit/flowaudit/analyzer/audit"
	"github.com/flowaudit/flowaudit/analyzer/report"
	"github.com/flowaudit/flowaudit/catalog"
	"github.com/flowaudit/flowaudit/catalog/yamlfile"
)

// Connections is how many connections of each finding go into its
// pcap.
const Connections = 10

// SweepConnections is how many connections of each sweep go into its
// pcap: the first probes of the scan, each server (a host sweep) or port
// (a port sweep) one connection, a ping sweep's each server one.
const SweepConnections = 100

// DefaultMax is --evidence-max's default: how many finding pcaps
// a bundle holds at most.
const DefaultMax = 1000

// sumsName is the bundle's checksum file; it also marks a directory as a
// flowaudit bundle, and lists the files a re-run may replace.
const sumsName = "SHA256SUMS"

// sumsLine is one line of SHA256SUMS, as sha256sum writes it.
var sumsLine = regexp.MustCompile(`^([0-9a-f]{64})  (\S.*)$`)

// Dir is an --evidence directory checked before the captures are
// read: new, empty, or holding a previous bundle, whose files (and only
// those) a new bundle replaces.
type Dir struct {
	dir string
	old []string // the previous bundle's files, slash-separated and relative
}

// Open checks that dir can take a bundle: it does not exist, is
// empty, or is a flowaudit bundle (its SHA256SUMS lists only plain relative
// names). Anything else is refused, so a re-run never mixes with, or
// deletes, files flowaudit did not write.
func Open(dir string) (*Dir, error) {
	ed := &Dir{dir: dir}
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return ed, nil
	}
	if err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("evidence: %s: not a directory", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	if len(entries) == 0 {
		return ed, nil
	}
	notBundle := func(why string) error {
		return fmt.Errorf("evidence: %s is not empty and not a flowaudit evidence bundle (%s): give a new or empty directory", dir, why)
	}
	sums := filepath.Join(dir, sumsName)
	sfi, err := os.Lstat(sums)
	if err != nil || !sfi.Mode().IsRegular() {
		return nil, notBundle("no " + sumsName)
	}
	data, err := yamlfile.ReadFile(sums)
	if err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		m := sumsLine.FindStringSubmatch(sc.Text())
		if m == nil || !bundleName(m[2]) {
			return nil, notBundle(fmt.Sprintf("%s:%d is not a line flowaudit writes", sums, n))
		}
		ed.old = append(ed.old, m[2])
	}
	if !slices.Contains(ed.old, "report.json") {
		return nil, notBundle(sumsName + " lists no report.json")
	}
	return ed, nil
}

// bundleName says whether name is one a bundle's files can have: a report,
// or a file under findings/ or inputs/, with no way out of the directory.
func bundleName(name string) bool {
	if name != path.Clean(name) || strings.Contains(name, "\\") {
		return false
	}
	switch dir, base := path.Split(name); dir {
	case "":
		return strings.HasPrefix(base, "report.")
	case "findings/", "inputs/":
		return base != "" && base != "." && base != ".."
	}
	return false
}

// Kept are the findings that get a pcap.
type Kept struct {
	Flows  []*audit.Flow
	Sweeps []*audit.Sweep // not waived
}

// Findings are the findings that get a pcap: the first max of them,
// services then sweeps (a waived sweep is no finding); the rest are
// counted in the report's limits.
func Findings(rep *report.Report, max int) (keep Kept, dropped int) {
	for _, f := range rep.Result.Flows {
		if !f.Finding() {
			continue
		}
		if len(keep.Flows) < max {
			keep.Flows = append(keep.Flows, f)
		} else {
			dropped++
		}
	}
	for _, s := range rep.Result.Sweeps {
		if s.Waived() {
			continue
		}
		if len(keep.Flows)+len(keep.Sweeps) < max {
			keep.Sweeps = append(keep.Sweeps, s)
		} else {
			dropped++
		}
	}
	return keep, dropped
}

// Write writes the bundle: the report in every format, a pcapng per kept
// finding with the packets of its first connections (a sweep's first
// SweepConnections), copies of the input
// files (inventory, waivers, site catalogs), and SHA256SUMS over all of
// them. Files of the previous bundle that this one does not have are then
// removed, so no stale finding is left behind.
func (ed *Dir) Write(rep *report.Report, paths []string, keep Kept, inputs map[string]string) error {
	files := map[string][]byte{}
	for _, f := range []struct{ name, format string }{
		{"report.txt", "table"}, {"report.md", "markdown"}, {"report.json", "json"}, {"report.csv", "csv"}, {"report.html", "html"},
	} {
		var buf bytes.Buffer
		// report.txt has every column: the bundle is read in full.
		if err := rep.Write(&buf, f.format, report.TextOptions{Wide: true}); err != nil {
			return err
		}
		files[f.name] = buf.Bytes()
	}
	copies := map[string]string{} // name logs: streamed, not held
	for name, src := range inputs {
		if strings.HasPrefix(name, namesPrefix) {
			copies[name] = src
			continue
		}
		data, err := yamlfile.ReadFile(src)
		if err != nil {
			return fmt.Errorf("evidence: %w", err)
		}
		files[name] = data
	}

	// A finding from flow records (a conn.log) has no packets to copy:
	// no pcap, as the report's frame_note says.
	findings := slices.DeleteFunc(slices.Clone(keep.Flows), func(f *audit.Flow) bool { return f.FirstFrame.Frame == 0 })
	sweeps := slices.DeleteFunc(slices.Clone(keep.Sweeps), func(s *audit.Sweep) bool { return s.FirstFrame.Frame == 0 })
	var names []string
	var sels []analyzer.Selection
	for i, f := range findings {
		names = append(names, fileName(i+1, f))
		sels = append(sels, analyzer.Selection{Client: f.Client, Server: f.Server, Proto: f.Proto, Port: f.Port, Out: &bytes.Buffer{}})
	}
	for i, s := range sweeps {
		sel := analyzer.Selection{Client: s.Client, Server: s.Server, Proto: s.Proto, Sweep: s.Kind, Conns: SweepConnections, Out: &bytes.Buffer{}}
		if s.Kind == "hosts" && len(s.Ports) > 0 {
			sel.Port = s.Ports[0].Lo
		}
		names = append(names, sweepFileName(len(findings)+i+1, s))
		sels = append(sels, sel)
	}
	if len(sels) > 0 {
		if _, err := analyzer.Extract(paths, sels, Connections); err != nil {
			return fmt.Errorf("evidence: %w", err)
		}
	}
	for i, sel := range sels {
		files["findings/"+names[i]] = sel.Out.(*bytes.Buffer).Bytes()
	}

	all := make([]string, 0, len(files)+len(copies))
	for n := range files {
		all = append(all, n)
	}
	for n := range copies {
		all = append(all, n)
	}
	sort.Strings(all)
	// The name logs first: one changed since it was read stops the
	// bundle before the report files are replaced.
	copied := map[string]string{}
	for _, n := range all {
		src, ok := copies[n]
		if !ok {
			continue
		}
		sum, err := ed.copyFile(n, src)
		if err != nil {
			return err
		}
		// The copy is of the file the report cites, or none.
		for _, l := range rep.NameLogs {
			if l.Path == src && l.SHA256 != "" && l.SHA256 != sum {
				os.Remove(filepath.Join(ed.dir, filepath.FromSlash(n)))
				return fmt.Errorf("evidence: %s changed since it was read: sha256 %s, the report cites %s", src, sum, l.SHA256)
			}
		}
		copied[n] = sum
	}
	var sums strings.Builder
	for _, n := range all {
		if sum, ok := copied[n]; ok {
			fmt.Fprintf(&sums, "%s  %s\n", sum, n)
			continue
		}
		if err := ed.writeFile(n, files[n]); err != nil {
			return err
		}
		h := sha256.Sum256(files[n])
		fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(h[:]), n)
	}
	if err := ed.writeFile(sumsName, []byte(sums.String())); err != nil {
		return err
	}
	for _, n := range ed.old {
		if _, ok := files[n]; ok {
			continue
		}
		if _, ok := copies[n]; ok {
			continue
		}
		if err := os.Remove(filepath.Join(ed.dir, filepath.FromSlash(n))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("evidence: removing the previous bundle's %s: %w", n, err)
		}
	}
	for _, sub := range []string{"findings", "inputs"} {
		// Left only if it still holds something: ours, or someone else's.
		os.Remove(filepath.Join(ed.dir, sub))
	}
	return nil
}

// writeFile writes one bundle file (slash-separated name) atomically. A
// bundle holds regular files only: a symlink or device in its place is an
// error, never written through.
func (ed *Dir) writeFile(name string, data []byte) error {
	return ed.writeFrom(name, bytes.NewReader(data))
}

// namesPrefix starts the bundle names of Zeek name logs, which may be far
// larger than the other inputs: copied as streams, without a size limit.
const namesPrefix = "inputs/names-"

// copyFile copies the file at src to the bundle file name as writeFile
// writes, and returns the hex SHA-256 of what it copied.
func (ed *Dir) copyFile(name, src string) (string, error) {
	f, err := os.Open(src)
	if err != nil {
		return "", fmt.Errorf("evidence: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && !fi.Mode().IsRegular() {
		return "", fmt.Errorf("evidence: %s: not a regular file", src)
	}
	h := sha256.New()
	if err := ed.writeFrom(name, io.TeeReader(f, h)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// writeFrom writes one bundle file from r, as writeFile does.
func (ed *Dir) writeFrom(name string, r io.Reader) error {
	p := filepath.Join(ed.dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	if fi, err := os.Lstat(p); err == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("evidence: %s: not a regular file (%s): refusing to replace it", p, fi.Mode().Type())
	}
	if err := writeAtomic(p, r); err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	return nil
}

// writeAtomic writes what r holds to a temporary file beside p and renames it over
// p when complete, so a bundle file is never half-written. Errors name p,
// not the temporary file; after one, the temporary file is removed.
func writeAtomic(p string, r io.Reader) error {
	wrap := func(err error) error {
		var pe *fs.PathError
		var le *os.LinkError
		switch {
		case errors.As(err, &pe):
			return fmt.Errorf("%s: %s: %w", p, pe.Op, pe.Err)
		case errors.As(err, &le):
			return fmt.Errorf("%s: %s: %w", p, le.Op, le.Err)
		}
		return fmt.Errorf("%s: %w", p, err)
	}
	f, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".*")
	if err != nil {
		return wrap(err)
	}
	tmp := f.Name()
	_, err = io.Copy(f, r)
	if cerr := f.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		os.Remove(tmp)
		return wrap(err)
	}
	return nil
}

// Inputs are the bundle names of the input files a report depends
// on besides the captures: inputs/inventory-<name>, inputs/waivers-<name>
// and inputs/catalog-<n>-<name> for each --catalog, and
// inputs/names-<n>-<name> for each Zeek ssl.log or http.log that named
// connections (Report.NameLogs).
func Inputs(inventory, waivers string, catalogs []string, nameLogs []report.NameLog) map[string]string {
	out := map[string]string{}
	if inventory != "" {
		out["inputs/inventory-"+filepath.Base(inventory)] = inventory
	}
	if waivers != "" {
		out["inputs/waivers-"+filepath.Base(waivers)] = waivers
	}
	for i, c := range catalogs {
		out[fmt.Sprintf("inputs/catalog-%d-%s", i+1, filepath.Base(c))] = c
	}
	// The Zeek ssl.log, http.log and dns.log whose host names named connections,
	// numbered in the report's order.
	for i, l := range nameLogs {
		out[fmt.Sprintf("inputs/names-%d-%s", i+1, filepath.Base(l.Path))] = l.Path
	}
	return out
}

// fileName is "003-undocumented-192.0.2.1-192.0.2.20-tcp-8443.pcapng".
func fileName(n int, f *audit.Flow) string {
	kind := string(f.Status)
	if f.Status == audit.Documented && f.Blocked {
		kind = "blocked"
	}
	port := ""
	if catalog.HasPorts(f.Proto) {
		port = fmt.Sprintf("-%d", f.Port)
	}
	addr := func(s string) string { return strings.ReplaceAll(s, ":", "_") }
	return fmt.Sprintf("%03d-%s-%s-%s-%s%s.pcapng", n, kind, addr(f.Client.Unmap().String()), addr(f.Server.Unmap().String()),
		strings.ReplaceAll(catalog.ProtoName(f.Proto), "/", "_"), port)
}

// sweepFileName is "012-sweep-10.99.0.1-any-tcp-445.pcapng" for a host
// sweep (any server), "013-sweep-10.99.0.1-10.20.0.1-tcp-ports.pcapng"
// for a port sweep (many ports).
func sweepFileName(n int, s *audit.Sweep) string {
	addr := func(s string) string { return strings.ReplaceAll(s, ":", "_") }
	server, port := "any", ""
	if s.Kind == "ports" {
		server, port = addr(s.Server.Unmap().String()), "-ports"
	} else if catalog.HasPorts(s.Proto) && len(s.Ports) > 0 {
		port = fmt.Sprintf("-%d", s.Ports[0].Lo)
	}
	return fmt.Sprintf("%03d-sweep-%s-%s-%s%s.pcapng", n, addr(s.Client.Unmap().String()), server,
		strings.ReplaceAll(catalog.ProtoName(s.Proto), "/", "_"), port)
}
