package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/flowaudit/flowaudit/catalog"
	"golang.org/x/term"
)

// Exit codes, documented in the README and in `flowaudit --help`.
const (
	exitOK       = 0 // success; for analyze: no findings at the --fail-on level
	exitError    = 1 // the input could not be read or the command failed
	exitUsage    = 2 // wrong flags or arguments
	exitFindings = 3 // analyze: findings at the --fail-on level; diff: changes at its --fail-on level
)

// version is set at build time with -ldflags "-X main.version=...";
// otherwise it comes from the build information (the module version for
// go install, the VCS revision for a build in a checkout), and is "dev"
// in tests, whose binaries carry neither.
var version = buildVersion("dev")

func buildVersion(def string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return def
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		return def
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if modified == "true" {
		rev += "-dirty"
	}
	return "dev-" + rev
}

// env is what a command sees of the process: its streams and whether they
// are terminals, so commands are testable without a real terminal.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	stdoutFile     *os.File // stdout when it is a file, to measure a terminal
	stdoutTTY      bool     // stdout is a terminal: tables by default
	stderrTTY      bool     // stderr is a terminal: progress and diagnostics
	color          bool     // colours allowed: a terminal and NO_COLOR unset
	getenv         func(string) string
	lastErr        error // the last error fail reported
	warned         map[string]bool
}

// warnOnce prints a diagnostic line on stderr once per run: diff analyses
// two captures with the same flags, and says what they share once.
func (e *env) warnOnce(line string) {
	if e.warned[line] {
		return
	}
	if e.warned == nil {
		e.warned = map[string]bool{}
	}
	e.warned[line] = true
	fmt.Fprintln(e.stderr, line)
}

// command is one subcommand: its one-line summary and its entry point.
type command struct {
	summary string
	run     func(e *env, args []string) int
}

func commands() map[string]command {
	return map[string]command{
		"catalog": {"list, search and lint the port catalog", runCatalog},
		"flows":   {"print the connections in captures, like Zeek's conn.log", runFlows},
		"analyze": {"label every flow against the catalog and report findings", runAnalyze},
		"diff":    {"compare two analyses, before and after a firewall change", runDiff},
		"roles":   {"infer which host plays which role from captures", runRoles},
		"rules":   {"write the firewall rules a change ticket asks for (a request to review)", runRules},
		"version": {"print the version", runVersion},
	}
}

// usageError marks an error caused by wrong flags or arguments (exit 2).
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// fail prints err on stderr and returns the matching exit code.
func (e *env) fail(err error) int {
	e.lastErr = err
	// Joined errors (one per damaged capture) each get a line of their own.
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintf(e.stderr, "flowaudit: %s\n", line)
	}
	var u usageError
	if errors.As(err, &u) {
		return exitUsage
	}
	return exitError
}

// termWidth is stdout's width in columns when it is a terminal, else 0.
func (e *env) termWidth() int {
	if f := e.stdoutFile; f != nil && e.stdoutTTY {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 40 {
			return w
		}
	}
	return 0
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// run is the whole program: main only supplies the process's streams.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	out := &checkedWriter{w: stdout}
	e := &env{
		stdin:     stdin,
		stdout:    out,
		stderr:    stderr,
		stdoutTTY: isTerminal(stdout),
		stderrTTY: isTerminal(stderr),
		getenv:    os.Getenv,
	}
	e.stdoutFile, _ = stdout.(*os.File)
	e.color = e.stdoutTTY && os.Getenv("NO_COLOR") == ""
	code := e.dispatch(args)
	if out.err != nil && code != exitUsage {
		// Whatever the command thought, its output was lost: never exit
		// 0 or 3 ("findings") about a report nobody got.
		if !errors.Is(e.lastErr, out.err) {
			fmt.Fprintf(stderr, "flowaudit: writing standard output: %v\n", out.err)
		}
		return exitError
	}
	return code
}

func (e *env) dispatch(args []string) int {
	cmds := commands()
	if len(args) == 0 {
		e.topUsage(e.stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "--help", "help":
		if len(args) > 1 {
			c, ok := cmds[args[1]]
			if !ok {
				return e.fail(usagef("help: unknown command %q%s (see 'flowaudit --help')", args[1], catalog.DidYouMean(args[1], slices.Sorted(maps.Keys(cmds)))))
			}
			return c.run(e, append(slices.Clone(args[2:]), "--help"))
		}
		e.topUsage(e.stdout)
		return exitOK
	case "--version", "-V":
		return runVersion(e, nil)
	}
	c, ok := cmds[args[0]]
	if !ok {
		return e.fail(usagef("unknown command %q%s (see 'flowaudit --help')", args[0], catalog.DidYouMean(args[0], slices.Sorted(maps.Keys(cmds)))))
	}
	return c.run(e, args[1:])
}

func (e *env) topUsage(w io.Writer) {
	var b strings.Builder
	b.WriteString(`flowaudit checks packet captures from a pilot deployment against the vendors'
documented ports (VMware Horizon, Citrix, Parallels RAS, Microsoft Lync Server).

Usage:
  flowaudit <command> [flags] [arguments]

Commands:
`)
	cmds := commands()
	for _, name := range slices.Sorted(maps.Keys(cmds)) {
		fmt.Fprintf(&b, "  %-9s %s\n", name, cmds[name].summary)
	}
	b.WriteString(`
Examples:
  flowaudit analyze -i testdata/samples/ras/inventory.yaml --waivers testdata/samples/ras/waivers.yaml testdata/samples/ras/pilot.pcapng
  flowaudit flows --port 443 capture.pcapng
  tcpdump -i eth0 -w - | flowaudit flows -
  flowaudit catalog search udp/4172
  flowaudit diff -i inventory.yaml before.pcapng after.pcapng
  flowaudit rules -i inventory.yaml --capture pilot.pcapng -f nft

Exit codes:
  0  success (analyze: no findings at the --fail-on level)
  1  error: a file could not be read or parsed, or the output could not be written
  2  usage error: unknown command, flag or argument
  3  analyze: findings at the --fail-on level; diff: changes at its --fail-on level

Run 'flowaudit <command> --help' for a command's flags.
`)
	fmt.Fprint(w, b.String())
}

const versionHelp = `Usage:
  flowaudit version

Prints the version, as reports give it ("Tool" in the inputs table, JSON
"version").

Examples:
  flowaudit version
  flowaudit --version
`

func runVersion(e *env, args []string) int {
	fs := newFlagSet("version", versionHelp)
	if done, err := e.parseFlags(fs, versionHelp, args); done {
		return e.done(err)
	}
	if fs.NArg() > 0 {
		return e.fail(usagef("version takes no arguments, got %q", strings.Join(fs.Args(), " ")))
	}
	fmt.Fprintf(e.stdout, "flowaudit %s\n", version)
	return exitOK
}
