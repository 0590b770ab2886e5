// This file implements the rejection of recursive fns and kernels (fns
// must terminate, and kernels are inlined on devices without a call
// stack) and of workflows that call each other unconditionally (A calls
// B calls A): such a case would nest sub-workflows until the disk is
// full. The edges between workflows are only their unconditional calls;
// a workflow calling itself is reported at the call (call.go).

package check

import (
	"strings"

	"github.com/knhk/knhk/lang/source"
)

// checkRecursion finds the strongly connected components of the call graph
// between fns and kernels, and of the unconditional calls between
// workflows (Tarjan's algorithm), and reports each cycle once, at its
// first member in source order.
func (c *checker) checkRecursion() {
	if len(c.edges) == 0 {
		return
	}
	type node struct {
		index, low int
		onStack    bool
	}
	state := make(map[*Callable]*node, len(c.order))
	var stack []*Callable
	next := 0
	var sccs [][]*Callable
	var visit func(v *Callable)
	visit = func(v *Callable) {
		n := &node{index: next, low: next, onStack: true}
		next++
		state[v] = n
		stack = append(stack, v)
		for _, e := range c.edges[v] {
			w := e.to
			if m := state[w]; m == nil {
				visit(w)
				n.low = min(n.low, state[w].low)
			} else if m.onStack {
				n.low = min(n.low, m.index)
			}
		}
		if n.low == n.index {
			var scc []*Callable
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				state[w].onStack = false
				scc = append(scc, w)
				if w == v {
					break
				}
			}
			sccs = append(sccs, scc)
		}
	}
	for _, v := range c.order {
		if state[v] == nil {
			visit(v)
		}
	}
	pos := make(map[*Callable]int, len(c.order))
	for i, v := range c.order {
		pos[v] = i
	}
	for _, scc := range sccs {
		in := func(x *Callable) bool {
			for _, y := range scc {
				if x == y {
					return true
				}
			}
			return false
		}
		if len(scc) == 1 {
			self := false
			for _, e := range c.edges[scc[0]] {
				self = self || e.to == scc[0]
			}
			if !self {
				continue
			}
		}
		first := scc[0]
		for _, v := range scc {
			if pos[v] < pos[first] {
				first = v
			}
		}
		// Walk the cycle from first for the message and the call sites.
		path := []string{first.name}
		var related []source.Related
		code := source.Recursion
		for cur, steps := first, 0; steps <= len(scc); steps++ {
			if cur.kind == ObjKernel {
				code = source.KernelRecursion
			}
			var nextV *Callable
			for _, e := range c.edges[cur] {
				if in(e.to) {
					nextV = e.to
					related = append(related, source.Related{File: c.file, Span: e.span, Message: cur.name + " calls " + e.to.name})
					break
				}
			}
			if nextV == nil {
				break
			}
			path = append(path, nextV.name)
			cur = nextV
			if cur == first {
				break
			}
		}
		what := "fns must terminate"
		switch {
		case code == source.KernelRecursion:
			what = "kernels cannot recurse"
		case first.kind == ObjWorkflow:
			what = "these workflows call each other unconditionally, so a case never ends; guard one of the calls with a condition"
		}
		d := c.errorf(first.span, code, "recursive call cycle %s: %s", strings.Join(path, " -> "), what)
		d.Related = related
	}
}
