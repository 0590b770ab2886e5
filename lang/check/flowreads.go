// This file implements which step results a flow may read where: a
// step's arguments, and an arc's condition, may read a step only if it
// has completed on every path from start to them, so that the step
// denotes a value (its latest result in this thread) and never nothing.

package check

import (
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// flowArc is one arc of a flow between resolved nodes (0 start, 1 end,
// 2+i step i). all marks an AND join of several sources, after which
// every source has completed.
type flowArc struct {
	arc      *syntax.Arc
	from, to []int
	all      bool
}

// flowGraph is the arcs of a flow, indexed for the search of without.
type flowGraph struct {
	n     int
	edges []flowArc
	outs  [][]int // per node, the arcs it is a source of
	srcs  []int   // per arc, its distinct sources
	// without caches the last search: a flow's reads of one step are
	// usually checked together.
	m     int
	start []bool
}

func newFlowGraph(n int, edges []flowArc) *flowGraph {
	g := &flowGraph{n: n, edges: edges, outs: make([][]int, n), srcs: make([]int, len(edges)), m: -1}
	for k, e := range edges {
		seen := map[int]bool{}
		for _, f := range e.from {
			if !seen[f] {
				seen[f] = true
				g.outs[f] = append(g.outs[f], k)
				g.srcs[k]++
			}
		}
	}
	return g
}

// without returns, per node, whether it can start in a run where step
// node m has not completed (yet): the least fixed point from start,
// where a node that started completes unless it is m, and an arc is
// taken once one of its sources has completed, or all of them for an
// AND join. m completes before node t on every path exactly when t
// cannot start without it. The search is linear in the flow.
func (g *flowGraph) without(m int) []bool {
	if g.m == m {
		return g.start
	}
	started := make([]bool, g.n)
	count := make([]int, len(g.edges))
	taken := make([]bool, len(g.edges))
	started[0] = true
	work := []int{0}
	for len(work) > 0 {
		x := work[len(work)-1]
		work = work[:len(work)-1]
		if x == m {
			continue // started, but does not complete
		}
		for _, k := range g.outs[x] {
			count[k]++
			if taken[k] || (g.edges[k].all && count[k] < g.srcs[k]) {
				continue
			}
			taken[k] = true
			for _, y := range g.edges[k].to {
				if !started[y] {
					started[y] = true
					work = append(work, y)
				}
			}
		}
	}
	g.m, g.start = m, started
	return started
}

// takenWithout reports whether arc k can be taken in a run where step
// node m has not completed.
func (g *flowGraph) takenWithout(k, m int) bool {
	st := g.without(m)
	e := g.edges[k]
	some, all := false, len(e.from) > 0
	for _, f := range e.from {
		done := st[f] && f != m
		some = some || done
		all = all && done
	}
	if e.all {
		return all
	}
	return some
}

// flowOrder returns the step nodes of a flow in reverse postorder from
// start, then the unreachable ones: as far as the arcs say, a step comes
// after the steps that complete before it.
func flowOrder(succ [][]int, n int) []int {
	seen := make([]bool, n)
	var post []int
	var visit func(x int)
	visit = func(x int) {
		seen[x] = true
		for _, y := range succ[x] {
			if !seen[y] {
				visit(y)
			}
		}
		post = append(post, x)
	}
	visit(0)
	var order []int
	for i := len(post) - 1; i >= 0; i-- {
		if post[i] >= 2 {
			order = append(order, post[i])
		}
	}
	for i := 2; i < n; i++ {
		if !seen[i] {
			order = append(order, i)
		}
	}
	return order
}

// preType gives each step the result type of the task or workflow it
// calls before any step's arguments are checked, so that a step that
// reads a step declared after it reads a typed value. Checking the call
// sets the same type again (or reports why there is none).
func (c *checker) preType(steps []*Label) {
	for _, l := range steps {
		st, ok := l.decl.(*syntax.Step)
		if !ok {
			continue
		}
		call, ok := st.Call.(*syntax.CallExpr)
		if !ok {
			continue
		}
		var obj Object
		switch f := call.Fun.(type) {
		case *syntax.Ident:
			obj = c.lookup(f.Name)
		case *syntax.SelectorExpr:
			if x, ok := f.X.(*syntax.Ident); ok && f.Sel != nil {
				if pn, ok := c.lookup(x.Name).(*PkgName); ok && pn.Pkg != nil && pn.Pkg.Scope != nil {
					obj = pn.Pkg.Scope.Lookup(f.Sel.Name)
				}
			}
		}
		if cl, ok := obj.(*Callable); ok && (cl.Kind() == ObjTask || cl.Kind() == ObjWorkflow) {
			if sig := cl.Signature(); sig != nil && sig.Result != nil {
				l.typ = sig.Result
			}
		}
	}
}

// flowStep checks the call of step st, node i of the flow (-1 when it
// has no usable name), and the steps its arguments read.
func (c *checker) flowStep(st *syntax.Step, steps []*Label, g *flowGraph, i int) {
	t, k := c.effectCall(st.Call, nil)
	if !k.effect() {
		if k != callNone || !isInvalid(t) {
			c.errorf(nodeSpan(st.Call, st), source.BadFlow, "step %s must call a task or workflow", nameOf(st.Name))
		}
	} else if st.Name != nil {
		if l, ok := c.info.Defs[st.Name].(*Label); ok {
			l.typ = t
		}
	}
	c.clauses(st.Clauses, k)
	if i < 0 {
		return
	}
	c.stepReads(st.Call, steps, "step "+nameOf(st.Name), i, func(m int) bool { return g.without(m)[i] })
}

// stepReads reports each step of steps that x reads and that may not
// have completed there (early reports it for a node). what names the
// reader, self is its node (-1 for an arc).
func (c *checker) stepReads(x syntax.Expr, steps []*Label, what string, self int, early func(m int) bool) {
	if x == nil {
		return
	}
	syntax.Inspect(x, func(n any) bool {
		id, ok := n.(*syntax.Ident)
		if !ok {
			return true
		}
		obj := c.info.Uses[id]
		for j, l := range steps {
			if Object(l) != obj || !early(j+2) {
				continue
			}
			if j+2 == self {
				c.errorf(id.Span(), source.BadFlow, "%s reads its own result, which it does not have when it starts; a step's arguments may read only steps that complete before it on every path from start", what)
			} else {
				c.errorf(id.Span(), source.BadFlow, "%s reads step %s, which does not complete before it on every path from start, so it may have no value yet", what, l.name)
			}
		}
		return true
	})
}
