// This file implements the lowering of cancellation: regions, cancel
// region, cancel task and cancel case (WCP 19, 20, 25, 26).

package compiler

import (
	"slices"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/syntax"
)

// regionInfo is a region R of the workflow. While R runs, its active
// place holds a token; leaving R, normally or by cancellation, takes it
// and marks after.
type regionInfo struct {
	index   int32 // Net.Regions index
	active  int32
	after   int32
	lowered bool
}

// pendingCancel is a cancel whose target may be lowered after it.
type pendingCancel struct {
	t    int32
	obj  check.Object
	task int32 // cancel task: the task, else -1
	s    *syntax.CancelStmt
}

// regionOf returns the region of label obj, adding an empty one.
func (w *wf) regionOf(obj check.Object, name string) *regionInfo {
	if ri, ok := w.regions[obj]; ok {
		return ri
	}
	ri := &regionInfo{index: w.nb.Region(name, nil, nil), active: -1, after: -1}
	w.regions[obj] = ri
	return ri
}

// region lowers region R { }.
func (w *wf) region(s *syntax.RegionStmt, c cont) cont {
	obj := w.l.info.Defs[s.Name]
	name := s.Name.Value
	ri := w.regionOf(obj, name)
	w.n.Regions[ri.index].Loc = w.loc(s.Name.Span())
	enter := w.step(c, "region_"+name, ir.TNop, s.Span())
	ri.active = w.place("active_"+name, s.Name.Span())
	w.out(enter, ri.active, ir.NoFunc)
	p0, t0 := len(w.n.Places), len(w.n.Transitions)
	in := w.place("in_"+name, s.Span())
	w.out(enter, in, ir.NoFunc)
	w.conc++
	w.sections = append(w.sections, section{kind: ir.MarkNone, name: name, place: ri.active})
	out := w.block(s.Body, at(in))
	w.sections = w.sections[:len(w.sections)-1]
	w.conc--
	end := w.placeOf(out, "done_"+name, closing(s.Body))
	places, trans := w.since(p0, t0, -1)
	w.n.Regions[ri.index].Places = places
	w.n.Regions[ri.index].Transitions = trans
	ri.lowered = true
	ri.after = w.place("after_"+name, closing(s.Body))
	if end >= 0 {
		exit := w.trans("leave_"+name, ir.TNop, closing(s.Body))
		w.in(end, exit)
		w.in(ri.active, exit)
		w.out(exit, ri.after, ir.NoFunc)
	}
	return at(ri.after)
}

// cancel lowers cancel case, cancel region R and cancel task t.
func (w *wf) cancel(s *syntax.CancelStmt, c cont) cont {
	sp := s.Span()
	switch s.Kind {
	case "case":
		t := w.step(c, "cancel_case", ir.TCancel, sp)
		w.tr(t).Cancel = ir.CancelCase
		w.out(t, w.n.End, ir.NoFunc)
		return dead
	case "region":
		obj := w.l.info.TypeUses[s.Target]
		if obj == nil {
			w.notImplemented(s, "a cancel of an unresolved region")
			return c
		}
		ri := w.regionOf(obj, s.Target.Value)
		if w.inside(ri) {
			// Inside R, the cancel stops its own branch too: R completes
			// and control continues after R.
			t := w.step(c, "cancel_"+s.Target.Value, ir.TCancel, sp)
			w.tr(t).Cancel = ir.CancelRegion
			w.tr(t).Region = ri.index
			w.cancels = append(w.cancels, pendingCancel{t: t, obj: obj, task: -1, s: s})
			return dead
		}
		p := w.placeOf(c, "cancel", sp)
		// The cancel takes the region's active token, clears the region
		// and completes it. When the region is not running (it has
		// completed, or not started), the cancel does nothing: that is
		// the second transition.
		t := w.trans("cancel_"+s.Target.Value, ir.TCancel, sp)
		w.in(p, t)
		w.tr(t).Cancel = ir.CancelRegion
		w.tr(t).Region = ri.index
		skip := w.trans("cancel_"+s.Target.Value+"_idle", ir.TNop, sp)
		w.in(p, skip)
		w.cancels = append(w.cancels, pendingCancel{t: t, obj: obj, task: -1, s: s})
		return cont{place: -1, exits: []exit{{t, ir.NoFunc}, {skip, ir.NoFunc}}}
	case "task":
		obj := w.l.info.TypeUses[s.Target]
		task, ok := w.l.tasks[obj]
		if !ok {
			w.notImplemented(s, "a cancel of this task")
			return c
		}
		t := w.step(c, "cancel_"+s.Target.Value, ir.TCancel, sp)
		tr := w.tr(t)
		tr.Cancel = ir.CancelTask
		tr.Task = task
		tr.Region = w.nb.Region("task_"+s.Target.Value, nil, nil)
		w.n.Regions[tr.Region].Loc = w.loc(s.Target.Span())
		w.cancels = append(w.cancels, pendingCancel{t: t, obj: obj, task: task, s: s})
		return after(t)
	}
	w.notImplemented(s, "cancel "+s.Kind)
	return c
}

// resolveCancels connects each cancel region to its region, and fills
// the region of each cancel task with the places of that task's calls.
func (w *wf) resolveCancels() {
	for _, pc := range w.cancels {
		tr := w.tr(pc.t)
		if pc.task >= 0 {
			r := w.n.Regions[tr.Region]
			for _, ct := range w.taskCall[pc.task] {
				in, _ := w.n.ArcsOf(ct)
				for _, a := range in {
					r.Places = append(r.Places, a.Place)
				}
				r.Transitions = append(r.Transitions, ct)
			}
			continue
		}
		ri := w.regions[pc.obj]
		if ri == nil || !ri.lowered {
			w.notImplemented(pc.s, "a cancel of a region outside this net")
			continue
		}
		w.in(ri.active, pc.t)
		w.out(pc.t, ri.after, ir.NoFunc)
	}
}

// restoreResources makes each region cancellation give back the mutexes
// of the critical sections and interleavings it cancels: when every
// transition that takes a mutex lies in the cancelled region, no one
// outside the region can hold it, so after the cancellation it is free.
// The cancelling transition then clears the mutex place with the region
// and puts its token back. A mutex also taken outside the region is left
// alone; if a cancellation can strand it, the soundness check says so.
func (w *wf) restoreResources() {
	// Resource places in place order, so that the arcs added are
	// deterministic, with the transitions that take each.
	var resources []int32
	takers := map[int32][]int32{}
	for _, a := range w.n.Arcs {
		if !a.Out && w.n.Places[a.Place].Init > 0 {
			if takers[a.Place] == nil {
				resources = append(resources, a.Place)
			}
			takers[a.Place] = append(takers[a.Place], a.Trans)
		}
	}
	slices.Sort(resources)
	for ti, t := range w.n.Transitions {
		if t.Cancel != ir.CancelRegion || t.Region < 0 || int(t.Region) >= len(w.n.Regions) {
			continue
		}
		r := w.n.Regions[t.Region]
		inRegion := map[int32]bool{}
		for _, x := range r.Transitions {
			inRegion[x] = true
		}
		for _, m := range resources {
			ts := takers[m]
			all := true
			for _, x := range ts {
				all = all && inRegion[x]
			}
			if !all || w.hasOut(int32(ti), m) {
				continue
			}
			r.Places = append(r.Places, m)
			w.out(int32(ti), m, ir.NoFunc)
		}
	}
}

// inside reports whether the statement being lowered is inside region ri.
func (w *wf) inside(ri *regionInfo) bool {
	for _, sec := range w.sections {
		if sec.kind == ir.MarkNone && ri.active >= 0 && sec.place == ri.active {
			return true
		}
	}
	return false
}
