// This file implements a built-in SVG drawing of views for when Graphviz
// is not installed: a plain layered layout, left to right, that keeps the
// node ids and classes of the DOT drawing so a page highlights both alike.

package view

import (
	"fmt"
	"html"
	"io"
	"strings"

	"github.com/knhk/knhk/compiler/ir"
)

// SVGOptions configure [SVG].
type SVGOptions struct {
	Line  func(l ir.Loc) int
	Marks map[int]map[int]Mark
}

const (
	svgNodeH  = 36
	svgGapX   = 56
	svgGapY   = 24
	svgMargin = 16
	svgCharW  = 7
)

// SVG writes the views as one SVG document: each view in a frame under
// the previous one, its nodes in layers by their longest distance from
// the start along forward edges.
func SVG(w io.Writer, gs []*Graph, o SVGOptions) error {
	var body strings.Builder
	y := svgMargin
	width := 0
	for _, g := range gs {
		h, wd := svgGraph(&body, g, o, y)
		y += h + svgMargin
		width = max(width, wd)
	}
	_, err := fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica,Arial,sans-serif" font-size="11">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>
%s</svg>
`, width+svgMargin, y, width+svgMargin, y, body.String())
	return err
}

// svgGraph draws g with its top at y and returns its height and width.
func svgGraph(sb *strings.Builder, g *Graph, o SVGOptions, top int) (int, int) {
	layer, back := layers(g)
	var cols [][]int
	for id := range g.Nodes {
		l := layer[id]
		for len(cols) <= l {
			cols = append(cols, nil)
		}
		cols[l] = append(cols[l], id)
	}
	labels := make([]string, len(g.Nodes))
	widths := make([]int, len(g.Nodes))
	for i := range g.Nodes {
		nd := &g.Nodes[i]
		if nd.Kind == Start || nd.Kind == End {
			widths[i] = svgNodeH / 2
			continue
		}
		labels[i] = nd.Label()
		if o.Line != nil {
			if ln := o.Line(nd.Loc); ln > 0 {
				labels[i] += fmt.Sprintf(" · line %d", ln)
			}
		}
		widths[i] = max(60, len([]rune(labels[i]))*svgCharW+20)
	}
	xs := make([]int, len(g.Nodes))
	ys := make([]int, len(g.Nodes))
	x := svgMargin
	height := 0
	for _, col := range cols {
		cw := 0
		for _, id := range col {
			cw = max(cw, widths[id])
		}
		for k, id := range col {
			xs[id] = x + (cw-widths[id])/2
			ys[id] = top + 28 + k*(svgNodeH+svgGapY)
		}
		height = max(height, 28+len(col)*(svgNodeH+svgGapY))
		x += cw + svgGapX
	}
	fmt.Fprintf(sb, `<g class="cluster"><rect x="4" y="%d" width="%d" height="%d" fill="none" stroke="#999"/><text x="12" y="%d" font-size="13">%s</text></g>`+"\n",
		top, x-svgGapX+svgMargin, height, top+18, html.EscapeString("workflow "+g.Name))
	for i, e := range g.Edges {
		x1, y1 := xs[e.From]+widths[e.From], ys[e.From]+svgNodeH/2
		x2, y2 := xs[e.To], ys[e.To]+svgNodeH/2
		d := fmt.Sprintf("M%d,%d L%d,%d", x1, y1, x2, y2)
		if back[i] {
			x1, x2 = xs[e.From]+widths[e.From]/2, xs[e.To]+widths[e.To]/2
			y1, y2 = ys[e.From]+svgNodeH, ys[e.To]+svgNodeH
			low := max(y1, y2) + svgGapY
			d = fmt.Sprintf("M%d,%d C%d,%d %d,%d %d,%d", x1, y1, x1, low, x2, low, x2, y2)
		}
		dash := ""
		if e.Default {
			dash = ` stroke-dasharray="4,3"`
		}
		fmt.Fprintf(sb, `<g class="edge"><path d="%s" fill="none" stroke="#333" marker-end="url(#arrow)"%s/>`, d, dash)
		label := e.Label
		if label == "" && e.Default {
			label = "default"
		}
		if label != "" {
			fmt.Fprintf(sb, `<text x="%d" y="%d" font-size="9" text-anchor="middle">%s</text>`, (x1+x2)/2, (y1+y2)/2-4, html.EscapeString(label))
		}
		sb.WriteString("</g>\n")
	}
	for i := range g.Nodes {
		nd := &g.Nodes[i]
		m := o.Marks[g.Net][nd.ID]
		fill := "white"
		if m != Unmarked {
			fill = markColors[m]
		}
		class := "node"
		if m != Unmarked {
			class += " " + markClass(m)
		}
		fmt.Fprintf(sb, `<g id="%s" class="%s">`, NodeID(g.Net, nd.ID), class)
		cx, cy := xs[i]+widths[i]/2, ys[i]+svgNodeH/2
		switch nd.Kind {
		case Start, End:
			fmt.Fprintf(sb, `<circle cx="%d" cy="%d" r="9" fill="%s" stroke="#333"/>`, cx, cy, fill)
			if nd.Kind == End {
				fmt.Fprintf(sb, `<circle cx="%d" cy="%d" r="6" fill="none" stroke="#333"/>`, cx, cy)
			}
		case Choice:
			fmt.Fprintf(sb, `<polygon points="%d,%d %d,%d %d,%d %d,%d" fill="%s" stroke="#333"/>`,
				xs[i], cy, cx, ys[i], xs[i]+widths[i], cy, cx, ys[i]+svgNodeH, fill)
		default:
			rx := 0
			if nd.Kind == Task {
				rx = 8
			}
			if (nd.Kind == Parallel || nd.Kind == Join) && m == Unmarked {
				fill = "#e5e5e5"
			}
			fmt.Fprintf(sb, `<rect x="%d" y="%d" width="%d" height="%d" rx="%d" fill="%s" stroke="#333"/>`, xs[i], ys[i], widths[i], svgNodeH, rx, fill)
		}
		if labels[i] != "" {
			fmt.Fprintf(sb, `<text x="%d" y="%d" text-anchor="middle">%s</text>`, cx, cy+4, html.EscapeString(labels[i]))
		}
		sb.WriteString("</g>\n")
	}
	return height, x - svgGapX + svgMargin
}

// layers returns each node's layer, the longest path to it from the
// start along edges that are not back edges (found by a depth-first
// search from the start), and which edges are back edges.
func layers(g *Graph) ([]int, []bool) {
	out := make([][]int, len(g.Nodes))
	for i, e := range g.Edges {
		out[e.From] = append(out[e.From], i)
	}
	back := make([]bool, len(g.Edges))
	state := make([]uint8, len(g.Nodes)) // 0 new, 1 on stack, 2 done
	var dfs func(n int)
	dfs = func(n int) {
		state[n] = 1
		for _, ei := range out[n] {
			to := g.Edges[ei].To
			switch state[to] {
			case 0:
				dfs(to)
			case 1:
				back[ei] = true
			}
		}
		state[n] = 2
	}
	for n := range g.Nodes {
		if state[n] == 0 {
			dfs(n)
		}
	}
	layer := make([]int, len(g.Nodes))
	// Longest path by relaxation; forward edges form a DAG, so
	// len(Nodes) rounds suffice.
	for range g.Nodes {
		changed := false
		for i, e := range g.Edges {
			if !back[i] && layer[e.To] < layer[e.From]+1 {
				layer[e.To] = layer[e.From] + 1
				changed = true
			}
		}
		if !changed {
			break
		}
	}
	return layer, back
}
