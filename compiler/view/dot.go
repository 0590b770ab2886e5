// This file implements drawing views as Graphviz DOT.

package view

import (
	"fmt"
	"io"
	"strings"

	"github.com/knhk/knhk/compiler/ir"
)

// Mark is how a node is highlighted.
type Mark uint8

// The marks, by increasing precedence.
const (
	Unmarked Mark = iota
	Done          // the step has fired
	Pending       // a token waits before the step
	Running       // the step's call is running
)

// DOTOptions configure [DOT].
type DOTOptions struct {
	// Line returns the 1-based source line of l, 0 when unknown; nil
	// leaves lines out.
	Line func(l ir.Loc) int
	// Marks highlights nodes: Marks[net][node].
	Marks map[int]map[int]Mark
}

// NodeID is the DOT id of node id of the view of net: also the id of its
// group in the SVG that Graphviz makes, so a page can find it.
func NodeID(net, id int) string { return fmt.Sprintf("n%d_v%d", net, id) }

var shapes = [...]string{
	Start:    "shape=circle, label=\"\", width=0.25",
	End:      "shape=doublecircle, label=\"\", width=0.2",
	Task:     "shape=box, style=\"rounded,filled\", fillcolor=white",
	Choice:   "shape=diamond, style=filled, fillcolor=white",
	Parallel: "shape=box, style=filled, fillcolor=gray90",
	Join:     "shape=box, style=filled, fillcolor=gray90",
	Wait:     "shape=invhouse, style=filled, fillcolor=white",
	Timer:    "shape=ellipse, style=filled, fillcolor=white",
	Send:     "shape=cds, style=filled, fillcolor=white",
	Cancel:   "shape=octagon, style=filled, fillcolor=white",
	Fail:     "shape=octagon, style=filled, fillcolor=white",
}

var markColors = [...]string{Done: "#d9ead3", Pending: "#fff2cc", Running: "#cfe2f3"}

// DOT writes the views as one Graphviz graph, each in a cluster, with
// dotted edges from a parallel for or sub-workflow call to the start of
// the net it starts when that net is drawn too.
func DOT(w io.Writer, gs []*Graph, o DOTOptions) error {
	var sb strings.Builder
	sb.WriteString("digraph knhk {\n")
	sb.WriteString("  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n")
	drawn := map[int]bool{}
	for _, g := range gs {
		drawn[g.Net] = true
	}
	for _, g := range gs {
		fmt.Fprintf(&sb, "  subgraph cluster_n%d {\n", g.Net)
		fmt.Fprintf(&sb, "    label=%s;\n", Quote("workflow "+g.Name))
		for i := range g.Nodes {
			nd := &g.Nodes[i]
			attrs := shapes[nd.Kind]
			if nd.Kind != Start && nd.Kind != End {
				label := nd.Label()
				if o.Line != nil {
					if ln := o.Line(nd.Loc); ln > 0 {
						label += fmt.Sprintf("\nline %d", ln)
					}
				}
				attrs += ", label=" + Quote(label)
			}
			m := o.Marks[g.Net][nd.ID]
			if m != Unmarked {
				attrs += fmt.Sprintf(", class=%q, penwidth=2", markClass(m))
				if nd.Kind != Start && nd.Kind != End {
					attrs += ", style=\"filled" + rounded(nd.Kind) + "\", fillcolor=\"" + markColors[m] + "\""
				} else {
					attrs += ", style=filled, fillcolor=\"" + markColors[m] + "\""
				}
			}
			fmt.Fprintf(&sb, "    %s [id=%q, %s];\n", NodeID(g.Net, nd.ID), NodeID(g.Net, nd.ID), attrs)
		}
		for _, e := range g.Edges {
			var attrs []string
			switch {
			case e.Label != "":
				attrs = append(attrs, "label="+Quote(e.Label))
			case e.Default:
				attrs = append(attrs, "label=\"default\"", "style=dashed")
			}
			a := ""
			if len(attrs) > 0 {
				a = " [" + strings.Join(attrs, ", ") + "]"
			}
			fmt.Fprintf(&sb, "    %s -> %s%s;\n", NodeID(g.Net, e.From), NodeID(g.Net, e.To), a)
		}
		sb.WriteString("  }\n")
	}
	for _, g := range gs {
		for _, nd := range g.Nodes {
			if nd.Child >= 0 && drawn[int(nd.Child)] {
				fmt.Fprintf(&sb, "  %s -> %s [style=dotted, label=\"child case\"];\n", NodeID(g.Net, nd.ID), NodeID(int(nd.Child), 0))
			}
		}
	}
	sb.WriteString("}\n")
	_, err := io.WriteString(w, sb.String())
	return err
}

func rounded(k Kind) string {
	if k == Task {
		return ",rounded"
	}
	return ""
}

func markClass(m Mark) string {
	switch m {
	case Done:
		return "done"
	case Pending:
		return "pending"
	case Running:
		return "running"
	}
	return ""
}

// Quote quotes s as a DOT string; a newline becomes a centred line break.
func Quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", "")
	return `"` + r.Replace(s) + `"`
}
