// This file implements building a view from a net: which transitions are
// user-level steps, their names, and the edges between them.

package view

import (
	"strings"

	"github.com/knhk/knhk/compiler/ir"
)

// Options are what [Build] may use beyond the program.
type Options struct {
	// Text returns the source text at l, "" when unknown; with it, timers
	// are named by their duration and branches labelled with their
	// conditions as written. Nil leaves both out.
	Text func(l ir.Loc) string
}

// Build returns the view of net ni of p.
func Build(p *ir.Program, ni int, o Options) *Graph {
	n := p.Nets[ni]
	g := &Graph{Net: ni, Name: NetName(n.Name), TransNode: make([]int, len(n.Transitions)), PlaceNodes: make([][]int, len(n.Places))}
	g.Nodes = append(g.Nodes, Node{ID: 0, Kind: Start, Name: "start", Trans: -1, Loc: n.Loc, Child: -1})
	g.Nodes = append(g.Nodes, Node{ID: 1, Kind: End, Name: "end", Trans: -1, Loc: n.Loc, Child: -1})
	// A flow arc "a -> b * N" starts N threads and "a -> b join N" waits
	// for N of them: a routing step with an arc of that weight.
	inW := make([]int32, len(n.Transitions))
	outW := make([]int32, len(n.Transitions))
	for _, a := range n.Arcs {
		if a == nil || a.Trans < 0 || int(a.Trans) >= len(n.Transitions) {
			continue
		}
		if a.Out {
			outW[a.Trans] = max(outW[a.Trans], a.Weight)
		} else {
			inW[a.Trans] = max(inW[a.Trans], a.Weight)
		}
	}
	for ti, t := range n.Transitions {
		g.TransNode[ti] = -1
		nd, ok := classify(p, n, t, o)
		if t.Kind == ir.TNop && inW[ti] > 1 {
			nd, ok = Node{Kind: Join, Name: "join", Detail: itoa(int(inW[ti])), Loc: t.Loc, Child: -1}, true
		} else if t.Kind == ir.TNop && outW[ti] > 1 && !ok {
			nd, ok = Node{Kind: Parallel, Name: "parallel", Detail: "×" + itoa(int(outW[ti])), Loc: t.Loc, Child: -1}, true
		}
		if !ok {
			continue
		}
		nd.ID = len(g.Nodes)
		nd.Trans = int32(ti)
		g.TransNode[ti] = nd.ID
		g.Nodes = append(g.Nodes, nd)
	}
	b := newWalker(n, g)
	for pi := range n.Places {
		g.PlaceNodes[pi] = b.reach(int32(pi))
	}
	seen := map[Edge]bool{}
	add := func(e Edge) {
		k := e
		k.Label = ""
		if !seen[k] {
			seen[k] = true
			g.Edges = append(g.Edges, e)
		}
	}
	for _, to := range g.PlaceNodes[n.Start] {
		add(Edge{From: 0, To: to, Guard: ir.NoFunc})
	}
	for ti, t := range n.Transitions {
		from := g.TransNode[ti]
		if from < 0 {
			continue
		}
		for _, a := range b.outs[ti] {
			if n.Places[a.Place].Init > 0 {
				continue // a resource given back, not a path
			}
			e := Edge{From: from, Guard: a.Guard}
			if a.Guard == ir.NoFunc && t.Split == ir.SplitXor {
				e.Default = true
			}
			if a.Guard != ir.NoFunc && o.Text != nil && int(a.Guard) < len(p.Funcs) && a.Guard >= 0 {
				e.Label = shorten(o.Text(p.Funcs[a.Guard].Loc))
			}
			for _, to := range g.PlaceNodes[a.Place] {
				e.To = to
				add(e)
			}
		}
	}
	return g
}

// walker finds the nodes a place leads to through bookkeeping.
type walker struct {
	n    *ir.Net
	g    *Graph
	cons [][]int32   // place -> transitions consuming from it
	outs [][]*ir.Arc // transition -> output arcs
}

func newWalker(n *ir.Net, g *Graph) *walker {
	w := &walker{n: n, g: g, cons: make([][]int32, len(n.Places)), outs: make([][]*ir.Arc, len(n.Transitions))}
	for _, a := range n.Arcs {
		if a == nil || int(a.Place) >= len(n.Places) || int(a.Trans) >= len(n.Transitions) || a.Place < 0 || a.Trans < 0 {
			continue
		}
		if a.Out {
			w.outs[a.Trans] = append(w.outs[a.Trans], a)
		} else {
			w.cons[a.Place] = append(w.cons[a.Place], a.Trans)
		}
	}
	return w
}

// reach returns the nodes a token on place p can reach first, in net
// order: the end node for the end place, a user-level consumer itself,
// and what a bookkeeping consumer's outputs reach. Resource places are
// not followed: a critical section giving its mutex back does not lead
// into the other sections that wait for it.
func (w *walker) reach(p int32) []int {
	var out []int
	have := map[int]bool{}
	seenT := map[int32]bool{}
	seenP := map[int32]bool{}
	var visit func(p int32)
	visit = func(p int32) {
		if seenP[p] {
			return
		}
		seenP[p] = true
		if p == w.n.End && !have[1] {
			have[1] = true
			out = append(out, 1)
		}
		for _, t := range w.cons[p] {
			if id := w.g.TransNode[t]; id >= 0 {
				if !have[id] {
					have[id] = true
					out = append(out, id)
				}
				continue
			}
			if seenT[t] {
				continue
			}
			seenT[t] = true
			for _, a := range w.outs[t] {
				if w.n.Places[a.Place].Init == 0 {
					visit(a.Place)
				}
			}
		}
	}
	visit(p)
	return out
}

// choiceNames maps the lowering's names of routing transitions that are
// user-level to the keyword the source wrote.
var choiceNames = map[string]string{
	"if": "if", "guard": "guard", "test": "while", "choose": "choose",
	"select": "select", "arms": "multi",
}

// classify decides whether t is a user-level step and, if so, returns its
// node (without ID and Trans).
func classify(p *ir.Program, n *ir.Net, t *ir.Transition, o Options) (Node, bool) {
	nd := Node{Loc: t.Loc, Child: -1}
	switch t.Kind {
	case ir.TTask, ir.TKernel, ir.TWorkflow:
		nd.Kind = Task
		nd.Name = CalleeName(p, t.Call)
		if nd.Name == "" {
			nd.Name = ir.BaseName(t.Name)
		}
		if t.Kind == ir.TWorkflow && t.Call != nil {
			nd.Child = t.Call.Target
			nd.Name = NetName(nd.Name)
		}
	case ir.TRoute:
		nd.Kind, nd.Name, nd.Detail = Task, t.Label, "(learned route)"
	case ir.TMulti:
		nd.Kind, nd.Name = Task, "for each"
		if t.Call != nil {
			nd.Child = t.Call.Target
		}
		var det []string
		if t.Quorum != ir.NoFunc {
			// "join N" of a parallel for: done after N instances.
			q := "some"
			if o.Text != nil && t.Quorum >= 0 && int(t.Quorum) < len(p.Funcs) {
				// The quorum's span may cover the whole "join N keep".
				s := shorten(o.Text(p.Funcs[t.Quorum].Loc))
				s = strings.TrimSuffix(strings.TrimPrefix(s, "join "), " keep")
				if s != "" {
					q = s
				}
			}
			j := "join " + q
			if t.Keep {
				j += " keep"
			}
			det = append(det, j)
		}
		if t.Label != "" {
			det = append(det, "and each "+t.Label)
		}
		if len(det) > 0 {
			nd.Detail = "(" + strings.Join(det, ", ") + ")"
		}
	case ir.TSignal:
		nd.Kind, nd.Name = Wait, t.Label
	case ir.TTimer:
		nd.Kind = Timer
		if o.Text != nil && t.Value >= 0 && int(t.Value) < len(p.Funcs) {
			nd.Name = shorten(o.Text(p.Funcs[t.Value].Loc))
		}
	case ir.TSend:
		nd.Kind, nd.Name = Send, t.Label
	case ir.TFail:
		nd.Kind, nd.Name = Fail, "fail"
	case ir.TCancel:
		nd.Kind = Cancel
		switch t.Cancel {
		case ir.CancelTask:
			nd.Name = ir.BaseName(strings.TrimPrefix(t.Name, "cancel_"))
			if t.Task >= 0 && int(t.Task) < len(p.Tasks) && p.Tasks[t.Task] != nil {
				nd.Name = p.Tasks[t.Task].Name
			}
		case ir.CancelRegion:
			nd.Name = ir.BaseName(strings.TrimPrefix(t.Name, "cancel_"))
			if t.Region >= 0 && int(t.Region) < len(n.Regions) {
				nd.Name = ir.BaseName(n.Regions[t.Region].Name)
			}
		default:
			nd.Name = "case"
		}
	case ir.TNop:
		base := ir.BaseName(t.Name)
		switch {
		case base == "join" || t.Join == ir.JoinPartial || t.Join == ir.JoinOr:
			nd.Kind, nd.Name, nd.Detail = Join, "join", joinRule(n, t)
		case choiceNames[base] != "":
			nd.Kind, nd.Name = Choice, choiceNames[base]
		case base == "parallel":
			nd.Kind, nd.Name = Parallel, "parallel"
		default:
			return nd, false
		}
	default:
		// Assignments, returns, markers: bookkeeping.
		return nd, false
	}
	return nd, true
}

// joinRule says how many branches a join waits for.
func joinRule(n *ir.Net, t *ir.Transition) string {
	switch t.Join {
	case ir.JoinPartial:
		if t.JoinN == 1 {
			return "any"
		}
		return itoa(int(t.JoinN)) + " of"
	case ir.JoinOr:
		return "of the started"
	}
	return "all"
}
