// This file implements "knhk graph": a workflow as a Graphviz graph,
// written as DOT or, through the dot command, as SVG: the user-level view
// of compiler/view by default, the raw workflow net with --detail.

package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/knhk/knhk/compiler/ir"
)

var graphCmd = &command{
	name:      "graph",
	usageLine: "knhk graph [--workflow W] [--detail] [-o OUT.dot|OUT.svg] FILE",
	short:     "draw the workflows of a .knhk file as DOT or SVG",
	long: `Graph checks and compiles FILE and writes its workflows as a Graphviz
graph of the steps written in the source: task calls (rounded boxes),
choices (diamonds: if, guard, while, choose, select, multi), parallel
splits and joins (grey boxes, a join with its rule: all, any, N of),
signal waits, timers with their durations, sends, cancels and fails, each
with its source line, and the branches of a choice labelled with their
conditions ("default" for the branch taken when no condition holds).
Assignments, merges, markers of critical sections and milestones, and
the other bookkeeping steps of the compiled net are collapsed into the
edges between them.

With --detail it draws the compiled workflow nets instead: places are
circles (resource places, such as the mutex of a critical
section, show their initial tokens), transitions are boxes labelled with
their kind, name and source line, and the output arcs of choices are
labelled with their conditions ("default" for the arc taken when no
condition holds). Each workflow is a cluster; with --workflow W only W and
the nets of its parallel for bodies are drawn.

Without -o, graph writes DOT to standard output. With -o OUT.svg it runs
Graphviz (dot -Tsvg) and writes SVG, which needs the dot command on PATH;
with any other -o it writes DOT to that file.

If FILE does not check, graph prints the diagnostics and exits with status
1. A FILE of "-" reads standard input.
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		var o graphOptions
		fs.StringVar(&o.workflow, "workflow", "", "draw only workflow `W`")
		fs.StringVar(&o.out, "o", "", "write to `FILE`: SVG when it ends in .svg, else DOT")
		fs.BoolVar(&o.detail, "detail", false, "draw the compiled workflow nets: every place and transition")
		return func(e *env, args []string) int { return runGraph(e, &o, args) }
	},
}

type graphOptions struct {
	workflow string
	out      string
	detail   bool
}

// dotTimeout bounds a Graphviz run, which can take very long on huge
// graphs.
const dotTimeout = 2 * time.Minute

func runGraph(e *env, o *graphOptions, args []string) int {
	if len(args) != 1 {
		return usageError(e, "want exactly one FILE, got %d", len(args))
	}
	svg := strings.HasSuffix(strings.ToLower(o.out), ".svg")
	var dotPath string
	if svg {
		// Fail before compiling when the output cannot be produced.
		p, err := exec.LookPath("dot")
		if err != nil {
			fmt.Fprintf(e.stderr, "knhk graph: writing SVG needs Graphviz: install it so that the dot command is on PATH, or write DOT with -o %s.dot\n", o.out[:len(o.out)-len(".svg")])
			return exitUser
		}
		dotPath = p
	}
	c, code := compileFile(e, args[0])
	if c == nil {
		return code
	}
	nets := make([]int, len(c.prog.Nets))
	for i := range nets {
		nets[i] = i
	}
	if o.workflow != "" {
		var ok bool
		if nets, ok = c.netsOf(e, o.workflow); !ok {
			return exitUser
		}
	}
	var dot string
	if o.detail {
		dot = c.dot(nets)
	} else {
		dot = c.viewDOT(nets)
	}
	var out []byte
	switch {
	case svg:
		ctx, cancel := context.WithTimeout(context.Background(), dotTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, dotPath, "-Tsvg")
		cmd.Stdin = strings.NewReader(dot)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		b, err := cmd.Output()
		if err != nil {
			msg := strings.TrimSpace(stderr.String())
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				msg = "timed out after " + dotTimeout.String()
			}
			fmt.Fprintf(e.stderr, "knhk graph: dot -Tsvg failed: %v %s\n", err, msg)
			return exitUser
		}
		out = b
	default:
		out = []byte(dot)
	}
	if o.out == "" {
		e.stdout.Write(out)
		return exitOK
	}
	if err := os.WriteFile(o.out, out, 0o644); err != nil {
		fmt.Fprintf(e.stderr, "knhk graph: %v\n", err)
		return exitUser
	}
	return exitOK
}

// dot renders the nets with the given indices.
func (c *compiled) dot(nets []int) string {
	var sb strings.Builder
	sb.WriteString("digraph knhk {\n")
	sb.WriteString("  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n")
	drawn := map[int]bool{}
	for _, ni := range nets {
		c.dotNet(&sb, ni, c.prog.Nets[ni])
		drawn[ni] = true
	}
	// A transition that starts child cases of a drawn net (a parallel for
	// body, a sub-workflow) points at that net's start.
	for _, ni := range nets {
		for ti, t := range c.prog.Nets[ni].Transitions {
			if t.Call == nil || t.Call.Kind != ir.CallWorkflow || !drawn[int(t.Call.Target)] {
				continue
			}
			label := "child case"
			if t.Kind == ir.TMulti {
				label = "each element"
			}
			child := c.prog.Nets[t.Call.Target]
			fmt.Fprintf(&sb, "  n%d_t%d -> n%d_p%d [style=dotted, label=%s];\n", ni, ti, t.Call.Target, child.Start, dotString(label))
		}
	}
	sb.WriteString("}\n")
	return sb.String()
}

func (c *compiled) dotNet(sb *strings.Builder, ni int, n *ir.Net) {
	fmt.Fprintf(sb, "  subgraph cluster_n%d {\n", ni)
	fmt.Fprintf(sb, "    label=%s;\n", dotString("workflow "+n.Name))
	for i, p := range n.Places {
		label := p.Name
		attrs := "shape=circle"
		switch {
		case int32(i) == n.Start || int32(i) == n.End:
			attrs = "shape=doublecircle"
		case p.Init > 0:
			label += fmt.Sprintf("\n(%d)", p.Init)
			attrs += ", style=filled, fillcolor=lightyellow"
		}
		fmt.Fprintf(sb, "    n%d_p%d [%s, label=%s];\n", ni, i, attrs, dotString(label))
	}
	for i, t := range n.Transitions {
		label := t.Kind.String() + " " + t.Name
		var route []string
		if t.Join != ir.JoinAnd {
			j := "join " + t.Join.String()
			if t.Join == ir.JoinPartial {
				j += fmt.Sprintf(" %d", t.JoinN)
			}
			route = append(route, j)
		}
		if t.Split != ir.SplitAnd {
			route = append(route, "split "+t.Split.String())
		}
		if t.Cancel != ir.CancelNone {
			route = append(route, "cancel "+t.Cancel.String())
		}
		if len(route) > 0 {
			label += "\n" + strings.Join(route, ", ")
		}
		if ln := c.line(t.Loc); ln > 0 {
			label += fmt.Sprintf("\nline %d", ln)
		}
		fmt.Fprintf(sb, "    n%d_t%d [shape=box, label=%s];\n", ni, i, dotString(label))
	}
	for _, a := range n.Arcs {
		if a.Out {
			attrs := ""
			if a.Guard != ir.NoFunc {
				attrs = " [label=" + dotString(c.guardText(a.Guard)) + "]"
			} else if t := n.Transitions[a.Trans]; t.Split == ir.SplitXor {
				attrs = " [label=\"default\", style=dashed]"
			}
			if a.Weight > 1 && attrs == "" {
				attrs = fmt.Sprintf(" [label=\"×%d\"]", a.Weight)
			}
			fmt.Fprintf(sb, "    n%d_t%d -> n%d_p%d%s;\n", ni, a.Trans, ni, a.Place, attrs)
		} else if a.Weight > 1 {
			// A weighted input takes that many tokens (a thread merge).
			fmt.Fprintf(sb, "    n%d_p%d -> n%d_t%d [label=\"×%d\"];\n", ni, a.Place, ni, a.Trans, a.Weight)
		} else {
			fmt.Fprintf(sb, "    n%d_p%d -> n%d_t%d;\n", ni, a.Place, ni, a.Trans)
		}
	}
	sb.WriteString("  }\n")
}

// line returns the 1-based source line of l, or 0.
func (c *compiled) line(l ir.Loc) int {
	f := c.files[l.File]
	if f == nil || !l.Known() {
		return 0
	}
	return f.Position(l.Span.Start).Line
}

// guardText is the source text of a guard, shortened for a label.
func (c *compiled) guardText(g ir.FuncID) string {
	if g < 0 || int(g) >= len(c.prog.Funcs) {
		return fmt.Sprintf("f%d", g)
	}
	fn := c.prog.Funcs[g]
	f := c.files[fn.Loc.File]
	sp := fn.Loc.Span
	if f == nil || !fn.Loc.Known() || int(sp.End) > len(f.Content) || sp.End <= sp.Start {
		return fn.Name
	}
	text := strings.Join(strings.Fields(string(f.Content[sp.Start:sp.End])), " ")
	if r := []rune(text); len(r) > 40 {
		text = string(r[:37]) + "..."
	}
	return text
}

// dotString quotes s as a DOT string; a newline becomes a centred line
// break.
func dotString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", "")
	return `"` + r.Replace(s) + `"`
}
