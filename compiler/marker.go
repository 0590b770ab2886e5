// This file implements the lowering of critical sections and milestones
// as marker transitions around their bodies.

package compiler

import (
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// critical lowers critical C { }: entering takes the token of C's mutex,
// a resource place shared by every section named C, and leaving returns
// it, so at most one branch is inside a section C at a time.
func (w *wf) critical(s *syntax.CriticalStmt, c cont) cont {
	name := s.Name.Value
	mutex, ok := w.mutexes[name]
	if !ok {
		mutex = w.nb.Place("mutex_" + name)
		w.n.Places[mutex].Init = 1
		w.n.Places[mutex].Loc = w.loc(s.Name.Span())
		w.mutexes[name] = mutex
	}
	enter := w.step(c, "enter_"+name, ir.TMarker, s.Span())
	w.tr(enter).Marker, w.tr(enter).Label = ir.MarkCriticalEnter, name
	w.in(mutex, enter)
	sec := section{kind: ir.MarkCriticalExit, name: name, place: mutex}
	w.conc++
	w.sections = append(w.sections, sec)
	out := w.block(s.Body, after(enter))
	w.sections = w.sections[:len(w.sections)-1]
	w.conc--
	if !out.live() {
		return dead
	}
	return w.leave(sec, out, closing(s.Body))
}

// section is a construct that control must leave through its exit: a
// critical section (returning the mutex token in place), a milestone,
// or a region (taking its active token in place).
type section struct {
	kind  ir.MarkerKind // MarkCriticalExit or MarkMilestoneExit; MarkNone for a region
	name  string
	place int32 // the mutex of a critical section, the active place of a region
}

// leave adds the transition that leaves sec from c.
func (w *wf) leave(sec section, c cont, sp source.Span) cont {
	switch sec.kind {
	case ir.MarkNone:
		t := w.step(c, "leave_"+sec.name, ir.TNop, sp)
		w.in(sec.place, t)
		return after(t)
	case ir.MarkCriticalExit:
		t := w.step(c, "leave_"+sec.name, ir.TMarker, sp)
		w.tr(t).Marker, w.tr(t).Label = ir.MarkCriticalExit, sec.name
		w.out(t, sec.place, ir.NoFunc)
		return after(t)
	}
	t := w.step(c, "pass_"+sec.name, ir.TMarker, sp)
	w.tr(t).Marker, w.tr(t).Label = sec.kind, sec.name
	return after(t)
}

// milestone lowers milestone M { }: M is held from the enter marker to
// the exit marker.
func (w *wf) milestone(s *syntax.MilestoneStmt, c cont) cont {
	name := s.Name.Value
	enter := w.step(c, "reach_"+name, ir.TMarker, s.Span())
	w.tr(enter).Marker, w.tr(enter).Label = ir.MarkMilestoneEnter, name
	sec := section{kind: ir.MarkMilestoneExit, name: name, place: -1}
	w.sections = append(w.sections, sec)
	out := w.block(s.Body, after(enter))
	w.sections = w.sections[:len(w.sections)-1]
	if !out.live() {
		return dead
	}
	return w.leave(sec, out, closing(s.Body))
}
