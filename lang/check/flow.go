// This file implements flow blocks: explicit nets of named steps and arcs,
// with checks that arcs name declared steps and that every step can be
// reached from start and can reach end.

package check

import (
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

func (c *checker) flow(s *syntax.FlowStmt) {
	saved := c.scope
	c.openScope(s)
	defer func() { c.scope = saved }()

	var steps []*Label
	index := func(name string) int {
		for i, l := range steps {
			if l.name == name {
				return i
			}
		}
		return -1
	}
	// Declare every step first: arcs and conditions may name steps in any
	// order, and a condition may test a step's result.
	for _, it := range s.Items {
		st, ok := it.(*syntax.Step)
		if !ok || st.Name == nil {
			continue
		}
		if st.Name.Value == "start" || st.Name.Value == "end" {
			c.errorf(st.Name.Span(), source.BadFlow, "%s is reserved for the flow's entry and exit; name the step differently", st.Name.Value)
			continue
		}
		l := &Label{object: object{name: st.Name.Value, kind: ObjStep, typ: TypInvalid, file: c.file, span: st.Name.Span(), decl: st}}
		if c.declare(l, st.Name) {
			steps = append(steps, l)
		}
	}

	// Arcs. Node 0 is start, 1 is end, 2+i is steps[i]. The pseudo-steps
	// get objects of their own, at the word flow, so that hover and
	// go-to-definition work on them too.
	kw := flowKeyword(s)
	pseudo := [2]*Label{
		{object: object{name: "start", kind: ObjStep, typ: TypVoid, file: c.file, span: kw, decl: s}},
		{object: object{name: "end", kind: ObjStep, typ: TypVoid, file: c.file, span: kw, decl: s}},
	}
	n := len(steps) + 2
	succ := make([][]int, n)
	hasArcs := false
	node := func(nm *syntax.Name, from bool) int {
		switch nm.Value {
		case "start":
			if !from {
				c.errorf(nm.Span(), source.BadFlow, "start cannot be the target of an arc")
				return -1
			}
			c.info.TypeUses[nm] = pseudo[0]
			return 0
		case "end":
			if from {
				c.errorf(nm.Span(), source.BadFlow, "end cannot be the source of an arc")
				return -1
			}
			c.info.TypeUses[nm] = pseudo[1]
			return 1
		}
		i := index(nm.Value)
		if i < 0 {
			d := c.errorf(nm.Span(), source.BadFlow, "unknown step %s in flow", nm.Value)
			names := []string{"start", "end"}
			for _, l := range steps {
				names = append(names, l.name)
			}
			c.suggestFix(d, nm.Span(), nm.Value, names)
			return -1
		}
		c.info.TypeUses[nm] = steps[i]
		return i + 2
	}
	var edges []flowArc
	for _, it := range s.Items {
		a, ok := it.(*syntax.Arc)
		if !ok {
			continue
		}
		hasArcs = true
		e := flowArc{arc: a, all: len(a.From) > 1 && (a.Join == nil || a.Join.Kind == "all")}
		for _, f := range a.From {
			if f != nil {
				if i := node(f, true); i >= 0 {
					e.from = append(e.from, i)
				}
			}
		}
		for _, t := range a.To {
			if t != nil {
				if i := node(t, false); i >= 0 {
					e.to = append(e.to, i)
				}
			}
		}
		for _, f := range e.from {
			succ[f] = append(succ[f], e.to...)
		}
		edges = append(edges, e)
	}

	// Steps' calls, in an order where a step's arguments are checked
	// after the steps that complete before it, so that they read typed
	// results; a read of a step that may not have completed is an error.
	g := newFlowGraph(n, edges)
	c.preType(steps)
	c.enterCond()
	checked := map[*syntax.Step]bool{}
	for _, i := range flowOrder(succ, n) {
		d := steps[i-2].decl.(*syntax.Step)
		checked[d] = true
		c.flowStep(d, steps, g, i)
	}
	for _, it := range s.Items {
		// Steps without a usable name are checked all the same.
		if d, ok := it.(*syntax.Step); ok && !checked[d] {
			c.flowStep(d, steps, g, -1)
		}
	}
	c.leaveCond()

	for k, e := range edges {
		a := e.arc
		if len(a.From) > 1 {
			c.join(a.Join, joinArc, len(a.From))
		} else {
			c.join(a.Join, joinThreads, -1)
		}
		if a.Threads != nil {
			c.threads(a.Threads)
			if len(a.To) > 1 {
				c.errorf(a.Threads.Span(), source.BadFlow, "* N splits threads into one step: write an arc of its own for each target")
			}
		}
		if a.When != nil {
			c.cond(a.When, "arc")
			// A condition is evaluated when its arc is taken: the steps
			// its sources have completed are known.
			c.stepReads(a.When, steps, "the condition of this arc", -1, func(m int) bool { return g.takenWithout(k, m) })
		}
	}
	if len(steps) == 0 && !hasArcs {
		c.errorf(s.Span(), source.BadFlow, "flow has no steps")
		return
	}
	c.flowDefaults(s)
	// Reachability from start.
	seen := make([]bool, n)
	stack := []int{0}
	seen[0] = true
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, y := range succ[x] {
			if !seen[y] {
				seen[y] = true
				stack = append(stack, y)
			}
		}
	}
	if len(succ[0]) == 0 {
		c.errorf(flowKeyword(s), source.BadFlow, "flow has no arc from start")
		return
	}
	for i, l := range steps {
		if !seen[i+2] {
			c.errorf(l.span, source.BadFlow, "step %s is not reachable from start", l.name)
		}
	}
	if !seen[1] {
		c.errorf(flowKeyword(s), source.BadFlow, "end is not reachable from start: the flow never finishes")
	}
}

// flowKeyword is the span of the word flow.
func flowKeyword(s *syntax.FlowStmt) source.Span {
	sp := s.Span()
	return source.Span{Start: sp.Start, End: min(sp.Start+4, max(sp.End, sp.Start))}
}

// flowDefaults reports a step whose leaving arcs include conditional ones
// and more than one unconditional arc: with conditions the arcs are an
// exclusive choice, and an unconditional arc is its default, of which
// there can be one.
func (c *checker) flowDefaults(s *syntax.FlowStmt) {
	type count struct {
		cond     bool
		defaults []*syntax.Arc
	}
	per := map[string]*count{}
	var order []string
	for _, it := range s.Items {
		a, ok := it.(*syntax.Arc)
		if !ok {
			continue
		}
		for _, f := range a.From {
			if f == nil {
				continue
			}
			n := per[f.Value]
			if n == nil {
				n = &count{}
				per[f.Value] = n
				order = append(order, f.Value)
			}
			if a.When != nil {
				n.cond = true
			} else {
				n.defaults = append(n.defaults, a)
			}
		}
	}
	for _, name := range order {
		if n := per[name]; n.cond && len(n.defaults) > 1 {
			d := c.errorf(n.defaults[1].Span(), source.BadFlow, "%s has conditional arcs, so its arcs are an exclusive choice with one default; this is a second arc without a condition", name)
			d.Related = append(d.Related, source.Related{File: c.file, Span: n.defaults[0].Span(), Message: "the default"})
		}
	}
}
