package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/spf13/pflag"
)

// newFlagSet is a GNU-style flag set whose errors come back to the caller
// instead of exiting, with the command's help text as its usage.
func newFlagSet(name, help string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SortFlags = false
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	fs.SetInterspersed(true)
	_ = help
	return fs
}

// parseFlags parses args; it prints help and returns done for --help, and a
// usage error for anything wrong.
func (e *env) parseFlags(fs *pflag.FlagSet, help string, args []string) (done bool, err error) {
	if err := fs.Parse(args); err != nil {
		if err == pflag.ErrHelp {
			fmt.Fprint(e.stdout, help)
			if u := fs.FlagUsages(); u != "" {
				fmt.Fprintf(e.stdout, "\nFlags:\n%s", u)
			}
			return true, nil
		}
		return true, usagef("%s: %v (see 'flowaudit %s --help')", fs.Name(), err, fs.Name())
	}
	return false, nil
}

// fileFlags refuses "-" for flags that name a file read by path (the
// inventory, waivers, catalogs, a report): standard input is for captures,
// and "open -: no such file or directory" says nothing of that.
func fileFlags(cmd string, flags map[string][]string) error {
	for _, name := range slices.Sorted(maps.Keys(flags)) {
		if slices.Contains(flags[name], "-") {
			return usagef("%s: %s -: give a file (standard input is for a capture)", cmd, name)
		}
	}
	return nil
}

// inside says whether path is in directory dir (or below it), by their
// absolute paths; "" and "-" are in nothing.
func inside(path, dir string) bool {
	if path == "" || path == "-" || dir == "" {
		return false
	}
	p, err1 := filepath.Abs(path)
	d, err2 := filepath.Abs(dir)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(d, p)
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// checkOutputs checks -o before anything is read, so a typo costs no
// long read: a directory, or a file in a directory that does not exist,
// is an error; so is one of the command's inputs (the same file by any
// path: ./x, a symlink, a hard link), a usage error: the output is written
// after the inputs are read, so the report would silently replace the
// capture, inventory or report it was made from, the evidence of the
// change ticket. A new path, or a device written in place, is no input.
func checkOutputs(cmd string, outputs []string, inputs ...string) error {
	for _, output := range outputs {
		if output == "" || output == "-" {
			continue
		}
		out, err := os.Stat(output)
		if err != nil {
			dir := filepath.Dir(output)
			if _, derr := os.Stat(dir); errors.Is(derr, fs.ErrNotExist) {
				return fmt.Errorf("%s: directory %s does not exist", output, dir)
			}
			continue
		}
		if out.IsDir() {
			return fmt.Errorf("%s: is a directory", output)
		}
		if !out.Mode().IsRegular() {
			continue
		}
		for _, in := range inputs {
			if in == "" || in == "-" {
				continue
			}
			if fi, err := os.Stat(in); err == nil && os.SameFile(out, fi) {
				return usagef("%s: -o %s is also an input (%s): writing there would replace it", cmd, output, in)
			}
		}
	}
	return nil
}

// checkFormat validates a --format value against the allowed ones.
func checkFormat(cmd, format string, allowed ...string) error {
	for _, a := range allowed {
		if format == a {
			return nil
		}
	}
	return usagef("%s: unknown format %q: want %s", cmd, format, strings.Join(allowed, ", "))
}

// formatAliases are the short names -f also accepts.
var formatAliases = map[string]string{"md": "markdown", "yml": "yaml", "htm": "html", "txt": "table", "text": "table"}

// extFormats are the formats -o's extension selects.
var extFormats = map[string]string{
	".md": "markdown", ".markdown": "markdown", ".json": "json", ".csv": "csv", ".html": "html", ".htm": "html",
	".txt": "table", ".yaml": "yaml", ".yml": "yaml", ".jsonl": "jsonl", ".dot": "dot", ".gv": "dot",
}

// pickFormat is the format a command writes in: -f (or one of its
// aliases) when given, else the one -o's extension names, else def. An -o
// extension that names none of the allowed formats (report.pdf) is a usage
// error without -f, rather than a table in a file named .pdf.
func pickFormat(cmd, format, output, def string, allowed ...string) (string, error) {
	if a, ok := formatAliases[format]; ok {
		format = a
	}
	if format == "" {
		format = def
		if ext := strings.ToLower(filepath.Ext(output)); ext != "" && output != "-" {
			f, ok := extFormats[ext]
			if !ok || !slices.Contains(allowed, f) {
				return "", usagef("%s: -o %s: no format has the extension %q: give -f (%s)", cmd, output, ext, strings.Join(allowed, ", "))
			}
			format = f
		}
	}
	return format, checkFormat(cmd, format, allowed...)
}

// checkedWriter remembers the first write error, so a command whose
// output went nowhere (a full disk, /dev/full, a closed pipe) cannot exit
// as if it had been written: go-pretty's Render and fmt.Fprint drop
// errors.
type checkedWriter struct {
	w   io.Writer
	err error
}

func (c *checkedWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	if err != nil {
		c.err = err
	}
	return n, err
}

// output is where -o writes: a regular file (new or existing, reached
// through symlinks or not) is written to a temporary file beside it and
// renamed over it when complete, so a report is never half-written and a
// symlink stays a symlink; anything else (a FIFO, a terminal, a device such
// as /dev/full, /dev/stdout) is written in place, never replaced by a
// regular file. Errors name the path as the user gave it.
type output struct {
	name   string    // as given to -o
	w      io.Writer // what Write writes to
	f      *os.File  // the file opened, nil for standard output
	tmp    string    // the temporary file, "" when written in place
	target string    // where tmp is renamed to
	mode   os.FileMode
	err    error
}

// maxSymlinks bounds how many symlinks are followed, as the kernel does.
const maxSymlinks = 40

// fdPath matches the paths of a process's open files: /dev/stdout,
// /dev/fd/1, /proc/self/fd/1.
var fdPath = regexp.MustCompile(`^/(?:dev/(?:std(?:in|out|err))|dev/fd/\d+|proc/(?:self|thread-self|\d+)/fd/\d+)$`)

// createOutput opens path for writing a report.
func (e *env) createOutput(path string) (*output, error) {
	o := &output{name: path}
	target, fi, err := resolveOutput(path)
	if err != nil {
		return nil, o.wrap(err)
	}
	switch {
	case target == "/dev/stdout" || target == "/dev/fd/1" || target == "/proc/self/fd/1":
		o.w = e.stdout
		return o, nil
	case fi != nil && fi.IsDir():
		return nil, fmt.Errorf("%s: is a directory", path)
	case fi != nil && !fi.Mode().IsRegular(), fdPath.MatchString(target), strings.HasPrefix(target, "/proc/"):
		// A device, FIFO, terminal or another process file: write in
		// place, appending so that an open file behind /dev/fd/N keeps
		// what was written to it before.
		f, err := os.OpenFile(target, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return nil, o.wrap(err)
		}
		o.f, o.w = f, f
		return o, nil
	}
	o.target, o.mode = target, 0o644
	if fi != nil {
		o.mode = fi.Mode().Perm()
	}
	f, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".*")
	if err != nil {
		return nil, o.wrap(err)
	}
	o.f, o.w, o.tmp = f, f, f.Name()
	return o, nil
}

// resolveOutput follows path's symlinks to the file they lead to (which
// may not exist yet) and says what is there (nil when nothing is). It
// stops at /proc, whose fd links are not paths.
func resolveOutput(path string) (string, os.FileInfo, error) {
	p := filepath.Clean(path)
	for range maxSymlinks {
		if fdPath.MatchString(p) || strings.HasPrefix(p, "/proc/") {
			fi, err := os.Stat(p)
			if err != nil {
				return "", nil, err
			}
			return p, fi, nil
		}
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return p, nil, nil
		}
		if err != nil {
			return "", nil, err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return p, fi, nil
		}
		link, err := os.Readlink(p)
		if err != nil {
			return "", nil, err
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(filepath.Dir(p), link)
		}
		p = filepath.Clean(link)
	}
	return "", nil, errors.New("too many levels of symbolic links")
}

func (o *output) Write(p []byte) (int, error) {
	if o.err != nil {
		return 0, o.err
	}
	n, err := o.w.Write(p)
	if err != nil {
		o.err = err
		if o.f != nil {
			// standard output's errors are left as they are: run
			// reports them once
			o.err = o.wrap(err)
		}
	}
	return n, o.err
}

// Close finishes the file: the temporary file is closed, given the
// replaced file's permissions, and renamed over the target. After an
// error nothing is renamed and the temporary file is removed.
func (o *output) Close() error {
	err := o.err
	if o.f != nil {
		if cerr := o.f.Close(); cerr != nil && err == nil {
			err = o.wrap(cerr)
		}
	}
	if o.tmp == "" {
		return err
	}
	if err == nil {
		if cerr := os.Chmod(o.tmp, o.mode); cerr != nil {
			err = o.wrap(cerr)
		}
	}
	if err == nil {
		if rerr := os.Rename(o.tmp, o.target); rerr != nil {
			err = o.wrap(rerr)
		}
	}
	if err != nil {
		os.Remove(o.tmp)
	}
	return err
}

// Abort gives up: a temporary file is removed, the target left as it was.
func (o *output) Abort() {
	if o.err == nil {
		o.err = errors.New("aborted")
	}
	o.Close()
}

// wrap names the path the user gave in err, in place of the temporary
// file's or a symlink's target.
func (o *output) wrap(err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return fmt.Errorf("%s: %s: %w", o.name, pe.Op, pe.Err)
	case errors.As(err, &le):
		return fmt.Errorf("%s: %s: %w", o.name, le.Op, le.Err)
	}
	return fmt.Errorf("%s: %w", o.name, err)
}

// writeOutput writes what write produces to path ("" or "-": standard
// output) through an output.
func (e *env) writeOutput(path string, write func(w io.Writer) error) error {
	if path == "" || path == "-" {
		return write(e.stdout)
	}
	o, err := e.createOutput(path)
	if err != nil {
		return err
	}
	if err := write(o); err != nil {
		werr := o.err
		o.Abort()
		if werr != nil {
			return werr
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	// A write error the writer dropped (go-pretty's Render) is still
	// in o.err: Close returns it and renames nothing.
	return o.Close()
}
