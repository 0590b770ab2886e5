// This file implements the lowering of flow blocks: explicit nets of
// named steps and arcs, for arbitrary cycles, multi-merge, the general
// AND and OR joins and thread split and merge (WCP 8, 10, 33, 37, 38, 41,
// 42).

package compiler

import (
	"slices"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// flow lowers flow { step ... arcs ... }. Each step has an input place
// and a call transition; several arcs into one step merge there
// (multi-merge: the step runs once per arriving token). "a -> b * N"
// puts N tokens on b (thread split), "a -> b join N" waits for N of a's
// threads (thread merge), "a, b -> c join active" is an OR join. A drain
// join ends the flow once its last thread is done. The arcs leaving
// a step are output arcs of its transition: an AND split when none has a
// condition, an XOR split when some do. An arc from several steps gets
// a join transition of its own.
func (w *wf) flow(s *syntax.FlowStmt, c cont) cont {
	sp := s.Span()
	type node struct {
		t  int32 // the transition whose completion leaves the node
		in int32 // the place that starts it; -1 for start
	}
	nodes := map[string]*node{}
	p0, t0 := len(w.n.Places), len(w.n.Transitions) // the flow's region starts here
	var arcs []*syntax.Arc
	var steps []*syntax.Step
	for _, it := range s.Items {
		switch it := it.(type) {
		case *syntax.Step:
			if it == nil || it.Name == nil {
				continue
			}
			steps = append(steps, it)
			nodes[it.Name.Value] = &node{t: -1, in: w.place("step_"+it.Name.Value, it.Name.Span())}
		case *syntax.Arc:
			if it != nil {
				arcs = append(arcs, it)
			}
		}
	}
	// Step results are variables, so that conditions can read them.
	for _, st := range steps {
		if obj := w.l.info.Defs[st.Name]; obj != nil {
			if w.l.typeOf(obj.Type()) != ir.Void {
				w.varOf(obj, st.Name.Span())
			}
		}
	}
	entry := w.step(c, "flow", ir.TNop, sp)
	nodes["start"] = &node{t: entry, in: -1}
	end := w.place("flow_end", sp)
	nodes["end"] = &node{t: -1, in: end}
	for _, st := range steps {
		call, ok := w.effect(st.Call)
		if !ok {
			w.notImplemented(st, "this step")
			continue
		}
		v := int32(-1)
		if obj := w.l.info.Defs[st.Name]; obj != nil {
			if x, ok := w.vars[obj]; ok {
				v = x
			}
		}
		nodes[st.Name.Value].t = w.callTrans(at(nodes[st.Name.Value].in), call, st.Clauses, v)
	}
	target := func(n *syntax.Name) int32 {
		if nd := nodes[n.Value]; nd != nil {
			return nd.in
		}
		return -1
	}
	// fan marks every target of a from the pending arcs e.
	fan := func(a *syntax.Arc, e cont) {
		if len(a.To) == 1 {
			p := target(a.To[0])
			if p < 0 {
				return
			}
			if a.Threads == nil {
				w.into(e, p, a.Span())
				return
			}
			// Thread split (WCP 42): one token in, N threads out.
			n, ok := check.ConstInt(a.Threads)
			if !ok || n < 1 {
				w.notImplemented(a.Threads, "a thread count that is not a positive constant")
				return
			}
			t := w.step(e, "threads", ir.TNop, a.Span())
			w.out(t, p, ir.NoFunc)
			w.n.Arcs[len(w.n.Arcs)-1].Weight = int32(n)
			return
		}
		var t int32
		if len(e.exits) == 1 && e.exits[0].guard == ir.NoFunc && w.tr(e.exits[0].t).Split == ir.SplitAnd {
			// An unconditional arc of an AND split marks every target
			// itself.
			t = e.exits[0].t
		} else {
			t = w.step(e, "split", ir.TNop, a.Span())
		}
		for _, to := range a.To {
			if p := target(to); p >= 0 && !w.hasOut(t, p) {
				w.out(t, p, ir.NoFunc)
			}
		}
	}
	// joins holds, per arc with several sources, the place each source
	// marks.
	joins := map[*syntax.Arc][]int32{}
	visit := func(name string, nd *node) {
		if nd.t < 0 {
			return
		}
		var outs []*syntax.Arc
		conditional := false
		for _, a := range arcs {
			for _, f := range a.From {
				if f != nil && f.Value == name {
					outs = append(outs, a)
					conditional = conditional || a.When != nil
				}
			}
		}
		if conditional {
			w.tr(nd.t).Split = ir.SplitXor
			defaults := 0
			for _, a := range outs {
				if a.When == nil {
					defaults++
				}
			}
			if defaults > 1 {
				w.notImplemented(outs[0], "several unconditional arcs beside conditional ones from one step")
				return
			}
		}
		for _, a := range outs {
			guard := ir.NoFunc
			if a.When != nil {
				guard = w.fn("when", a.When, ir.Bool)
			}
			e := cont{place: -1, exits: []exit{{nd.t, guard}}}
			if len(a.From) == 1 && a.Join != nil {
				// Thread merge (WCP 41): N threads of this branch become
				// one.
				n, ok := check.ConstInt(a.Join.Count)
				if a.Join.Count == nil || !ok || n < 1 {
					w.notImplemented(a.Join, "a thread merge whose count is not a positive constant")
					continue
				}
				q := w.place("threads_"+name, a.Span())
				w.into(e, q, a.Span())
				j := w.trans("merge", ir.TNop, a.Span())
				w.in(q, j)
				w.n.Arcs[len(w.n.Arcs)-1].Weight = int32(n)
				fan(a, after(j))
				continue
			}
			if len(a.From) > 1 {
				q := w.place("from_"+name, a.Span())
				w.into(e, q, a.Span())
				joins[a] = append(joins[a], q)
				continue
			}
			fan(a, e)
		}
	}
	visit("start", nodes["start"])
	for _, st := range steps {
		visit(st.Name.Value, nodes[st.Name.Value])
	}
	for _, a := range arcs {
		qs := joins[a]
		if len(qs) == 0 {
			continue
		}
		j := w.trans("join", ir.TNop, a.Span())
		active := a.Join != nil && a.Join.Kind == "active"
		if js := w.joinOf(a.Join); !active && js.n > 0 && js.n < len(qs) {
			w.arcPartial(j, qs, js.n, a.Span())
		} else {
			for _, q := range qs {
				w.in(q, j)
			}
			if active {
				// Synchronising merge (WCP 37, 38): wait for the inputs
				// a thread can still reach.
				w.tr(j).Join = ir.JoinOr
			}
		}
		fan(a, after(j))
	}
	// The flow ends when a thread reaches end and no other can: every
	// thread of a multi-merge or thread split finishes first (implicit
	// termination, WCP 11, within the flow).
	done := w.trans("flow_done", ir.TNop, sp)
	w.in(end, done)
	places, trans := w.since(p0, t0, done)
	places = slices.DeleteFunc(places, func(p int32) bool { return p == end })
	tr := w.tr(done)
	tr.Join = ir.JoinDrain
	tr.Region = w.nb.Region(tr.Name, places, trans)
	w.n.Regions[tr.Region].Loc = w.loc(sp)
	return after(done)
}

// arcPartial makes j, the join of a flow arc from the places qs, fire
// once n of them have been reached and absorb the others when they come
// (the structured discriminator and partial join, WCP 9 and 30, in a
// net; see absorb). Its n need tokens are a resource place's, which the
// reset refills for the next round (in a cycle).
func (w *wf) arcPartial(j int32, qs []int32, n int, sp source.Span) {
	need := w.place("need", sp)
	w.n.Places[need].Init = int32(n)
	r := w.absorb(j, qs, need, n, sp)
	w.weighted(w.out, r, need, n)
}
