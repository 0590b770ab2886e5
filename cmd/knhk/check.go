// This file implements "knhk check".

package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/knhk/knhk/compiler/sound"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/source"
)

var checkCmd = &command{
	name:      "check",
	usageLine: "knhk check [-v] [--json] FILE...",
	short:     "parse and type-check .knhk files",
	long: `Check parses and type-checks each FILE together with everything it imports
and reports every problem it finds, as

	file:line:col: message [code]

followed by the source line and a caret line under the offending text.
Warnings are marked "warning:" and do not make the check fail. A FILE of "-"
reads standard input. Diagnostics go to standard error.

A file that type-checks is then compiled, and every workflow is proved
sound: from its start, every run can complete, a completed case leaves
nothing running, nothing deadlocks and every step can run in some case. A
workflow that fails the proof is an error (unsound) at the step where it
gets stuck, with the path from the start that leads there. With -v, check
also prints for each workflow how many states the proof explored.

With --json, check prints all diagnostics as one JSON array on standard
output instead, each an object with file, line, column, endLine, endColumn,
severity, code, codeName, message, related and fixes. Lines and columns are
1-based, columns count bytes, and the end is exclusive (the position just
after the span). A problem with no position (an unreadable file) has line
and column 0.

Check exits with status 1 if any file has an error, 0 otherwise.
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		var o checkOptions
		fs.BoolVar(&o.verbose, "v", false, "print for each file how many declarations were checked and how long it took, and for each workflow how many states its soundness proof explored")
		fs.BoolVar(&o.json, "json", false, "print diagnostics as a JSON array on standard output")
		return func(e *env, args []string) int { return runCheck(e, &o, args) }
	},
}

type checkOptions struct {
	verbose bool
	json    bool
}

// checked is the outcome of checking one named file.
type checked struct {
	path    string
	diags   source.Diagnostics
	decls   int // declarations in the file itself; -1 if it was not read
	took    time.Duration
	reports []*sound.Report // the soundness of each workflow, once it type-checks
}

func runCheck(e *env, o *checkOptions, args []string) int {
	if len(args) == 0 {
		return usageError(e, "no files to check")
	}
	failed := false
	// A file imported by several arguments is reported once.
	seen := make(map[diagKey]bool)
	var all []jsonDiagnostic
	for _, path := range args {
		r := checkFile(e, path)
		var ds source.Diagnostics
		for _, d := range r.diags {
			if k := keyOf(d); !seen[k] {
				seen[k] = true
				ds = append(ds, d)
			}
		}
		ds.Sort()
		if ds.HasErrors() {
			failed = true
		}
		if o.json {
			for _, d := range ds {
				all = append(all, toJSON(r.path, d))
			}
		} else {
			printDiagnostics(e, ds)
		}
		if o.verbose && r.decls >= 0 {
			fmt.Fprintf(e.stderr, "%s: checked %d %s in %s\n", r.path, r.decls, plural(r.decls, "declaration", "declarations"), r.took.Round(time.Microsecond))
			for _, rep := range r.reports {
				fmt.Fprintf(e.stderr, "%s: %d %s explored in %s\n", rep.Net, rep.States, plural(rep.States, "state", "states"), rep.Elapsed.Round(time.Microsecond))
			}
		}
	}
	if o.json {
		if all == nil {
			all = []jsonDiagnostic{}
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetEscapeHTML(false) // messages say "->", not "\u003e"
		enc.SetIndent("", "  ")
		if err := enc.Encode(all); err != nil {
			fmt.Fprintf(e.stderr, "knhk: writing output: %v\n", err)
			return exitUser
		}
	}
	if failed {
		return exitUser
	}
	return exitOK
}

// checkFile checks one command-line argument.
func checkFile(e *env, path string) checked {
	cfg := &check.Config{ReadFile: readSource}
	start := time.Now()
	var (
		pkg   *check.Package
		info  *check.Info
		diags source.Diagnostics
	)
	switch fi, err := os.Stat(path); {
	case path == "-":
		path = stdinName
		b, err := readLimited(e.stdin, path)
		if err != nil {
			return checked{path: path, diags: noPos(err.Error()), decls: -1}
		}
		pkg, info, diags = check.CheckSource(path, b, cfg)
	case err == nil && fi.IsDir():
		return checked{path: path, diags: noPos(fmt.Sprintf("%s is a directory; name the files to check, such as %s", path, filepath.Join(path, "*.knhk"))), decls: -1}
	default:
		pkg, info, diags = check.Load(path, cfg)
	}
	r := checked{path: path, diags: diags, decls: -1, took: time.Since(start)}
	if pkg != nil && pkg.File != nil {
		r.decls = len(pkg.File.Decls)
	}
	if pkg != nil && info != nil && !diags.HasErrors() {
		more, reports := soundness(pkg, info)
		r.diags = append(r.diags, more...)
		r.reports = reports
	}
	return r
}

// noPos is a single error without a position, such as an unreadable file.
func noPos(msg string) source.Diagnostics {
	return source.Diagnostics{{Severity: source.Error, Code: source.BadFile, Message: msg}}
}

// printDiagnostics prints ds to standard error: positioned diagnostics with
// their source line and caret line, others as "knhk: message".
func printDiagnostics(e *env, ds source.Diagnostics) {
	var sb strings.Builder
	for _, d := range ds {
		if d.File == nil {
			sev := ""
			if d.Severity != source.Error {
				sev = d.Severity.String() + ": "
			}
			fmt.Fprintf(&sb, "knhk: %s%s\n", sev, d.Message)
			continue
		}
		d.Print(&sb)
	}
	e.stderr.Write([]byte(sb.String()))
}

// diagKey identifies a diagnostic for de-duplication.
type diagKey struct {
	file       string
	start, end source.Pos
	code       source.Code
	msg        string
}

func keyOf(d *source.Diagnostic) diagKey {
	k := diagKey{start: d.Span.Start, end: d.Span.End, code: d.Code, msg: d.Message}
	if d.File != nil {
		k.file = d.File.Name
	}
	return k
}
