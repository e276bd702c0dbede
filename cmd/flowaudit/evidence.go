package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/flowaudit/flowaudit/analyzer"
	"github.com/flowaudit/flowaudit/analyzer/audit"
	"github.com/flowaudit/flowaudit/analyzer/report"
	"github.com/flowaudit/flowaudit/catalog"
)

// evidenceConnections is how many connections of each finding go into its
// pcap.
const evidenceConnections = 10

// writeEvidence writes the report in every format, a pcapng per finding
// with the packets of its first connections, and SHA256SUMS over all of
// them, into dir.
func writeEvidence(dir string, rep *report.Report, paths []string) error {
	if err := os.MkdirAll(filepath.Join(dir, "findings"), 0o755); err != nil {
		return err
	}
	files := map[string][]byte{}
	for _, f := range []struct{ name, format string }{
		{"report.txt", "table"}, {"report.md", "markdown"}, {"report.json", "json"}, {"report.csv", "csv"}, {"report.html", "html"},
	} {
		var buf bytes.Buffer
		if err := render(rep, f.format, &buf, false, 0); err != nil {
			return err
		}
		files[f.name] = buf.Bytes()
	}

	var findings []*audit.Flow
	for _, f := range rep.Result.Flows {
		if f.Finding() {
			findings = append(findings, f)
		}
	}
	bufs := make([]*bytes.Buffer, len(findings))
	sels := make([]analyzer.Selection, len(findings))
	for i, f := range findings {
		bufs[i] = &bytes.Buffer{}
		sels[i] = analyzer.Selection{Client: f.Client, Server: f.Server, Proto: f.Proto, Port: f.Port, Out: bufs[i]}
	}
	if len(sels) > 0 {
		if _, err := analyzer.Extract(paths, sels, evidenceConnections); err != nil {
			return fmt.Errorf("evidence: %w", err)
		}
	}
	for i, f := range findings {
		files[filepath.Join("findings", evidenceName(i+1, f))] = bufs[i].Bytes()
	}

	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var sums strings.Builder
	for _, n := range names {
		if err := writeFileAtomic(filepath.Join(dir, n), files[n]); err != nil {
			return err
		}
		h := sha256.Sum256(files[n])
		fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(h[:]), filepath.ToSlash(n))
	}
	return writeFileAtomic(filepath.Join(dir, "SHA256SUMS"), []byte(sums.String()))
}

// evidenceName is "003-undocumented-192.0.2.1-192.0.2.20-tcp-8443.pcapng".
func evidenceName(n int, f *audit.Flow) string {
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
