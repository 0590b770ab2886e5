// This file implements child nets: statements lowered into a net of their
// own that the workflow starts as a child case, for the bodies of
// parallel for loops and of hooks.

package compiler

import (
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// leadParam is a parameter of a child net that comes before the captured
// variables, such as the element of a parallel for.
type leadParam struct {
	obj check.Object
	sp  source.Span
	typ ir.TypeID
}

// childNet lowers stmts, which span sp and end at end, into a new net
// named name, without a result. Its
// parameters are lead followed by the variables of w that stmts read,
// which the caller passes (see captureArgs). It returns the net, the
// captured variables and those of them that stmts assign.
func (w *wf) childNet(name string, sp, end source.Span, lead []leadParam, stmts []syntax.Stmt) (*ir.NetBuilder, []check.Object, map[check.Object]bool) {
	var caps []check.Object
	seen := map[check.Object]bool{}
	assigned := map[check.Object]bool{}
	for _, st := range stmts {
		syntax.Inspect(st, func(n any) bool {
			switch n := n.(type) {
			case *syntax.Ident:
				if o := w.l.info.Uses[n]; o != nil && !seen[o] {
					if _, ok := w.vars[o]; ok {
						seen[o] = true
						caps = append(caps, o)
					}
				}
			case *syntax.ExprStmt:
				if n.Value != nil {
					if id := rootIdent(n.X); id != nil {
						if o := w.l.info.Uses[id]; o != nil {
							if _, ok := w.vars[o]; ok {
								assigned[o] = true
							}
						}
					}
				}
			}
			return true
		})
	}
	var params []ir.Param
	for _, p := range lead {
		params = append(params, ir.Param{Name: p.obj.Name(), Type: p.typ})
	}
	for _, o := range caps {
		v := w.n.Vars[w.vars[o]]
		params = append(params, ir.Param{Name: v.Name, Type: v.Type})
	}
	nb := w.l.prog.NewNet(name, ir.Void, params...)
	nb.N.Loc = w.loc(sp)
	cw := w.l.newWF(nb, w.file, w.fi)
	for i, p := range lead {
		cw.vars[p.obj] = int32(i)
		cw.used[p.obj.Name()]++
		nb.N.Vars[i].Loc = w.loc(p.sp)
	}
	for i, o := range caps {
		k := len(lead) + i
		cw.vars[o] = int32(k)
		cw.used[params[k].Name]++
		nb.N.Vars[k].Loc = w.n.Vars[w.vars[o]].Loc
	}
	nb.N.Places[nb.N.Start].Loc = w.loc(sp)
	nb.N.Places[nb.N.End].Loc = w.loc(sp)
	for _, st := range stmts {
		cw.declarations(st)
	}
	cw.body(stmts, end)
	for _, st := range stmts {
		cw.finish(st)
	}
	w.n.Signals = mergeSignals(w.n.Signals, nb.N.Signals)
	return nb, caps, assigned
}

// childCall is the call, at sp, of child net nb with the captured
// variables caps, and which of them the child shares because it assigns
// them (nil when it assigns none): entry k is the variable of this net
// that the child's argument k aliases, or -1 for a copy.
func (w *wf) childCall(nb *ir.NetBuilder, caps []check.Object, assigned map[check.Object]bool, sp source.Span) (*ir.Call, []int32) {
	call := &ir.Call{Kind: ir.CallWorkflow, Target: nb.Index, Retry: -1, Backoff: ir.NoFunc, Timeout: ir.NoFunc, Loc: w.loc(sp), Args: w.captureArgs(caps, sp)}
	if len(assigned) == 0 {
		return call, nil
	}
	bind := make([]int32, len(caps))
	for k, o := range caps {
		bind[k] = -1
		if assigned[o] {
			bind[k] = w.vars[o]
		}
	}
	return call, bind
}

// captureArgs returns the functions that pass the captured variables to
// a child net.
func (w *wf) captureArgs(caps []check.Object, sp source.Span) []ir.FuncID {
	var args []ir.FuncID
	for _, o := range caps {
		args = append(args, w.fnOf("capture."+o.Name(), sp, -1, w.readVar(w.vars[o])))
	}
	return args
}
