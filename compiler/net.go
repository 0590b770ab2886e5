// This file implements the scaffolding of workflow lowering: the
// per-workflow state, continuations, places, transitions, variables and
// the functions a net evaluates.

package compiler

import (
	"fmt"
	"strconv"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// wf lowers one workflow body (or the body of a parallel for) into a net.
type wf struct {
	l    *lowerer
	nb   *ir.NetBuilder
	n    *ir.Net
	file *source.File
	fi   int32
	vars map[check.Object]int32 // case variables
	used map[string]int         // variable names taken, for unique names

	loops []*loopCtx
	// conc counts the enclosing constructs in which other branches may be
	// running or resources held (parallel, multi, critical, interleave);
	// a return or fail inside one cancels the case.
	conc int

	regions  map[check.Object]*regionInfo
	mutexes  map[string]int32 // critical section name -> its mutex place
	cancels  []pendingCancel
	taskCall map[int32][]int32 // task index -> transitions that call it
	// sections are the enclosing critical sections, milestones and
	// regions, innermost last, which break and continue must leave.
	sections []section
	// kept are the idle places of the joins with keep: a return waits
	// for each to hold its token again.
	kept []int32
}

// exit is a pending output arc: taken when transition t fires and, for
// a split, when guard holds.
type exit struct {
	t     int32
	guard ir.FuncID
}

// cont is where control goes next: a marked place, or the output arcs of
// transitions whose target place the next statement creates. This lets a
// choice's arms flow straight into one merge place without routing
// transitions. A cont with neither is unreachable (after return, fail,
// break).
type cont struct {
	place int32
	exits []exit
}

var dead = cont{place: -1}

func at(p int32) cont { return cont{place: p} }

// after is the continuation after transition t fires.
func after(t int32) cont { return cont{place: -1, exits: []exit{{t, ir.NoFunc}}} }

func (c cont) live() bool { return c.place >= 0 || len(c.exits) > 0 }

func (w *wf) loc(sp source.Span) ir.Loc { return ir.Loc{File: w.fi, Span: sp} }

func line(f *source.File, sp source.Span) int {
	if f == nil || sp.Start < 0 {
		return 0
	}
	return f.Position(sp.Start).Line
}

// place adds a place named after what it precedes and where.
func (w *wf) place(name string, sp source.Span) int32 {
	p := w.nb.Place(fmt.Sprintf("%s_%d", name, line(w.file, sp)))
	w.n.Places[p].Loc = w.loc(sp)
	return p
}

// trans adds a transition of kind at sp.
func (w *wf) trans(name string, kind ir.TransKind, sp source.Span) int32 {
	t := w.nb.Trans(fmt.Sprintf("%s_%d", name, line(w.file, sp)), kind)
	w.n.Transitions[t].Loc = w.loc(sp)
	return t
}

func (w *wf) tr(t int32) *ir.Transition { return w.n.Transitions[t] }

// in adds an input arc.
func (w *wf) in(p, t int32) {
	w.nb.In(p, t)
	w.n.Arcs[len(w.n.Arcs)-1].Loc = w.n.Transitions[t].Loc
}

// out adds an output arc taken when guard holds (NoFunc: always, or the
// default of an XOR split).
func (w *wf) out(t, p int32, guard ir.FuncID) {
	w.nb.OutIf(t, p, guard)
	w.n.Arcs[len(w.n.Arcs)-1].Loc = w.n.Transitions[t].Loc
}

// hasOut reports whether t already has an output arc into p.
func (w *wf) hasOut(t, p int32) bool {
	for _, a := range w.n.Arcs {
		if a.Out && a.Trans == t && a.Place == p {
			return true
		}
	}
	return false
}

// into routes c into the existing place p.
func (w *wf) into(c cont, p int32, sp source.Span) {
	if c.place >= 0 {
		if c.place == p {
			return
		}
		t := w.trans("goto", ir.TNop, sp)
		w.in(c.place, t)
		w.out(t, p, ir.NoFunc)
		return
	}
	for _, e := range c.exits {
		if w.hasOut(e.t, p) {
			// Two arms of one split reach the same place: keep the arcs
			// distinct with a routing step.
			q := w.place("merge", sp)
			w.out(e.t, q, e.guard)
			t := w.trans("merge", ir.TNop, sp)
			w.in(q, t)
			w.out(t, p, ir.NoFunc)
			continue
		}
		w.out(e.t, p, e.guard)
	}
}

// placeOf returns the place holding c's token, creating it when c is a
// set of pending arcs. It returns -1 for an unreachable c.
func (w *wf) placeOf(c cont, name string, sp source.Span) int32 {
	if c.place >= 0 {
		return c.place
	}
	if len(c.exits) == 0 {
		return -1
	}
	p := w.place(name, sp)
	w.into(c, p, sp)
	return p
}

// merge joins the continuations of exclusive paths (XOR merge).
func (w *wf) merge(sp source.Span, cs ...cont) cont {
	var out cont
	out.place = -1
	for _, c := range cs {
		if c.place >= 0 {
			t := w.trans("merge", ir.TNop, sp)
			w.in(c.place, t)
			c = after(t)
		}
		out.exits = append(out.exits, c.exits...)
	}
	return out
}

// step adds a transition of kind consuming c and returns it; the caller
// continues with after(t).
func (w *wf) step(c cont, name string, kind ir.TransKind, sp source.Span) int32 {
	p := w.placeOf(c, name, sp)
	t := w.trans(name, kind, sp)
	w.in(p, t)
	return t
}

// newVar adds a case variable for obj.
func (w *wf) newVar(obj check.Object, name string, t ir.TypeID, sp source.Span) int32 {
	n := name
	if k := w.used[name]; k > 0 {
		n = name + "#" + strconv.Itoa(k+1)
	}
	w.used[name]++
	v := w.nb.Var(n, t)
	w.n.Vars[v].Loc = w.loc(sp)
	if obj != nil {
		w.vars[obj] = v
	}
	return v
}

// varOf returns the case variable of obj, adding it on first use.
func (w *wf) varOf(obj check.Object, sp source.Span) int32 {
	if v, ok := w.vars[obj]; ok {
		return v
	}
	return w.newVar(obj, obj.Name(), w.l.typeOf(obj.Type()), sp)
}

// fn lowers e into a function of the case variables returning want (e's
// own type when want < 0).
func (w *wf) fn(what string, e syntax.Expr, want ir.TypeID) ir.FuncID {
	return w.fnOf(what, e.Span(), want, func(c *fnCtx) ir.Reg { return c.exprTo(e, want) })
}

// fnOf builds a function of the case variables with body.
func (w *wf) fnOf(what string, sp source.Span, want ir.TypeID, body func(c *fnCtx) ir.Reg) ir.FuncID {
	result := want
	if result < 0 {
		result = ir.Void
	}
	b := w.nb.Func(w.n.Name+"."+what, result)
	b.F.Loc = w.loc(sp)
	b.At(w.loc(sp))
	c := w.l.newCtx(b, w.file, w.fi, w.vars)
	r := body(c)
	if want < 0 {
		b.F.Result = c.regType(r)
	}
	b.At(w.loc(sp))
	b.Return(r)
	return w.l.prog.AddFunc(b.F)
}

func (w *wf) notImplemented(n source.Spanned, what string) {
	w.l.notImplemented(w.file, n.Span(), what)
}
