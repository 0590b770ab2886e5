// This file implements the lowering of concurrency: parallel with its
// joins (AND join, discriminator, partial join) and interleaved parallel
// routing.

package compiler

import (
	"strconv"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// joinSpec is a parsed join: all (n == 0) or at least n branches, the
// rest cancelled.
type joinSpec struct {
	n  int
	ok bool
}

// joinOf reads join all | any | active | N (active, an OR join, counts as
// all here; the flow lowering handles it).
func (w *wf) joinOf(j *syntax.Join) joinSpec {
	if j == nil || j.Kind == "all" || j.Kind == "active" {
		return joinSpec{ok: true}
	}
	if j.Kind == "any" {
		return joinSpec{n: 1, ok: true}
	}
	n, ok := check.ConstInt(j.Count)
	if !ok || n < 1 {
		w.notImplemented(j, "a join count that is not a positive constant")
		return joinSpec{}
	}
	return joinSpec{n: int(n), ok: true}
}

// parallel lowers parallel { ... } join: an AND split into one branch per
// statement, merged by an AND join, by a partial join that cancels the
// branches still running, or, with keep, by one that lets them finish.
func (w *wf) parallel(s *syntax.ParallelStmt, c cont) cont {
	js := w.joinOf(s.Join)
	t := w.step(c, "parallel", ir.TNop, s.Span())
	p0, t0 := len(w.n.Places), len(w.n.Transitions)
	var ends []int32
	w.conc++
	if s.Body != nil {
		for _, b := range s.Body.Stmts {
			p := w.place("branch", b.Span())
			w.out(t, p, ir.NoFunc)
			if e := w.placeOf(w.stmt(b, at(p)), "joined", b.Span()); e >= 0 {
				ends = append(ends, e)
			}
		}
	}
	w.conc--
	if s.Join != nil && s.Join.Keep && js.n > 0 && js.n < len(ends) {
		return w.keepJoin(s.Span(), t, js.n, ends)
	}
	return w.join(s.Span(), js, ends, p0, t0)
}

// keepJoin merges the branch ends of split t when n of them have
// arrived and lets the others finish (structured and blocking
// discriminator and partial join, WCP 9, 28, 30, 31): the split takes
// the idle token and puts n need tokens (see absorb), and the reset
// gives idle back. The idle place (one token initially) makes the block
// wait to start again until its last branch is done; a return waits for
// it too (see waitKept), so kept branches always finish.
func (w *wf) keepJoin(sp source.Span, t int32, n int, ends []int32) cont {
	idle := w.place("idle", sp)
	w.n.Places[idle].Init = 1
	w.in(idle, t)
	w.kept = append(w.kept, idle)
	need := w.place("need", sp)
	w.weighted(w.out, t, need, n)
	j := w.trans("join", ir.TNop, sp)
	r := w.absorb(j, ends, need, n, sp)
	w.out(r, idle, ir.NoFunc)
	return after(j)
}

// absorb makes transition j fire once n of the places ends have been
// reached, taking a need token for each, and absorbs the others when
// they come; it returns the reset transition, which fires after the last
// and to which the caller adds what a new round needs:
//
//	arrive_i: end_i, need → got
//	j:        got×n → fired (and j's own outputs)
//	late_i:   end_i, fired → fired, late
//	reset:    late×(len(ends)-n), fired → (the caller's outputs)
func (w *wf) absorb(j int32, ends []int32, need int32, n int, sp source.Span) int32 {
	got, fired, late := w.place("got", sp), w.place("fired", sp), w.place("late", sp)
	for _, e := range ends {
		a := w.trans("arrive", ir.TNop, sp)
		w.in(e, a)
		w.in(need, a)
		w.out(a, got, ir.NoFunc)
		l := w.trans("late", ir.TNop, sp)
		w.in(e, l)
		w.in(fired, l)
		w.out(l, fired, ir.NoFunc)
		w.out(l, late, ir.NoFunc)
	}
	w.weighted(w.inArc, got, j, n)
	w.out(j, fired, ir.NoFunc)
	r := w.trans("reset", ir.TNop, sp)
	w.weighted(w.inArc, late, r, len(ends)-n)
	w.in(fired, r)
	return r
}

// weighted adds an arc with add and gives it weight n.
func (w *wf) weighted(add func(a, b int32, g ir.FuncID), a, b int32, n int) {
	add(a, b, ir.NoFunc)
	w.n.Arcs[len(w.n.Arcs)-1].Weight = int32(n)
}

// inArc is in with the shape of out, for weighted.
func (w *wf) inArc(p, t int32, _ ir.FuncID) { w.in(p, t) }

// waitKept makes every return of the net wait until the branches kept
// running by a join with keep have finished, and every return and fail
// withdraw what else runs: with kept branches about, other work may be
// running at any return or fail.
func (w *wf) waitKept() {
	if len(w.kept) == 0 {
		return
	}
	for ti, t := range w.n.Transitions {
		if t.Kind != ir.TReturn && t.Kind != ir.TFail {
			continue
		}
		if t.Cancel == ir.CancelNone {
			t.Cancel = ir.CancelCase
		}
		if t.Kind == ir.TReturn {
			// An input arc only: the cancellation gives the token back.
			for _, idle := range w.kept {
				w.in(idle, int32(ti))
			}
		}
	}
}

// join merges the branch ends. A partial join cancels the places and
// transitions created since p0 and t0: the branches still running.
func (w *wf) join(sp source.Span, js joinSpec, ends []int32, p0, t0 int) cont {
	if len(ends) == 0 {
		return dead
	}
	j := w.trans("join", ir.TNop, sp)
	for _, e := range ends {
		w.in(e, j)
	}
	if js.n > 0 {
		tr := w.tr(j)
		tr.Join = ir.JoinPartial
		tr.JoinN = int32(min(js.n, len(ends)))
		places, trans := w.since(p0, t0, j)
		tr.Cancel = ir.CancelRegion
		tr.Region = w.nb.Region(tr.Name, places, trans)
		w.n.Regions[tr.Region].Loc = w.loc(sp)
	}
	return after(j)
}

// since lists the places and transitions created since p0 and t0, except
// transition skip and resource places.
func (w *wf) since(p0, t0 int, skip int32) (places, trans []int32) {
	for i := p0; i < len(w.n.Places); i++ {
		if w.n.Places[i].Init == 0 {
			places = append(places, int32(i))
		}
	}
	for i := t0; i < len(w.n.Transitions); i++ {
		if int32(i) != skip {
			trans = append(trans, int32(i))
		}
	}
	return places, trans
}

// interleave lowers interleave { ... }: every statement runs once, one at
// a time, in any order. A mutex place with one token is taken by each
// branch for its whole run.
func (w *wf) interleave(s *syntax.InterleaveStmt, c cont) cont {
	label := "interleave_" + strconv.Itoa(line(w.file, s.Span()))
	t := w.step(c, "interleave", ir.TNop, s.Span())
	mutex := w.place("mutex", s.Span())
	w.n.Places[mutex].Init = 1
	var ends []int32
	w.conc++
	if s.Body != nil {
		for _, b := range s.Body.Stmts {
			p := w.place("branch", b.Span())
			w.out(t, p, ir.NoFunc)
			enter := w.trans("enter", ir.TMarker, b.Span())
			w.tr(enter).Marker, w.tr(enter).Label = ir.MarkInterleaveEnter, label
			w.in(p, enter)
			w.in(mutex, enter)
			out := w.stmt(b, after(enter))
			if !out.live() {
				continue
			}
			exit := w.step(out, "leave", ir.TMarker, b.Span())
			w.tr(exit).Marker, w.tr(exit).Label = ir.MarkInterleaveExit, label
			w.out(exit, mutex, ir.NoFunc)
			e := w.place("joined", b.Span())
			w.out(exit, e, ir.NoFunc)
			ends = append(ends, e)
		}
	}
	w.conc--
	return w.join(s.Span(), joinSpec{ok: true}, ends, 0, 0)
}
