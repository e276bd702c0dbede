package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"github.com/flowaudit/flowaudit/analyzer/evidence"
	"github.com/flowaudit/flowaudit/analyzer/report"
)

// An -o path keeps what it is: a regular file (or a new path) is replaced
// atomically, through symlinks to their target; a device, FIFO or
// /dev/stdout is written in place and never becomes a regular file.
func TestCreateOutput(t *testing.T) {
	type check func(t *testing.T, path string, stdout string)
	content := "report\n"
	isRegular := func(want string, perm fs.FileMode) check {
		return func(t *testing.T, path, _ string) {
			fi, err := os.Lstat(path)
			if err != nil || !fi.Mode().IsRegular() {
				t.Fatalf("%s: %v %v, want a regular file", path, fi, err)
			}
			if fi.Mode().Perm() != perm {
				t.Errorf("%s: mode %v, want %v", path, fi.Mode().Perm(), perm)
			}
			if b, _ := os.ReadFile(path); string(b) != want {
				t.Errorf("%s holds %q, want %q", path, b, want)
			}
		}
	}
	isLink := func(to string) check {
		return func(t *testing.T, path, _ string) {
			fi, err := os.Lstat(path)
			if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
				t.Fatalf("%s: %v %v, want a symlink still", path, fi, err)
			}
			if l, _ := os.Readlink(path); l != to {
				t.Errorf("%s links to %q, want %q", path, l, to)
			}
		}
	}
	isDevice := func(t *testing.T, path, _ string) {
		fi, err := os.Lstat(path)
		if err != nil || fi.Mode()&fs.ModeDevice == 0 {
			t.Fatalf("%s: %v %v, want a device still", path, fi, err)
		}
	}
	tests := []struct {
		name   string
		setup  func(t *testing.T, dir string) string // returns the -o path
		err    string                                // "" for success
		checks []check
	}{
		{"new file", func(t *testing.T, dir string) string { return filepath.Join(dir, "r.txt") }, "",
			[]check{isRegular(content, 0o644)}},
		{"existing file keeps its mode", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "r.txt")
			must(t, os.WriteFile(p, []byte("old old old\n"), 0o600))
			must(t, os.Chmod(p, 0o600))
			return p
		}, "", []check{isRegular(content, 0o600)}},
		{"symlink to a file", func(t *testing.T, dir string) string {
			must(t, os.WriteFile(filepath.Join(dir, "real.txt"), []byte("old\n"), 0o644))
			p := filepath.Join(dir, "link.txt")
			must(t, os.Symlink("real.txt", p))
			return p
		}, "", []check{isLink("real.txt"), func(t *testing.T, path, _ string) {
			isRegular(content, 0o644)(t, filepath.Join(filepath.Dir(path), "real.txt"), "")
		}}},
		{"dangling symlink creates its target", func(t *testing.T, dir string) string {
			must(t, os.Mkdir(filepath.Join(dir, "sub"), 0o755))
			p := filepath.Join(dir, "link.txt")
			must(t, os.Symlink("sub/new.txt", p))
			return p
		}, "", []check{isLink("sub/new.txt"), func(t *testing.T, path, _ string) {
			isRegular(content, 0o644)(t, filepath.Join(filepath.Dir(path), "sub", "new.txt"), "")
		}}},
		{"symlink chain", func(t *testing.T, dir string) string {
			must(t, os.WriteFile(filepath.Join(dir, "real.txt"), nil, 0o644))
			must(t, os.Symlink(filepath.Join(dir, "real.txt"), filepath.Join(dir, "b")))
			p := filepath.Join(dir, "a")
			must(t, os.Symlink("b", p))
			return p
		}, "", []check{isLink("b"), func(t *testing.T, path, _ string) {
			isRegular(content, 0o644)(t, filepath.Join(filepath.Dir(path), "real.txt"), "")
		}}},
		{"symlink loop", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "loop")
			must(t, os.Symlink("loop", p))
			return p
		}, "loop: too many levels of symbolic links", []check{isLink("loop")}},
		{"/dev/null stays a device", func(t *testing.T, dir string) string { return "/dev/null" }, "", []check{isDevice}},
		{"/dev/stdout is standard output", func(t *testing.T, dir string) string { return "/dev/stdout" }, "",
			[]check{func(t *testing.T, path, stdout string) {
				if stdout != content {
					t.Errorf("stdout %q, want %q", stdout, content)
				}
			}}},
		{"/dev/full is a write error, and stays a device", func(t *testing.T, dir string) string { return "/dev/full" },
			"/dev/full: write: no space left on device", []check{isDevice}},
		{"directory", func(t *testing.T, dir string) string { return dir }, "is a directory", nil},
		{"no such directory", func(t *testing.T, dir string) string { return filepath.Join(dir, "none", "r.txt") },
			"none/r.txt: open: no such file or directory", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := tt.setup(t, dir)
			if path == "/dev/full" {
				if _, err := os.Stat(path); err != nil {
					t.Skip("no /dev/full")
				}
			}
			var stdout bytes.Buffer
			e := &env{stdout: &stdout, stderr: io.Discard}
			err := e.writeOutput(path, func(w io.Writer) error {
				_, err := io.WriteString(w, content)
				return err
			})
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("error %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("error %v, want %q", err, tt.err)
			case err != nil && !strings.HasPrefix(err.Error(), path+":"):
				t.Errorf("error %q does not start with the path given, %s", err, path)
			}
			for _, c := range tt.checks {
				c(t, path, stdout.String())
			}
			// no temporary file is left behind
			entries, _ := os.ReadDir(dir)
			for _, en := range entries {
				if strings.HasPrefix(en.Name(), ".") {
					t.Errorf("left %s behind", en.Name())
				}
			}
		})
	}
}

// A FIFO is written in place: the reader at its other end gets the
// report, and the FIFO is still a FIFO afterwards.
func TestCreateOutputFIFO(t *testing.T) {
	p := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skip("no FIFOs:", err)
	}
	got := make(chan string)
	go func() {
		f, err := os.Open(p)
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(f)
		f.Close()
		got <- string(b)
	}()
	e := &env{stdout: io.Discard, stderr: io.Discard}
	if err := e.writeOutput(p, func(w io.Writer) error { _, err := io.WriteString(w, "report\n"); return err }); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "report\n" {
		t.Errorf("reader got %q", s)
	}
	if fi, err := os.Lstat(p); err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
		t.Errorf("%s is no longer a FIFO: %v %v", p, fi, err)
	}
}

// A report that fails half-way leaves the file it would replace as it
// was, and no temporary file.
func TestWriteOutputFailureKeepsOld(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "r.md")
	must(t, os.WriteFile(p, []byte("old\n"), 0o644))
	e := &env{stdout: io.Discard, stderr: io.Discard}
	err := e.writeOutput(p, func(w io.Writer) error {
		io.WriteString(w, "half")
		return syscall.EIO
	})
	if err == nil || !strings.HasPrefix(err.Error(), p+": ") {
		t.Fatalf("error %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "old\n" {
		t.Errorf("%s now holds %q", p, b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("left %d files", len(entries))
	}
}

func TestPickFormat(t *testing.T) {
	analyze := []string{"table", "markdown", "json", "csv", "html"}
	roles := []string{"yaml", "table", "json"}
	tests := []struct {
		name, format, output, def string
		allowed                   []string
		want, err                 string
	}{
		{"stdout default", "", "", "table", analyze, "table", ""},
		{"from .md", "", "r.md", "table", analyze, "markdown", ""},
		{"from .MARKDOWN", "", "r.MARKDOWN", "table", analyze, "markdown", ""},
		{"from .htm", "", "r.htm", "table", analyze, "html", ""},
		{"from .txt", "", "r.txt", "table", analyze, "table", ""},
		{"no extension", "", "report", "table", analyze, "table", ""},
		{"/dev/stdout", "", "/dev/stdout", "table", analyze, "table", ""},
		{"unknown extension", "", "r.pdf", "table", analyze, "", `analyze: -o r.pdf: no format has the extension ".pdf": give -f`},
		{"unknown extension with -f", "json", "r.pdf", "table", analyze, "json", ""},
		{"-f md", "md", "", "table", analyze, "markdown", ""},
		{"-f md with .pdf", "md", "r.pdf", "table", analyze, "markdown", ""},
		{"-f beats the extension", "csv", "r.json", "table", analyze, "csv", ""},
		{"format of another command", "", "r.yaml", "table", analyze, "", `no format has the extension ".yaml"`},
		{"unknown -f", "xml", "", "table", analyze, "", `unknown format "xml"`},
		{"roles default", "", "", "yaml", roles, "yaml", ""},
		{"roles -o x.json", "", "x.json", "yaml", roles, "json", ""},
		{"roles -o x.yml", "", "x.yml", "yaml", roles, "yaml", ""},
		{"roles -o x.csv", "", "x.csv", "yaml", roles, "", `no format has the extension ".csv"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := "analyze"
			if tt.def == "yaml" {
				cmd = "roles"
			}
			got, err := pickFormat(cmd, tt.format, tt.output, tt.def, tt.allowed...)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				if _, ok := err.(usageError); !ok {
					t.Errorf("%v is not a usage error", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("= %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// failWriter fails every write, as a full disk does.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, syscall.ENOSPC }

// Every command's standard output is checked: when it cannot be written,
// the exit code is 1, whatever the format, never 0 or 3.
func TestStdoutWriteErrors(t *testing.T) {
	t.Chdir(sampleRoot)
	ras := samplePilots[2]
	if ras.family != "ras" {
		t.Fatal("samplePilots changed")
	}
	tests := []struct {
		name string
		args []string
	}{
		{"analyze table", ras.args("table")},
		{"analyze markdown", ras.args("markdown")},
		{"analyze json", ras.args("json")},
		{"analyze csv", ras.args("csv")},
		{"analyze html", ras.args("html")},
		{"analyze -o /dev/stdout", ras.args("table", "-o", "/dev/stdout")},
		{"catalog list", []string{"catalog", "list"}},
		{"catalog list csv", []string{"catalog", "list", "-f", "csv"}},
		{"catalog roles json", []string{"catalog", "roles", "-f", "json"}},
		{"catalog search", []string{"catalog", "search", "4172"}},
		{"flows jsonl", []string{"flows", ras.capture()}},
		{"flows table", []string{"flows", "-f", "table", ras.capture()}},
		{"roles yaml", []string{"roles", ras.capture()}},
		{"roles table", []string{"roles", "-f", "table", ras.capture()}},
		{"diff", []string{"diff", "-i", ras.dir() + "/inventory.yaml", ras.capture(), ras.dir() + "/after.pcapng"}},
		{"rules nft", []string{"rules", "-i", ras.dir() + "/inventory.yaml", "--capture", ras.capture(), "-f", "nft"}},
		{"rules markdown", []string{"rules", "-i", ras.dir() + "/inventory.yaml"}},
		{"version", []string{"version"}},
		{"help", []string{"--help"}},
		{"analyze help", []string{"analyze", "--help"}},
	}
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err == nil {
		defer full.Close()
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, out := range []struct {
				name string
				w    io.Writer
			}{{"ENOSPC", failWriter{}}, {"/dev/full", full}} {
				if out.w == io.Writer((*os.File)(nil)) {
					continue // no /dev/full
				}
				var errb bytes.Buffer
				code := run(tt.args, strings.NewReader(""), out.w, &errb)
				if code != exitError {
					t.Errorf("%s: exit %d, want %d; stderr %s", out.name, code, exitError, errb.String())
				}
				if n := strings.Count(errb.String(), "no space left on device"); n != 1 {
					t.Errorf("%s: stderr names the write error %d times:\n%s", out.name, n, errb.String())
				}
			}
		})
	}
}

// -o with a file: formats, usage errors, and a write error that names the
// path given.
func TestAnalyzeOutputFile(t *testing.T) {
	t.Chdir(sampleRoot)
	ras := samplePilots[2]
	dir := t.TempDir()
	tests := []struct {
		name   string
		args   []string
		code   int
		file   string // the -o path, checked to start with want
		want   string
		stderr string
	}{
		{"pdf is a usage error", ras.args("", "-o", filepath.Join(dir, "r.pdf")), exitUsage, "", "", `no format has the extension ".pdf"`},
		{"pdf with -f md", ras.args("md", "-o", filepath.Join(dir, "r.pdf")), exitFindings, filepath.Join(dir, "r.pdf"), "# flowaudit report", ""},
		{".md", ras.args("", "-o", filepath.Join(dir, "r.md")), exitFindings, filepath.Join(dir, "r.md"), "# flowaudit report", ""},
		{".json", ras.args("", "-o", filepath.Join(dir, "r.json")), exitFindings, filepath.Join(dir, "r.json"), "{\n", ""},
		{"/dev/full", ras.args("csv", "-o", "/dev/full"), exitError, "", "", "flowaudit: /dev/full: write: no space left on device"},
		{"roles -o x.json", []string{"roles", "-o", filepath.Join(dir, "x.json"), ras.capture()}, exitOK, filepath.Join(dir, "x.json"), "{\n", ""},
		{"roles -o x.yaml", []string{"roles", "-o", filepath.Join(dir, "x.yaml"), ras.capture()}, exitOK, filepath.Join(dir, "x.yaml"), "# Inventory proposed by", ""},
		{"roles -o x.pdf", []string{"roles", "-o", filepath.Join(dir, "x.pdf"), ras.capture()}, exitUsage, "", "", `no format has the extension ".pdf"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if strings.Contains(strings.Join(tt.args, " "), "/dev/full") {
				if _, err := os.Stat("/dev/full"); err != nil {
					t.Skip("no /dev/full")
				}
			}
			args := tt.args
			// ras.args puts "-f" "" for an empty format: drop it.
			for i := 0; i+1 < len(args); i++ {
				if args[i] == "-f" && args[i+1] == "" {
					args = append(append([]string{}, args[:i]...), args[i+2:]...)
					break
				}
			}
			code, out, errs := runCmd(t, nil, args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstderr: %s", code, tt.code, errs)
			}
			if out != "" {
				t.Errorf("stdout is not empty: %.200s", out)
			}
			if tt.stderr != "" && !strings.Contains(errs, tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, errs)
			}
			if tt.file != "" {
				b, err := os.ReadFile(tt.file)
				if err != nil || !strings.HasPrefix(string(b), tt.want) {
					t.Errorf("%s: %v, starts %.40q, want %q", tt.file, err, b, tt.want)
				}
			}
			if fi, err := os.Stat("/dev/full"); err == nil && fi.Mode().IsRegular() {
				t.Fatal("/dev/full became a regular file")
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// --evidence into a directory: new, empty or a previous bundle (whose
// files, and only those, are replaced); anything else is refused before
// the captures are read.
func TestEvidenceDirectory(t *testing.T) {
	t.Chdir(sampleRoot)
	ras := samplePilots[2]
	write := func(t *testing.T, path, data string) {
		t.Helper()
		must(t, os.MkdirAll(filepath.Dir(path), 0o755))
		must(t, os.WriteFile(path, []byte(data), 0o644))
	}
	const stale = "findings/999-undocumented-192.0.2.1-192.0.2.2-tcp-1.pcapng"
	tests := []struct {
		name   string
		setup  func(t *testing.T, dir string)
		code   int
		stderr string
		gone   []string // files the run must remove
		kept   []string // files the run must leave
	}{
		{"new", func(t *testing.T, dir string) { must(t, os.Remove(dir)) }, exitFindings, "", nil, nil},
		{"empty", func(t *testing.T, dir string) {}, exitFindings, "", nil, nil},
		{"previous bundle", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, stale), "old")
			write(t, filepath.Join(dir, "inputs", "waivers-old.yaml"), "old")
			write(t, filepath.Join(dir, "notes.txt"), "mine")
			write(t, filepath.Join(dir, "findings", "mine.txt"), "mine")
			sum := strings.Repeat("0", 64)
			write(t, filepath.Join(dir, "SHA256SUMS"), sum+"  report.json\n"+sum+"  "+stale+"\n"+sum+"  inputs/waivers-old.yaml\n")
		}, exitFindings, "", []string{stale, "inputs/waivers-old.yaml"}, []string{"notes.txt", "findings/mine.txt"}},
		{"not a bundle", func(t *testing.T, dir string) { write(t, filepath.Join(dir, "thesis.tex"), "mine") },
			exitError, "is not empty and not a flowaudit evidence bundle (no SHA256SUMS)", nil, []string{"thesis.tex"}},
		{"someone else's SHA256SUMS", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "SHA256SUMS"), strings.Repeat("0", 64)+"  ../../etc/passwd\n")
		}, exitError, "SHA256SUMS:1 is not a line flowaudit writes", nil, []string{"SHA256SUMS"}},
		{"SHA256SUMS without a report", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "SHA256SUMS"), strings.Repeat("0", 64)+"  findings/x.pcapng\n")
		}, exitError, "SHA256SUMS lists no report.json", nil, []string{"SHA256SUMS"}},
		{"a file", func(t *testing.T, dir string) {
			must(t, os.Remove(dir))
			write(t, dir, "x")
		}, exitError, "not a directory", nil, nil},
		{"a symlink in the bundle", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "SHA256SUMS"), strings.Repeat("0", 64)+"  report.json\n")
			must(t, os.Symlink("/dev/null", filepath.Join(dir, "report.json")))
		}, exitError, "not a regular file", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "evidence")
			must(t, os.Mkdir(dir, 0o755))
			tt.setup(t, dir)
			code, _, errs := analyzeCmd(t, ras.args("json", "--evidence", dir)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d: %s", code, tt.code, errs)
			}
			if tt.stderr != "" && !strings.Contains(errs, tt.stderr) {
				t.Errorf("stderr lacks %q: %s", tt.stderr, errs)
			}
			for _, f := range tt.gone {
				if _, err := os.Lstat(filepath.Join(dir, f)); err == nil {
					t.Errorf("%s is still there", f)
				}
			}
			for _, f := range tt.kept {
				if _, err := os.Lstat(filepath.Join(dir, f)); err != nil {
					t.Errorf("%s was removed", f)
				}
			}
			if code != exitFindings {
				return
			}
			// the bundle now is exactly what its SHA256SUMS lists, plus
			// the files that were not ours
			sums, err := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
			must(t, err)
			listed := map[string]bool{"SHA256SUMS": true}
			for _, l := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
				listed[strings.SplitN(l, "  ", 2)[1]] = true
			}
			for _, f := range tt.kept {
				listed[f] = true
			}
			filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				rel, _ := filepath.Rel(dir, p)
				if !listed[filepath.ToSlash(rel)] {
					t.Errorf("%s is in the bundle but not in SHA256SUMS", rel)
				}
				return nil
			})
			// and a second run into it works, with the same files
			code, _, errs = analyzeCmd(t, ras.args("json", "--evidence", dir)...)
			if code != exitFindings {
				t.Fatalf("second run: exit %d: %s", code, errs)
			}
			again, _ := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
			if string(again) != string(sums) {
				t.Errorf("second run's SHA256SUMS differs:\n%s\nfirst:\n%s", again, sums)
			}
		})
	}
}

// --evidence-max caps the finding pcaps; the rest are counted in every
// format.
func TestEvidenceMax(t *testing.T) {
	t.Chdir(sampleRoot)
	ras := samplePilots[2]
	_, out, _ := analyzeCmd(t, ras.args("json")...)
	findings := 0
	for _, f := range decodeSampleReport(t, out).Flows {
		if f.Status == "undocumented" || f.Blocked {
			findings++
		}
	}
	if findings < 2 {
		t.Fatalf("the ras sample has %d findings: need 2 or more", findings)
	}
	tests := []struct {
		max, pcaps, notWritten int
	}{{0, 0, findings}, {1, 1, findings - 1}, {findings, findings, 0}, {evidence.DefaultMax, findings, 0}}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.max), func(t *testing.T) {
			dir := t.TempDir()
			code, out, errs := analyzeCmd(t, ras.args("json", "--evidence", dir, "--evidence-max", strconv.Itoa(tt.max))...)
			if code != exitFindings {
				t.Fatalf("exit %d: %s", code, errs)
			}
			entries, _ := os.ReadDir(filepath.Join(dir, "findings"))
			if len(entries) != tt.pcaps {
				t.Errorf("%d finding pcaps, want %d", len(entries), tt.pcaps)
			}
			var rep struct {
				Limits struct {
					EvidenceNotWritten int `json:"evidence_not_written"`
				}
			}
			must(t, json.Unmarshal([]byte(out), &rep))
			if rep.Limits.EvidenceNotWritten != tt.notWritten {
				t.Errorf("limits.evidence_not_written = %d, want %d", rep.Limits.EvidenceNotWritten, tt.notWritten)
			}
			for _, name := range []string{"report.txt", "report.md", "report.html"} {
				b, _ := os.ReadFile(filepath.Join(dir, name))
				says := strings.Contains(string(b), "findings without a pcap in the evidence bundle")
				if says != (tt.notWritten > 0) {
					t.Errorf("%s mentions the evidence limit: %v, want %v", name, says, tt.notWritten > 0)
				}
			}
			if tt.notWritten > 0 && !strings.Contains(errs, fmt.Sprintf("%d findings have no pcap", tt.notWritten)) {
				t.Errorf("stderr: %s", errs)
			}
		})
	}
	if code, _, errs := analyzeCmd(t, ras.args("json", "--evidence", t.TempDir(), "--evidence-max", "-1")...); code != exitUsage {
		t.Errorf("--evidence-max -1: exit %d: %s", code, errs)
	}
}

// The sample reports' terminal tables at 80 and 120 columns: every line
// fits, every finding is one line, and --wide keeps every rule id whole.
func TestSampleTableWidth(t *testing.T) {
	t.Chdir(sampleRoot)
	for _, p := range samplePilots {
		var f analyzeFlags
		fs := newFlagSet("analyze", "")
		f.register(fs)
		if err := fs.Parse(append([]string{"-i", p.dir() + "/inventory.yaml", "--reproducible"}, p.flags...)); err != nil {
			t.Fatal(err)
		}
		e := &env{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }}
		rep, _, err := e.analyzeCaptures(&f, []string{p.capture()}, []string{"undocumented"})
		if err != nil {
			t.Fatal(err)
		}
		s := rep.Split()
		for _, width := range []int{80, 120} {
			for _, wide := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%d/wide=%v", p.family, width, wide), func(t *testing.T) {
					var buf bytes.Buffer
					if err := rep.Write(&buf, "table", report.TextOptions{Width: width, Wide: wide}); err != nil {
						t.Fatal(err)
					}
					out := buf.String()
					lines := strings.Split(out, "\n")
					if !wide {
						for i, l := range lines {
							if w := utf8.RuneCountInString(l); w > width {
								t.Errorf("line %d: %d columns:\n%s", i+1, w, l)
							}
						}
						for _, sec := range []struct {
							title string
							rows  int
						}{{"Undocumented services", len(s.Undocumented)}, {"Blocked documented services", len(s.Blocked)},
							{"Expected flows never seen", len(s.Missing)}, {"Documented services", len(s.Documented)}} {
							if n := bodyLines(lines, sec.title); n != sec.rows {
								t.Errorf("%s: %d lines for %d rows", sec.title, n, sec.rows)
							}
						}
					}
					for _, f := range rep.Result.Flows {
						for _, r := range f.Rules {
							if wide && !strings.Contains(out, r.ID) {
								t.Errorf("--wide lacks rule %s whole", r.ID)
							}
						}
					}
					for _, m := range rep.Result.Missing {
						if !strings.Contains(out, m.Rule.ID) {
							t.Errorf("rule %s is not shown whole", m.Rule.ID)
						}
					}
				})
			}
		}
	}
}

// bodyLines counts the lines of the table under title, after its header
// and rule, up to the next blank line; 0 for "none".
func bodyLines(lines []string, title string) int {
	for i, l := range lines {
		if strings.HasPrefix(l, title) {
			n := 0
			for _, b := range lines[i+1:] {
				if strings.TrimSpace(b) == "" {
					break
				}
				n++
			}
			return max(0, n-2)
		}
	}
	return -1
}

// A table written with -o has no colours, even when standard output is a
// colour terminal.
func TestOutputFileNoColour(t *testing.T) {
	t.Chdir(sampleRoot)
	ras := samplePilots[2]
	dir := t.TempDir()
	for _, args := range [][]string{
		{"roles", "-f", "table", "-o", filepath.Join(dir, "roles.txt"), ras.capture()},
		append(ras.args("table"), "-o", filepath.Join(dir, "report.txt")),
	} {
		e := &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, color: true, stdoutTTY: true, getenv: func(string) string { return "" }}
		code := e.dispatch(args)
		if code != exitOK && code != exitFindings {
			t.Fatalf("%v: exit %d", args, code)
		}
		out := args[len(args)-1]
		if args[0] == "roles" {
			out = args[4]
		}
		b, err := os.ReadFile(out)
		if err != nil || len(b) == 0 || bytes.Contains(b, []byte("\x1b[")) {
			t.Errorf("%s: %v, %d bytes, colours: %v", out, err, len(b), bytes.Contains(b, []byte("\x1b[")))
		}
	}
}

// Standard input can be read once: "-" twice is a usage error of every
// command that reads captures, before anything is read or written.
func TestStdinOnce(t *testing.T) {
	pcap := []byte(mustRead(t, filepath.Join(sampleRoot, "testdata", "samples", "ras", "pilot.pcapng")))
	for _, args := range [][]string{
		{"analyze", "-", "-"},
		{"flows", "-", "-"},
		{"roles", "-", "-"},
		{"rules", "-i", filepath.Join(sampleRoot, "testdata", "samples", "ras", "inventory.yaml"), "--capture", "-", "--capture", "-"},
	} {
		code, out, errOut := runCmd(t, pcap, args...)
		if code != exitUsage || out != "" || !strings.Contains(errOut, "standard input (-) is given more than once") {
			t.Errorf("%v: exit %d, stdout %d bytes, stderr %q", args, code, len(out), errOut)
		}
	}
}

// Every command's --help (and `help COMMAND`) has an Examples block and
// exits 0; a command without flags lists none; version takes no
// arguments.
func TestEveryHelpHasExamples(t *testing.T) {
	for name := range commands() {
		for _, args := range [][]string{{name, "--help"}, {"help", name}} {
			var out, errb strings.Builder
			code := run(args, strings.NewReader(""), &out, &errb)
			if code != exitOK || !strings.Contains(out.String(), "\nExamples:\n") {
				t.Errorf("%v: exit %d, no Examples block:\n%s%s", args, code, out.String(), errb.String())
			}
			if strings.HasSuffix(out.String(), "Flags:\n") {
				t.Errorf("%v: an empty Flags section", args)
			}
		}
	}
	var out, errb strings.Builder
	if code := run([]string{"version", "extra"}, strings.NewReader(""), &out, &errb); code != exitUsage || !strings.Contains(errb.String(), `version takes no arguments, got "extra"`) {
		t.Errorf("version extra: exit %d, %q", code, errb.String())
	}
	// help of a command that does not exist is a usage error, not the
	// overview and exit 0.
	out.Reset()
	errb.Reset()
	if code := run([]string{"help", "analyse"}, strings.NewReader(""), &out, &errb); code != exitUsage || !strings.Contains(errb.String(), `help: unknown command "analyse" (did you mean "analyze"?)`) {
		t.Errorf("help analyse: exit %d, %q", code, errb.String())
	}
}

// -o naming an input (the capture, the inventory, diff's BEFORE, by any
// path) is a usage error before anything is read: the report was written
// over the evidence it was made from. The input is left as it was.
func TestOutputIsInput(t *testing.T) {
	t.Chdir(sampleRoot)
	tmp := t.TempDir()
	copyFile := func(src, name string) string {
		t.Helper()
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	capture := copyFile("testdata/samples/ras/pilot.pcapng", "pilot.pcapng")
	inv := copyFile("testdata/samples/ras/inventory.yaml", "inventory.yaml")
	before := copyFile("testdata/samples/ras/report.json", "before.json")
	link := filepath.Join(tmp, "link.json")
	if err := os.Symlink(capture, link); err != nil {
		t.Fatal(err)
	}
	v4 := filepath.Join(tmp, "req.v4")
	v6 := copyFile("testdata/samples/ras/inventory.yaml", "req.v6")
	want := map[string][]byte{}
	for _, p := range []string{capture, inv, before, v6} {
		want[p], _ = os.ReadFile(p)
	}
	for _, tc := range []struct {
		name, input string
		args        []string
	}{
		{"analyze over its capture", capture, []string{"analyze", "-i", inv, "-f", "json", "-o", capture, capture}},
		{"analyze over its capture by another path", capture, []string{"analyze", "-f", "json", "-o", filepath.Join(tmp, ".", "pilot.pcapng"), capture}},
		{"analyze through a symlink", capture, []string{"analyze", "-o", link, capture}},
		{"analyze over its inventory", inv, []string{"analyze", "-i", inv, "-f", "json", "-o", inv, capture}},
		{"diff over BEFORE", before, []string{"diff", "-i", inv, "-o", before, before, capture}},
		{"roles over its capture", capture, []string{"roles", "-f", "yaml", "-o", capture, capture}},
		{"rules over its inventory", inv, []string{"rules", "-i", inv, "-f", "json", "-o", inv}},
		{"rules' IPv6 part over an input", v6, []string{"rules", "-i", inv, "--waivers", v6, "-o", v4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := analyzeCmd(t, tc.args...)
			if code != exitUsage || !strings.Contains(errs, "is also an input ("+tc.input+"): writing there would replace it") {
				t.Errorf("exit %d, stderr %q; want a usage error naming %s", code, errs, tc.input)
			}
			for p, b := range want {
				if got, _ := os.ReadFile(p); !bytes.Equal(got, b) {
					t.Fatalf("%s was changed", p)
				}
			}
		})
	}
}

// "-" for a flag that names a file read by path is a usage error that
// says so, not "open -: no such file or directory".
func TestFileFlagsRefuseStdin(t *testing.T) {
	t.Chdir(sampleRoot)
	const capture = "testdata/samples/ras/pilot.pcapng"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"analyze", "-i", "-", capture}, "analyze: -i -: give a file (standard input is for a capture)"},
		{[]string{"analyze", "--waivers", "-", capture}, "analyze: --waivers -: give a file"},
		{[]string{"diff", "--catalog", "-", capture, capture}, "diff: --catalog -: give a file"},
		{[]string{"roles", "--catalog", "-", capture}, "roles: --catalog -: give a file"},
		{[]string{"rules", "-i", "testdata/samples/ras/inventory.yaml", "--from-report", "-"}, "rules: --from-report -: give a file"},
	} {
		code, _, errs := analyzeCmd(t, tc.args...)
		if code != exitUsage || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errs, exitUsage, tc.want)
		}
	}
}

// -o inside the --evidence bundle would overwrite one of its files after
// SHA256SUMS was written: a usage error.
func TestOutputInsideEvidence(t *testing.T) {
	t.Chdir(sampleRoot)
	dir := filepath.Join(t.TempDir(), "bundle")
	for _, out := range []string{filepath.Join(dir, "report.md"), filepath.Join(dir, "findings", "x.txt")} {
		code, _, errs := analyzeCmd(t, "analyze", "--evidence", dir, "-f", "table", "-o", out, "testdata/samples/ras/pilot.pcapng")
		if code != exitUsage || !strings.Contains(errs, "is inside the --evidence bundle") {
			t.Errorf("-o %s: exit %d, %q", out, code, errs)
		}
	}
	// Beside the bundle is fine.
	if code, _, errs := analyzeCmd(t, "analyze", "--fail-on", "none", "--evidence", dir, "-o", dir+".md", "testdata/samples/ras/pilot.pcapng"); code != exitOK {
		t.Errorf("-o beside the bundle: exit %d, %s", code, errs)
	}
}

// An -o in a directory that does not exist, or naming a directory, fails
// before the captures are read (standard input here, which would be read
// as an empty capture), not after a long read.
func TestOutputCheckedBeforeReading(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "no-such-dir", "r.json")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"analyze", "-o", missing, "-"}, "flowaudit: " + missing + ": directory " + filepath.Dir(missing) + " does not exist\n"},
		{[]string{"analyze", "-f", "json", "-o", dir, "-"}, "flowaudit: " + dir + ": is a directory\n"},
		{[]string{"roles", "-o", missing, "-"}, "flowaudit: " + missing + ": directory " + filepath.Dir(missing) + " does not exist\n"},
		{[]string{"diff", "-o", missing, "-", "b.json"}, "flowaudit: " + missing + ": directory " + filepath.Dir(missing) + " does not exist\n"},
	} {
		code, _, errs := analyzeCmd(t, tc.args...)
		if code != exitError || errs != tc.want {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errs, exitError, tc.want)
		}
	}
}
