// This file implements the synthesizability lint: what a kernel may not
// do on the HLS target, reported at its source position before any C++
// is written.

package hls

import (
	"fmt"
	"sort"

	"github.com/knhk/knhk/compiler/ir"
)

// Diagnostic is a kernel construct the HLS target cannot express, at its
// source position.
type Diagnostic struct {
	Loc ir.Loc
	Msg string
}

func (d Diagnostic) Error() string { return d.Msg }

// Lint checks that every kernel of p can be synthesized: no recursion,
// no dynamic allocation, only loops with constant bounds and no indirect
// calls; and that it uses only kernel scalars and arrays. The messages
// name the target ("hls") and the construct.
func Lint(p *ir.Program) []Diagnostic {
	var ds []Diagnostic
	for _, k := range p.Kernels {
		if k != nil {
			ds = append(ds, lintKernel(p, k)...)
		}
	}
	sort.SliceStable(ds, func(i, j int) bool { return ds[i].Loc.Span.Start < ds[j].Loc.Span.Start })
	return ds
}

func lintKernel(p *ir.Program, k *ir.Kernel) []Diagnostic {
	l := &linter{p: p, k: k, state: map[ir.FuncID]uint8{}}
	if k.Body < 0 || int(k.Body) >= len(p.Funcs) || p.Funcs[k.Body] == nil {
		l.errorf(k.Loc, "kernel %s has no body", k.Name)
		return l.ds
	}
	l.fn(k.Body, k.Loc)
	return l.ds
}

type linter struct {
	p     *ir.Program
	k     *ir.Kernel
	state map[ir.FuncID]uint8 // 1 while its callees are being checked, 2 when done
	ds    []Diagnostic
}

func (l *linter) errorf(loc ir.Loc, format string, args ...any) {
	l.ds = append(l.ds, Diagnostic{Loc: loc, Msg: fmt.Sprintf("hls: kernel %s: ", l.k.Name) + fmt.Sprintf(format, args...)})
}

// scalar reports whether t is a kernel scalar the target has.
func (l *linter) scalar(t ir.TypeID) bool {
	switch l.p.KindOf(t) {
	case ir.KindF32, ir.KindI32, ir.KindU32, ir.KindBool:
		return true
	}
	return false
}

// array reports whether t is a list of kernel scalars.
func (l *linter) array(t ir.TypeID) bool {
	tt := l.p.Type(t)
	return tt != nil && tt.Kind == ir.KindList && l.scalar(tt.Elem)
}

func (l *linter) fn(id ir.FuncID, at ir.Loc) {
	switch l.state[id] {
	case 1:
		l.errorf(at, "recursion is not synthesizable: fn %s calls itself", l.p.Funcs[id].Name)
		return
	case 2:
		return
	}
	l.state[id] = 1
	defer func() { l.state[id] = 2 }()
	f := l.p.Funcs[id]
	for _, pa := range f.Params {
		if !l.scalar(pa.Type) && !l.array(pa.Type) {
			l.errorf(f.Loc, "%s: parameter %s of type %s has no hardware type", f.Name, pa.Name, l.p.TypeString(pa.Type))
		}
	}
	if !l.scalar(f.Result) {
		l.errorf(f.Loc, "%s: result type %s has no hardware type", f.Name, l.p.TypeString(f.Result))
	}
	c := analyse(f)
	for h := range c.header {
		if lp := c.loops[h]; lp != nil && !lp.counted {
			l.errorf(lp.Loc, "a loop without constant bounds is not synthesizable (its trip count must be known)")
		}
	}
	for _, b := range f.Blocks {
		for i := range b.Instrs {
			l.instr(f, &b.Instrs[i])
		}
	}
}

func (l *linter) instr(f *ir.Func, in *ir.Instr) {
	dst := f.Regs[in.Dst]
	switch in.Op {
	case ir.OpMakeList, ir.OpMakeMap, ir.OpMakeRecord, ir.OpSetIndex, ir.OpSetField:
		l.errorf(in.Loc, "dynamic allocation is not synthesizable: %s builds a %s at run time", in.Op, l.p.TypeString(dst))
		return
	case ir.OpCallFunc:
		if in.Callee < 0 || int(in.Callee) >= len(l.p.Funcs) || l.p.Funcs[in.Callee] == nil {
			l.errorf(in.Loc, "call of a missing function")
			return
		}
		l.fn(ir.FuncID(in.Callee), in.Loc)
	case ir.OpCallBuiltin:
		if in.Callee >= 0 {
			l.errorf(in.Loc, "an indirect call is not synthesizable: builtin %s calls a function value", in.Name)
			return
		}
	case ir.OpCallKernel:
		l.errorf(in.Loc, "a kernel call inside a kernel is not synthesizable")
		return
	case ir.OpVar, ir.OpMilestone, ir.OpField:
		l.errorf(in.Loc, "%s has no hardware form in a kernel", in.Op)
		return
	case ir.OpConst:
		if in.Const.Kind == ir.ConstString {
			l.errorf(in.Loc, "dynamic allocation is not synthesizable: a string constant")
			return
		}
	}
	if !l.scalar(dst) {
		if l.array(dst) {
			l.errorf(in.Loc, "dynamic allocation is not synthesizable: %s makes an array at run time", in.Op)
		} else {
			l.errorf(in.Loc, "%s of type %s has no hardware type", in.Op, l.p.TypeString(dst))
		}
	}
}
