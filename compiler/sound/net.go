// This file implements the precomputed structure the exploration reads:
// arcs per transition, the OR-join upstream sets and the transitions the
// reduction may fire eagerly.

package sound

import "github.com/knhk/knhk/compiler/ir"

type arc struct {
	place  int32
	weight int32
}

type trans struct {
	t       *ir.Transition
	in, out []arc
	// upstream[k] lists the places from which a token can reach in[k]
	// without passing through this transition (OR joins only).
	upstream [][]int32
	cancel   []int32 // places cleared by a region or task cancellation
	// skip lists, for a cancel task, the calls of the task it withdraws
	// (the transitions of its region): each enabled one is running in
	// the engine, which fires eagerly, and its branch goes on without it.
	skip    []int32
	chooses bool    // an XOR or OR split: a withdrawn call's branch ends here
	guarded bool    // some output arc has a guard
	splits  [][]int // the output choices (see splitModes)
	all     [][]int // the single join mode consuming every input
	chain   bool    // may be fired eagerly (see doc.go)
}

type net struct {
	n        *ir.Net
	places   int
	trans    []trans
	initial  []int32 // Init of every place
	resource []int32 // places with Init > 0
	// instant lists the transitions the engine fires as soon as they
	// are enabled, in its order; every lists all transitions (see
	// explorer.candidates).
	instant, every []int32
	calls          []int32 // the calls: not instant, and not waits
	// sharedSignals is set when two waits wait for the same signal.
	sharedSignals bool
	// doomed marks the places from which every path ends the case (a
	// return, fail or cancel case in a branch): a token there when the
	// case reaches its end is withdrawn, not left behind (see doc.go).
	doomed []bool
}

// compile indexes n. Arcs with out-of-range ends are ignored, so that an
// unverified net cannot make the exploration panic.
func compile(n *ir.Net) *net {
	c := &net{n: n, places: len(n.Places), trans: make([]trans, len(n.Transitions))}
	c.initial = make([]int32, c.places)
	for i, p := range n.Places {
		if p != nil && p.Init > 0 {
			c.initial[i] = p.Init
			c.resource = append(c.resource, int32(i))
		}
	}
	for i, t := range n.Transitions {
		c.trans[i].t = t
	}
	consumers := make([]int, c.places)
	producers := make([][]int32, c.places) // transitions producing into each place
	for _, a := range n.Arcs {
		if a == nil || a.Place < 0 || int(a.Place) >= c.places || a.Trans < 0 || int(a.Trans) >= len(c.trans) {
			continue
		}
		w := max(a.Weight, 1)
		tr := &c.trans[a.Trans]
		if a.Out {
			tr.out = append(tr.out, arc{a.Place, w})
			if a.Guard != ir.NoFunc {
				tr.guarded = true
			}
			producers[a.Place] = append(producers[a.Place], a.Trans)
		} else {
			tr.in = append(tr.in, arc{a.Place, w})
			consumers[a.Place]++
		}
	}
	inRegion := make([]bool, c.places)
	for i := range c.trans {
		t := c.trans[i].t
		if t == nil {
			continue
		}
		c.trans[i].splits = splitModes(&c.trans[i])
		all := make([]int, len(c.trans[i].in))
		for k := range all {
			all[k] = k
		}
		c.trans[i].all = [][]int{all}
		if (t.Cancel == ir.CancelRegion || t.Cancel == ir.CancelTask) && t.Region >= 0 && int(t.Region) < len(n.Regions) && n.Regions[t.Region] != nil {
			for _, p := range n.Regions[t.Region].Places {
				if p >= 0 && int(p) < c.places {
					c.trans[i].cancel = append(c.trans[i].cancel, p)
				}
			}
			if t.Cancel == ir.CancelTask {
				for _, x := range n.Regions[t.Region].Transitions {
					if x >= 0 && int(x) < len(c.trans) && x != int32(i) {
						c.trans[i].skip = append(c.trans[i].skip, x)
					}
				}
			}
		}
	}
	for i := range c.trans {
		tr := &c.trans[i]
		if tr.t != nil {
			tr.chooses = tr.t.Split != ir.SplitAnd && (len(tr.out) > 1 || tr.guarded)
		}
	}
	c.doomed = c.doomedPlaces(consumers)
	c.instant, c.every = c.schedule()
	for _, r := range n.Regions {
		if r == nil {
			continue
		}
		for _, p := range r.Places {
			if p >= 0 && int(p) < c.places {
				inRegion[p] = true
			}
		}
	}
	// Inputs of OR and partial joins: a token arriving there changes what
	// the join does, so the reduction must not move tokens into them early.
	joinInput := make([]bool, c.places)
	for i := range c.trans {
		tr := &c.trans[i]
		if tr.t == nil || tr.t.Join != ir.JoinOr && tr.t.Join != ir.JoinPartial && tr.t.Join != ir.JoinDrain {
			continue
		}
		for _, a := range tr.in {
			joinInput[a.place] = true
		}
		if tr.t.Join == ir.JoinDrain && tr.t.Region >= 0 && int(tr.t.Region) < len(n.Regions) && n.Regions[tr.t.Region] != nil {
			var up []int32
			for _, p := range n.Regions[tr.t.Region].Places {
				if p >= 0 && int(p) < c.places {
					up = append(up, p)
				}
			}
			tr.upstream = [][]int32{up}
		}
		if tr.t.Join == ir.JoinOr {
			tr.upstream = make([][]int32, len(tr.in))
			for k, a := range tr.in {
				tr.upstream[k] = c.upstreamOf(a.place, int32(i), producers)
			}
		}
	}
	for i := range c.trans {
		tr := &c.trans[i]
		t := tr.t
		if t == nil || len(tr.in) != 1 || len(tr.out) == 0 || t.Cancel != ir.CancelNone {
			continue
		}
		if t.Join != ir.JoinAnd && t.Join != ir.JoinXor || t.Split != ir.SplitAnd && len(tr.out) != 1 {
			continue
		}
		// A call's completion races with the others and with what the
		// engine fires at once (see candidates): it is never eager.
		if !instantKind(t.Kind) {
			continue
		}
		p := tr.in[0].place
		if tr.in[0].weight != 1 || consumers[p] != 1 || inRegion[p] || c.initial[p] != 0 || p == n.End {
			continue
		}
		ok := true
		for _, a := range tr.out {
			// Marking the end stops the case, which disables every
			// other transition: such a step does not commute.
			if inRegion[a.place] || joinInput[a.place] || c.initial[a.place] != 0 || a.place == n.End {
				ok = false
			}
		}
		tr.chain = ok
	}
	return c
}

// upstreamOf returns the places with a path to place x that avoids
// transition join, by a backward search over the net.
func (c *net) upstreamOf(x, join int32, producers [][]int32) []int32 {
	seen := make([]bool, c.places)
	seen[x] = true
	stack := []int32{x}
	var out []int32
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, t := range producers[p] {
			if t == join {
				continue
			}
			for _, a := range c.trans[t].in {
				if !seen[a.place] {
					seen[a.place] = true
					out = append(out, a.place)
					stack = append(stack, a.place)
				}
			}
		}
	}
	return out
}

// doomedPlaces computes the places from which every run ends the case
// through a cancel case transition (return, fail and cancel case in a
// branch lower to one): a least fixpoint over "every consumer cancels the
// case, or moves its single input token only to doomed places".
func (c *net) doomedPlaces(consumers []int) []bool {
	users := make([][]int32, c.places)
	for i := range c.trans {
		for _, a := range c.trans[i].in {
			users[a.place] = append(users[a.place], int32(i))
		}
	}
	doomed := make([]bool, c.places)
	for changed := true; changed; {
		changed = false
		for p := range doomed {
			if doomed[p] || consumers[p] == 0 || c.initial[p] != 0 || int32(p) == c.n.End {
				continue
			}
			all := true
			for _, ti := range users[p] {
				tr := &c.trans[ti]
				if tr.t == nil {
					all = false
					break
				}
				if tr.t.Cancel == ir.CancelCase {
					continue
				}
				if tr.t.Cancel != ir.CancelNone || len(tr.in) != 1 || len(tr.out) == 0 {
					all = false
					break
				}
				for _, a := range tr.out {
					if !doomed[a.place] {
						all = false
					}
				}
				if !all {
					break
				}
			}
			if all {
				doomed[p] = true
				changed = true
			}
		}
	}
	return doomed
}

// schedule returns the transitions that fire at once, in the engine's
// order (runtime/engine, net.go: cancellations first, then by index),
// and every transition. Calls (task, kernel, workflow, multiple
// instances, routes) take time and waits (signal, timer) wait for the
// outside world: neither is instant.
func (c *net) schedule() (instant, every []int32) {
	for pass := 0; pass < 2; pass++ {
		for i := range c.trans {
			t := c.trans[i].t
			if t == nil || (t.Kind == ir.TCancel) != (pass == 0) {
				continue
			}
			switch {
			case instantKind(t.Kind):
				instant = append(instant, int32(i))
			case pass == 1 && t.Kind != ir.TSignal && t.Kind != ir.TTimer:
				c.calls = append(c.calls, int32(i))
			}
		}
	}
	labels := map[string]bool{}
	for i := range c.trans {
		if t := c.trans[i].t; t != nil && t.Kind == ir.TSignal {
			c.sharedSignals = c.sharedSignals || labels[t.Label]
			labels[t.Label] = true
		}
	}
	every = make([]int32, len(c.trans))
	for i := range every {
		every[i] = int32(i)
	}
	return instant, every
}

// instantKind reports whether the engine fires a transition of kind k as
// soon as it is enabled, taking no time.
func instantKind(k ir.TransKind) bool {
	switch k {
	case ir.TTask, ir.TKernel, ir.TWorkflow, ir.TMulti, ir.TRoute, ir.TSignal, ir.TTimer:
		return false
	}
	return true
}
