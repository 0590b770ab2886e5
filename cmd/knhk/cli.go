// This file implements the command dispatcher, the exit codes and the
// top-level recovery that turns a panic into an internal error.

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
)

// Exit codes. A user error is anything the user can fix: bad input, a
// failed check, a usage error. An internal error is a bug in knhk.
const (
	exitOK       = 0
	exitUser     = 1
	exitInternal = 2
)

// env is what a command reads and writes. Main binds it to the process;
// tests bind it to buffers.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	cmd    *command // the command being run, for its usage messages
}

// command is one subcommand of knhk.
type command struct {
	name      string
	usageLine string // after "usage: ", e.g. "knhk check [-v] [--json] FILE..."
	short     string // one line for the command list
	long      string // the help text after the usage line
	// setup defines the command's flags on fs and returns the function that
	// runs the command on the positional arguments once fs has parsed.
	setup func(fs *flag.FlagSet) func(e *env, args []string) int
}

// commands lists the subcommands in the order "knhk help" shows them.
// Only commands that work belong here: no placeholders.
var commands = []*command{checkCmd, fmtCmd, irCmd, graphCmd, runCmd, buildCmd, hlsCmd, spirvCmd, devicesCmd, signalCmd, resumeCmd, queryCmd, casesCmd, historyCmd, caseCmd, exportCmd, discoverCmd, predictCmd, learnCmd, serveCmd, clusterCmd, keygenCmd, keyCmd, signCmd, verifyCmd, receiptsCmd, auditCmd, licenseCmd, usageCmd, tenantCmd, sealCmd, fsckCmd, repairCmd, lspCmd, versionCmd}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// Main runs knhk with the process's arguments and standard streams and
// returns the exit code; main passes it to os.Exit.
func Main() int {
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
	return guard(e.stderr, func() int { return run(e, os.Args[1:]) })
}

// guard runs f and turns a panic into exit code 2 with the panic value and
// stack on stderr, so that a bug is reported as a bug rather than as a
// crash that looks like a user error.
func guard(stderr io.Writer, f func() int) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "knhk: internal error: %v\n\n%s\nThis is a bug in knhk. Please report it together with the input that caused it.\n", r, debug.Stack())
			code = exitInternal
		}
	}()
	return f()
}

// run dispatches args (without the program name) to a command.
func run(e *env, args []string) int {
	if len(args) == 0 {
		printMainUsage(e.stderr)
		return exitUser
	}
	name, rest := args[0], args[1:]
	switch name {
	case "-h", "-help", "--help":
		printMainUsage(e.stdout)
		return exitOK
	case "help":
		return runHelp(e, rest)
	case "-version", "--version":
		name = "version"
	}
	c := lookup(name)
	if c == nil {
		if strings.HasPrefix(name, "-") {
			fmt.Fprintf(e.stderr, "knhk: unknown flag %s\n", name)
		} else {
			fmt.Fprintf(e.stderr, "knhk: unknown command %q\n", name)
			if s := suggest(name); s != "" {
				fmt.Fprintf(e.stderr, "\tdid you mean %q?\n", s)
			}
		}
		fmt.Fprintf(e.stderr, "Run 'knhk help' for usage.\n")
		return exitUser
	}
	return runCommand(e, c, rest)
}

// newFlagSet returns an empty flag set for c that prints nothing itself;
// runCommand reports errors and help in one place.
func newFlagSet(c *command) *flag.FlagSet {
	fs := flag.NewFlagSet("knhk "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

func runCommand(e *env, c *command, args []string) int {
	fs := newFlagSet(c)
	body := c.setup(fs)
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		printHelp(e.stdout, c, fs)
		return exitOK
	}
	if err != nil {
		ce := *e
		ce.cmd = c
		return usageError(&ce, "%v", err)
	}
	ce := *e
	ce.cmd = c
	return runAudited(&ce, c, fs, pos, body) // admin commands are audited (auditcli.go)
}

// usageError reports a misuse of e's command and returns exit code 1.
func usageError(e *env, format string, args ...any) int {
	c := e.cmd
	fmt.Fprintf(e.stderr, "knhk %s: %s\n", c.name, fmt.Sprintf(format, args...))
	fmt.Fprintf(e.stderr, "usage: %s\nRun 'knhk help %s' for details.\n", c.usageLine, c.name)
	return exitUser
}

// parseInterspersed parses flags anywhere among the arguments, so that
// "knhk check a.knhk --json" works as well as "knhk check --json a.knhk".
// After "--" every argument is positional. A negative number ("-5") is
// positional too, so that a JSON payload or input can be one without "--".
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			// The flag package has consumed the argument it refused.
			rest := fs.Args()
			if i := len(args) - len(rest) - 1; i >= 0 && i < len(args) && negativeNumber(args[i]) {
				pos = append(pos, args[i])
				args = rest
				continue
			}
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// negativeNumber reports whether arg is a negative JSON number such as
// -5 or -1.5e3, which no flag is named like.
func negativeNumber(arg string) bool {
	n, ok := strings.CutPrefix(arg, "-")
	if !ok || n == "" || n[0] < '0' || n[0] > '9' {
		return false
	}
	_, err := strconv.ParseFloat(n, 64)
	return err == nil || errors.Is(err, strconv.ErrRange)
}

func runHelp(e *env, args []string) int {
	switch len(args) {
	case 0:
		printMainUsage(e.stdout)
		return exitOK
	case 1:
	default:
		fmt.Fprintf(e.stderr, "knhk help: too many arguments\nusage: knhk help [COMMAND]\n")
		return exitUser
	}
	if args[0] == "help" {
		fmt.Fprintf(e.stdout, "usage: knhk help [COMMAND]\n\nHelp prints the list of commands, or the help of one command.\n")
		return exitOK
	}
	c := lookup(args[0])
	if c == nil {
		fmt.Fprintf(e.stderr, "knhk help: unknown command %q\nRun 'knhk help' for the list of commands.\n", args[0])
		return exitUser
	}
	fs := newFlagSet(c)
	c.setup(fs)
	printHelp(e.stdout, c, fs)
	return exitOK
}

func printMainUsage(w io.Writer) {
	var sb strings.Builder
	if app != nil {
		fmt.Fprintf(&sb, "%s runs the workflows of %s, compiled by knhk build.\n\nusage: %s <command> [flags] [arguments]\n\nThe commands are:\n\n", app.name, filepath.Base(app.source), app.name)
	} else {
		sb.WriteString("Knhk checks and formats KNHK workflows.\n\nusage: knhk <command> [flags] [arguments]\n\nThe commands are:\n\n")
	}
	for _, c := range commands {
		fmt.Fprintf(&sb, "\t%-8s %s\n", c.name, c.short)
	}
	fmt.Fprintf(&sb, "\t%-8s %s\n", "help", "print help for a command")
	sb.WriteString("\nRun 'knhk help <command>' or 'knhk <command> --help' for more about a command.\n")
	sb.WriteString("Exit status: 0 success, 1 user error (bad input, failed check, usage), 2 internal error.\n")
	io.WriteString(w, sb.String())
}

// printHelp prints c's usage line, its description and its flags. Flags
// are shown as -x when one letter long and --name otherwise; the flag
// package accepts either spelling for both.
func printHelp(w io.Writer, c *command, fs *flag.FlagSet) {
	var sb strings.Builder
	fmt.Fprintf(&sb, "usage: %s\n\n%s", c.usageLine, c.long)
	type row struct{ name, usage string }
	var rows []row
	width := 0
	fs.VisitAll(func(f *flag.Flag) {
		name := "--" + f.Name
		if len(f.Name) == 1 {
			name = "-" + f.Name
		}
		rows = append(rows, row{name, f.Usage})
		width = max(width, len(name))
	})
	sort.Slice(rows, func(i, j int) bool { return rows[i].name < rows[j].name })
	rows = append(rows, row{"-h, --help", "print this help"})
	width = max(width, len("-h, --help"))
	sb.WriteString("\nFlags:\n")
	for _, r := range rows {
		fmt.Fprintf(&sb, "  %-*s  %s\n", width, r.name, r.usage)
	}
	io.WriteString(w, sb.String())
}

// suggest returns the command closest to a mistyped name, or "".
func suggest(name string) string {
	best, bestDist := "", 3
	for _, c := range commands {
		if d := editDistance(name, c.name); d < bestDist {
			best, bestDist = c.name, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
