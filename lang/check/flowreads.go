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

// flowSets holds, per node, the nodes that have completed on every path
// from start when it starts (pre) and when it completes (done, which
// adds the node itself).
type flowSets struct {
	pre, done [][]bool
	edges     []flowArc
}

// stepsBefore computes the flowSets of a flow with n nodes: a greatest
// fixed point over the arcs, where a node's pre is the intersection over
// the arcs into it, and what an arc brings is the union of its sources'
// done for an AND join (all of them have completed) and the intersection
// otherwise.
func stepsBefore(n int, edges []flowArc) *flowSets {
	fs := &flowSets{pre: make([][]bool, n), done: make([][]bool, n), edges: edges}
	for i := range fs.done {
		fs.pre[i] = full(n)
		fs.done[i] = full(n)
	}
	fs.pre[0] = make([]bool, n)
	fs.done[0] = make([]bool, n)
	fs.done[0][0] = true
	for changed := true; changed; {
		changed = false
		for t := 1; t < n; t++ {
			var pre []bool
			for _, e := range edges {
				for _, x := range e.to {
					if x == t {
						pre = meet(pre, fs.in(e))
						break
					}
				}
			}
			if pre == nil {
				continue // no arc reaches t: reported as unreachable
			}
			done := append([]bool(nil), pre...)
			done[t] = true
			if !equalSets(done, fs.done[t]) {
				fs.pre[t], fs.done[t], changed = pre, done, true
			}
		}
	}
	return fs
}

// in is what has completed when arc e is taken.
func (fs *flowSets) in(e flowArc) []bool {
	if len(e.from) == 0 {
		return nil // an arc from unknown steps, reported already
	}
	var out []bool
	for _, f := range e.from {
		if e.all {
			out = join(out, fs.done[f])
		} else {
			out = meet(out, fs.done[f])
		}
	}
	return out
}

func full(n int) []bool {
	s := make([]bool, n)
	for i := range s {
		s[i] = true
	}
	return s
}

// meet intersects b into a copy of a; a nil a is everything.
func meet(a, b []bool) []bool {
	if b == nil {
		return a
	}
	if a == nil {
		return append([]bool(nil), b...)
	}
	for i := range a {
		a[i] = a[i] && b[i]
	}
	return a
}

// join unites b into a copy of a; a nil a is nothing.
func join(a, b []bool) []bool {
	if a == nil {
		return append([]bool(nil), b...)
	}
	for i := range a {
		a[i] = a[i] || b[i]
	}
	return a
}

func equalSets(a, b []bool) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// flowOrder returns the step nodes of a flow in reverse postorder from
// start, then the unreachable ones: a step comes after every step that
// completes before it on every path.
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

// flowStep checks the call of step st, node i of the flow, and the steps
// its arguments read.
func (c *checker) flowStep(st *syntax.Step, steps []*Label, fs *flowSets, i int) {
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
	if i >= 0 {
		c.stepReads(st.Call, steps, fs.pre[i], "step "+nameOf(st.Name), i)
	}
}

// stepReads reports each step of steps that x reads and that has not
// completed on every path to it (avail, by node; nil for unknown). what
// names the reader, self is its node (-1 for an arc).
func (c *checker) stepReads(x syntax.Expr, steps []*Label, avail []bool, what string, self int) {
	if x == nil || avail == nil {
		return
	}
	syntax.Inspect(x, func(n any) bool {
		id, ok := n.(*syntax.Ident)
		if !ok {
			return true
		}
		obj := c.info.Uses[id]
		for j, l := range steps {
			if Object(l) != obj || avail[j+2] {
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
