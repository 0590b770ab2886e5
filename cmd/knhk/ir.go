// This file implements "knhk ir" and the compilation shared by the
// commands that need the IR (ir, graph, and the soundness gate of check).

package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/source"
)

var irCmd = &command{
	name:      "ir",
	usageLine: "knhk ir [--workflow W] [--hash] FILE",
	short:     "print the compiled IR of a .knhk file",
	long: `Ir checks FILE, lowers it and everything it imports to the intermediate
representation, and prints the IR as text: the type table, the tasks and
kernels, every function in register form and every workflow net with its
variables, places, transitions and arcs. Each element ends with its source
location as @FILE:START-END (a file index and byte offsets).

With --workflow W, ir prints only workflow W: its net, the nets of its
parallel for bodies and the functions they evaluate.

With --hash, ir prints the descriptor hash instead: the SHA-256 of the
program's stable binary encoding, which names this version of the program.

If FILE does not check, or uses a construct the compiler cannot lower yet,
ir prints the diagnostics and exits with status 1. A FILE of "-" reads
standard input.
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		var o irOptions
		fs.StringVar(&o.workflow, "workflow", "", "print only workflow `W`")
		fs.BoolVar(&o.hash, "hash", false, "print the descriptor hash instead of the text")
		return func(e *env, args []string) int { return runIR(e, &o, args) }
	},
}

type irOptions struct {
	workflow string
	hash     bool
}

func runIR(e *env, o *irOptions, args []string) int {
	if len(args) != 1 {
		return usageError(e, "want exactly one FILE, got %d", len(args))
	}
	if o.hash && o.workflow != "" {
		return usageError(e, "--hash names the whole program; it cannot be combined with --workflow")
	}
	c, code := compileFile(e, args[0])
	if c == nil {
		return code
	}
	if o.hash {
		h, err := c.prog.Hash()
		if err != nil {
			fmt.Fprintf(e.stderr, "knhk: internal error: the compiled program does not verify: %v\n", err)
			return exitInternal
		}
		fmt.Fprintln(e.stdout, h)
		return exitOK
	}
	text := c.prog.String()
	if o.workflow != "" {
		nets, ok := c.netsOf(e, o.workflow)
		if !ok {
			return exitUser
		}
		text = filterNets(text, nets)
	}
	fmt.Fprint(e.stdout, text)
	return exitOK
}

// compiled is a checked and lowered file.
type compiled struct {
	path  string
	pkg   *check.Package
	prog  *ir.Program
	files map[int32]*source.File // the sources of Program.Files
}

// compileFile checks and lowers path ("-" for standard input). On failure
// it prints the diagnostics and returns nil with the exit code.
func compileFile(e *env, path string) (*compiled, int) {
	if app != nil {
		return app.compiled(), exitOK // a built binary's own program, checked when it was built
	}
	pkg, info, diags, path, ok := loadFile(e, path)
	if !ok {
		printDiagnostics(e, diags)
		return nil, exitUser
	}
	if diags.HasErrors() {
		printDiagnostics(e, diags)
		return nil, exitUser
	}
	prog, ldiags := compiler.Lower(pkg, info)
	if ldiags.HasErrors() {
		ldiags.Sort()
		printDiagnostics(e, ldiags)
		return nil, exitUser
	}
	if err := prog.Verify(); err != nil {
		fmt.Fprintf(e.stderr, "knhk: internal error: the compiled program does not verify: %v\n", err)
		return nil, exitInternal
	}
	return &compiled{path: path, pkg: pkg, prog: prog, files: sourcesOf(prog, pkg)}, exitOK
}

// loadFile reads and checks one command-line argument. ok is false when
// the file could not be read; diags then says why.
func loadFile(e *env, path string) (*check.Package, *check.Info, source.Diagnostics, string, bool) {
	cfg := &check.Config{ReadFile: readSource}
	if path == "-" {
		b, err := readLimited(e.stdin, stdinName)
		if err != nil {
			return nil, nil, noPos(err.Error()), stdinName, false
		}
		pkg, info, diags := check.CheckSource(stdinName, b, cfg)
		return pkg, info, diags, stdinName, true
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, nil, noPos(fmt.Sprintf("%s is a directory; name a file, such as %s", path, filepath.Join(path, "main.knhk"))), path, false
	}
	pkg, info, diags := check.Load(path, cfg)
	if pkg == nil {
		return nil, nil, diags, path, false
	}
	return pkg, info, diags, path, true
}

// sourcesOf maps the program's file indices to the checked files, for
// line numbers and source text.
func sourcesOf(prog *ir.Program, pkg *check.Package) map[int32]*source.File {
	return compiler.SourceFiles(pkg, prog)
}

// netsOf returns the indices of workflow name and of the nets of its
// parallel for bodies, or reports that there is no such workflow.
func (c *compiled) netsOf(e *env, name string) ([]int, bool) {
	var idx []int
	var names []string
	for i, n := range c.prog.Nets {
		if n.Name == name || strings.HasPrefix(n.Name, name+".for_") {
			idx = append(idx, i)
		}
		if !strings.Contains(n.Name, ".for_") {
			names = append(names, n.Name)
		}
	}
	if len(idx) == 0 {
		sort.Strings(names)
		have := "it declares no workflows"
		if len(names) > 0 {
			have = "have " + strings.Join(names, ", ")
		}
		fmt.Fprintf(e.stderr, "knhk %s: no workflow %s in %s (%s)\n", e.cmd.name, name, c.path, have)
		return nil, false
	}
	return idx, true
}

// filterNets keeps, from the printed program, its header (package, files,
// types), the nets in nets and the functions scoped to them. The printer
// separates top-level entries with blank lines.
func filterNets(text string, nets []int) string {
	keep := map[int]bool{}
	for _, n := range nets {
		keep[n] = true
	}
	blocks := strings.Split(text, "\n\n")
	var out []string
	for i, b := range blocks {
		first, _, _ := strings.Cut(b, "\n")
		switch {
		case i == 0:
			out = append(out, b)
		case strings.HasPrefix(first, "workflow n"):
			if n, ok := leadingInt(first[len("workflow n"):]); ok && keep[n] {
				out = append(out, b)
			}
		case strings.HasPrefix(first, "func "):
			if k := strings.LastIndex(first, " scope "); k >= 0 {
				if n, ok := leadingInt(first[k+len(" scope "):]); ok && keep[n] {
					out = append(out, b)
				}
			}
		}
	}
	s := strings.Join(out, "\n\n")
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return s
}

func leadingInt(s string) (int, bool) {
	end := 0
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	n, err := strconv.Atoi(s[:end])
	return n, err == nil
}
