// This file implements the IR invariant checker, after go/ssa's sanity.go.

package ir

import "fmt"

// VerifyError lists every invariant a program breaks. Each message names
// the offending item ("net Fulfil: transition t3 charge: ...").
type VerifyError struct {
	Problems []string
}

func (e *VerifyError) Error() string {
	switch len(e.Problems) {
	case 0:
		return "ir: no problems"
	case 1:
		return "ir: " + e.Problems[0]
	}
	return fmt.Sprintf("ir: %s (and %d more problems)", e.Problems[0], len(e.Problems)-1)
}

// maxVerifyProblems bounds the report on hostile input.
const maxVerifyProblems = 100

// Verify checks the invariants of p: every index refers to an existing
// item, registers are assigned once and typed consistently, every block is
// terminated, guards are bool functions, every transition has an input,
// regions name existing members, locations lie inside their files, and so
// on. It returns nil or a *VerifyError. Code that consumes the IR may
// assume a verified program and index without checking.
func (p *Program) Verify() error {
	v := &verifier{p: p}
	v.program()
	if len(v.problems) == 0 {
		return nil
	}
	return &VerifyError{Problems: v.problems}
}

type verifier struct {
	p        *Program
	problems []string
	count    int // problems found, including those beyond the cap
	ctx      string
}

func (v *verifier) errorf(format string, args ...any) {
	v.count++
	if len(v.problems) >= maxVerifyProblems {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if v.ctx != "" {
		msg = v.ctx + ": " + msg
	}
	v.problems = append(v.problems, msg)
}

func (v *verifier) loc(what string, l Loc) {
	if !l.Known() {
		return
	}
	if l.File < 0 || int(l.File) >= len(v.p.Files) {
		v.errorf("%s: file %d out of range", what, l.File)
		return
	}
	if l.Span.End < l.Span.Start {
		v.errorf("%s: span %d-%d ends before it starts", what, l.Span.Start, l.Span.End)
		return
	}
	if size := v.p.Files[l.File].Size; size > 0 && int64(l.Span.End) > size {
		v.errorf("%s: span %d-%d beyond the end of %s (%d bytes)", what, l.Span.Start, l.Span.End, v.p.Files[l.File].Name, size)
	}
}

func (v *verifier) typeOK(what string, t TypeID, voidOK bool) bool {
	if !v.p.validType(t) {
		v.errorf("%s: unknown type %d", what, t)
		return false
	}
	if t == Void && !voidOK {
		v.errorf("%s: void type", what)
		return false
	}
	return true
}

// identical reports whether a and b denote the same type: records, lists,
// maps and optionals are structural, enums nominal.
func (p *Program) identical(a, b TypeID) bool {
	return p.identicalSeen(a, b, nil)
}

func (p *Program) identicalSeen(a, b TypeID, seen map[[2]TypeID]bool) bool {
	if a == b {
		return true
	}
	ta, tb := p.Type(a), p.Type(b)
	if ta == nil || tb == nil || ta.Kind != tb.Kind || ta.Kind == KindEnum {
		return false
	}
	key := [2]TypeID{a, b}
	if seen[key] {
		return true
	}
	if seen == nil {
		seen = map[[2]TypeID]bool{}
	}
	seen[key] = true
	switch ta.Kind {
	case KindList, KindOptional:
		return p.identicalSeen(ta.Elem, tb.Elem, seen)
	case KindMap:
		return p.identicalSeen(ta.Key, tb.Key, seen) && p.identicalSeen(ta.Elem, tb.Elem, seen)
	case KindRecord:
		if len(ta.Fields) != len(tb.Fields) {
			return false
		}
		for i := range ta.Fields {
			if ta.Fields[i].Name != tb.Fields[i].Name || !p.identicalSeen(ta.Fields[i].Type, tb.Fields[i].Type, seen) {
				return false
			}
		}
		return true
	}
	return false
}

func (v *verifier) program() {
	p := v.p
	for i, f := range p.Files {
		if f.Size < 0 {
			v.errorf("file %d %s: negative size", i, f.Name)
		}
	}
	for i := range p.Types {
		v.typ(FirstComposite+TypeID(i), &p.Types[i])
	}
	each(v, "func f%d", p.Funcs, func(f *Func) string { return f.Name }, func(_ int, f *Func) { v.fun(f) })
	each(v, "kernel %d", p.Kernels, func(k *Kernel) string { return k.Name }, func(_ int, k *Kernel) { v.kernel(k) })
	each(v, "task %d", p.Tasks, func(t *Task) string { return t.Name }, func(_ int, t *Task) { v.task(t) })
	each(v, "net n%d", p.Nets, func(n *Net) string { return n.Name }, func(i int, n *Net) { v.net(int32(i), n) })
	v.ctx = ""
}

// each verifies the items of one table of the program, naming each in
// v.ctx ("func f3 total") for the errors it reports and rejecting nils.
func each[T any](v *verifier, kind string, items []*T, name func(*T) string, check func(int, *T)) {
	for i, x := range items {
		v.ctx = fmt.Sprintf(kind, i)
		if x == nil {
			v.errorf("nil")
			continue
		}
		v.ctx += " " + name(x)
		check(i, x)
	}
}

func (v *verifier) typ(id TypeID, t *Type) {
	v.ctx = fmt.Sprintf("type t%d", id)
	switch t.Kind {
	case KindList, KindOptional:
		if v.typeOK("element", t.Elem, false) && t.Kind == KindOptional && v.p.KindOf(t.Elem) == KindOptional {
			v.errorf("optional of an optional")
		}
	case KindMap:
		if v.typeOK("key", t.Key, false) {
			switch v.p.KindOf(t.Key) {
			case KindString, KindInt, KindBool, KindEnum:
			default:
				v.errorf("map key of kind %s", v.p.KindOf(t.Key))
			}
		}
		v.typeOK("value", t.Elem, false)
	case KindRecord:
		seen := map[string]bool{}
		for _, f := range t.Fields {
			if f.Name == "" || seen[f.Name] {
				v.errorf("empty or duplicate field %q", f.Name)
			}
			seen[f.Name] = true
			v.typeOK("field "+f.Name, f.Type, false)
		}
	case KindEnum:
		if len(t.Members) == 0 {
			v.errorf("enum without members")
		}
		seen := map[string]bool{}
		for _, m := range t.Members {
			if m == "" || seen[m] {
				v.errorf("empty or duplicate member %q", m)
			}
			seen[m] = true
		}
	default:
		v.errorf("composite type of kind %s", t.Kind)
	}
}

func (v *verifier) funcRef(what string, f FuncID, optional bool) *Func {
	if f == NoFunc {
		if !optional {
			v.errorf("%s: missing function", what)
		}
		return nil
	}
	if f < 0 || int(f) >= len(v.p.Funcs) || v.p.Funcs[f] == nil {
		v.errorf("%s: function f%d out of range", what, f)
		return nil
	}
	return v.p.Funcs[f]
}

// exprFunc checks a function a net evaluates: it takes no parameters, is
// pure or scoped to net, and returns a value of type want (any when
// want < 0).
func (v *verifier) exprFunc(what string, f FuncID, net int32, want TypeID, optional bool) {
	fn := v.funcRef(what, f, optional)
	if fn == nil {
		return
	}
	if len(fn.Params) != 0 {
		v.errorf("%s: f%d takes %d parameters, want none", what, f, len(fn.Params))
	}
	if fn.Scope != -1 && fn.Scope != net {
		v.errorf("%s: f%d reads the variables of net %d", what, f, fn.Scope)
	}
	if want >= 0 && !v.p.identical(fn.Result, want) {
		v.errorf("%s: f%d returns %s, want %s", what, f, v.p.TypeString(fn.Result), v.p.TypeString(want))
	}
}

func (v *verifier) fun(f *Func) {
	p := v.p
	before := v.count
	v.loc("location", f.Loc)
	for _, pa := range f.Params {
		v.typeOK("parameter "+pa.Name, pa.Type, false)
	}
	v.typeOK("result", f.Result, false)
	if f.Scope < -1 || int(f.Scope) >= len(p.Nets) {
		v.errorf("scope net %d out of range", f.Scope)
	}
	if len(f.Regs) < len(f.Params) {
		v.errorf("%d registers for %d parameters", len(f.Regs), len(f.Params))
		return
	}
	for i, t := range f.Regs {
		if !p.validType(t) || t == Void {
			v.errorf("r%d: bad type %d", i, t)
			return
		}
	}
	for i, pa := range f.Params {
		if f.Regs[i] != pa.Type {
			v.errorf("r%d: type %s differs from parameter %s", i, p.TypeString(f.Regs[i]), pa.Name)
		}
	}
	if len(f.Blocks) == 0 {
		v.errorf("no blocks")
		return
	}
	// Single assignment: parameters, block parameters and destinations.
	defined := make([]bool, len(f.Regs))
	for i := range f.Params {
		defined[i] = true
	}
	def := func(where string, r Reg) {
		if r < 0 || int(r) >= len(f.Regs) {
			v.errorf("%s: register r%d out of range", where, r)
			return
		}
		if defined[r] {
			v.errorf("%s: register r%d assigned twice", where, r)
		}
		defined[r] = true
	}
	for bi, b := range f.Blocks {
		if b == nil {
			v.errorf("b%d: nil block", bi)
			return
		}
		if bi == 0 && len(b.Params) > 0 {
			v.errorf("b0: entry block has parameters")
		}
		for _, r := range b.Params {
			def(fmt.Sprintf("b%d", bi), r)
		}
		for k := range b.Instrs {
			def(fmt.Sprintf("b%d.%d", bi, k), b.Instrs[k].Dst)
		}
	}
	for bi, b := range f.Blocks {
		for k := range b.Instrs {
			v.instr(f, fmt.Sprintf("b%d.%d %s", bi, k, b.Instrs[k].Op), &b.Instrs[k], defined)
		}
		v.term(f, fmt.Sprintf("b%d", bi), &b.Term, defined)
	}
	if v.count == before {
		v.dominance(f)
	}
}

// use checks that r is a defined register and returns its type, or -1.
func (v *verifier) use(f *Func, where string, r Reg, defined []bool) TypeID {
	if r < 0 || int(r) >= len(f.Regs) || !defined[r] {
		v.errorf("%s: register r%d undefined", where, r)
		return -1
	}
	return f.Regs[r]
}

func (v *verifier) instr(f *Func, where string, in *Instr, defined []bool) {
	p := v.p
	v.loc(where, in.Loc)
	if in.Dst < 0 || int(in.Dst) >= len(f.Regs) {
		return // reported by fun
	}
	dst := f.Regs[in.Dst]
	args := make([]TypeID, len(in.Args))
	for i, r := range in.Args {
		args[i] = v.use(f, where, r, defined)
		if args[i] < 0 {
			return
		}
	}
	nargs := func(n int) bool {
		if len(args) != n {
			v.errorf("%s: %d operands, want %d", where, len(args), n)
			return false
		}
		return true
	}
	mismatch := func(what string, got, want TypeID) {
		if !p.identical(got, want) {
			v.errorf("%s: %s is %s, want %s", where, what, p.TypeString(got), p.TypeString(want))
		}
	}
	switch in.Op {
	case OpConst:
		nargs(0)
		v.constant(where, in.Const, dst)
	case OpVar:
		nargs(0)
		if f.Scope < 0 || int(f.Scope) >= len(p.Nets) || p.Nets[f.Scope] == nil {
			v.errorf("%s: variable read outside a net scope", where)
			return
		}
		n := p.Nets[f.Scope]
		if in.Index < 0 || int(in.Index) >= len(n.Vars) {
			v.errorf("%s: variable %d out of range", where, in.Index)
			return
		}
		mismatch("variable "+n.Vars[in.Index].Name, n.Vars[in.Index].Type, dst)
	case OpBinary:
		if nargs(2) {
			v.binary(where, BinOp(in.Sub), args[0], args[1], dst)
		}
	case OpUnary:
		if !nargs(1) {
			return
		}
		switch UnOp(in.Sub) {
		case UnNeg:
			k := p.KindOf(args[0])
			if !(k.IsNumeric() && k != KindU32 || k == KindDuration) {
				v.errorf("%s: negation of %s", where, p.TypeString(args[0]))
			}
			mismatch("result", dst, args[0])
		case UnNot:
			mismatch("operand", args[0], Bool)
			mismatch("result", dst, Bool)
		default:
			v.errorf("%s: bad unary operator %d", where, in.Sub)
		}
	case OpConvert:
		if nargs(1) && !v.convertible(args[0], dst) {
			v.errorf("%s: cannot convert %s to %s", where, p.TypeString(args[0]), p.TypeString(dst))
		}
	case OpField:
		if !nargs(1) {
			return
		}
		t := p.Type(args[0])
		if t == nil || t.Kind != KindRecord {
			v.errorf("%s: field of non-record %s", where, p.TypeString(args[0]))
			return
		}
		if in.Index < 0 || int(in.Index) >= len(t.Fields) {
			v.errorf("%s: field %d out of range", where, in.Index)
			return
		}
		mismatch("field "+t.Fields[in.Index].Name, t.Fields[in.Index].Type, dst)
	case OpIndex:
		if !nargs(2) {
			return
		}
		t := p.Type(args[0])
		switch {
		case t != nil && t.Kind == KindList:
			if k := p.KindOf(args[1]); k != KindInt && k != KindI32 && k != KindU32 {
				v.errorf("%s: list index of type %s", where, p.TypeString(args[1]))
			}
		case t != nil && t.Kind == KindMap:
			mismatch("key", args[1], t.Key)
		default:
			v.errorf("%s: index of %s", where, p.TypeString(args[0]))
			return
		}
		mismatch("element", t.Elem, dst)
	case OpMakeList:
		t := p.Type(dst)
		if t == nil || t.Kind != KindList {
			v.errorf("%s: list literal of type %s", where, p.TypeString(dst))
			return
		}
		for _, a := range args {
			mismatch("element", a, t.Elem)
		}
	case OpMakeRecord:
		t := p.Type(dst)
		if t == nil || t.Kind != KindRecord {
			v.errorf("%s: record literal of type %s", where, p.TypeString(dst))
			return
		}
		if nargs(len(t.Fields)) {
			for i, a := range args {
				mismatch("field "+t.Fields[i].Name, a, t.Fields[i].Type)
			}
		}
	case OpMakeMap:
		t := p.Type(dst)
		if t == nil || t.Kind != KindMap || len(args)%2 != 0 {
			v.errorf("%s: map literal of type %s with %d operands", where, p.TypeString(dst), len(args))
			return
		}
		for i := 0; i < len(args); i += 2 {
			mismatch("key", args[i], t.Key)
			mismatch("value", args[i+1], t.Elem)
		}
	case OpCallBuiltin:
		if in.Name == "" {
			v.errorf("%s: builtin without a name", where)
		}
		if in.Index < 0 || int(in.Index) > len(args) {
			v.errorf("%s: %d operands of %d", where, in.Index, len(args))
			return
		}
		captures := args[in.Index:]
		if in.Callee == int32(NoFunc) {
			if len(captures) > 0 {
				v.errorf("%s: captured values without a lambda", where)
			}
			return
		}
		lam := v.funcRef(where+" lambda", FuncID(in.Callee), false)
		if lam == nil {
			return
		}
		if len(lam.Params) <= len(captures) {
			v.errorf("%s: lambda f%d takes %d parameters for %d captured values and the element", where, in.Callee, len(lam.Params), len(captures))
			return
		}
		for i, c := range captures {
			mismatch("captured value "+lam.Params[i].Name, c, lam.Params[i].Type)
		}
	case OpSetField:
		if !nargs(2) {
			return
		}
		t := p.Type(args[0])
		if t == nil || t.Kind != KindRecord || in.Index < 0 || int(in.Index) >= len(t.Fields) {
			v.errorf("%s: field %d of %s", where, in.Index, p.TypeString(args[0]))
			return
		}
		mismatch("field "+t.Fields[in.Index].Name, args[1], t.Fields[in.Index].Type)
		mismatch("result", dst, args[0])
	case OpSetIndex:
		if !nargs(3) {
			return
		}
		t := p.Type(args[0])
		switch {
		case t != nil && t.Kind == KindList:
			if k := p.KindOf(args[1]); k != KindInt && k != KindI32 && k != KindU32 {
				v.errorf("%s: list index of type %s", where, p.TypeString(args[1]))
			}
		case t != nil && t.Kind == KindMap:
			mismatch("key", args[1], t.Key)
		default:
			v.errorf("%s: index of %s", where, p.TypeString(args[0]))
			return
		}
		mismatch("element", args[2], t.Elem)
		mismatch("result", dst, args[0])
	case OpCallFunc:
		g := v.funcRef(where, FuncID(in.Callee), false)
		if g == nil {
			return
		}
		if nargs(len(g.Params)) {
			for i, a := range args {
				mismatch("argument "+g.Params[i].Name, a, g.Params[i].Type)
			}
		}
		mismatch("result", dst, g.Result)
		if g.Scope != -1 && g.Scope != f.Scope {
			v.errorf("%s: f%d reads the variables of net %d, which this function cannot supply", where, in.Callee, g.Scope)
		}
	case OpCallKernel:
		if in.Callee < 0 || int(in.Callee) >= len(p.Kernels) || p.Kernels[in.Callee] == nil {
			v.errorf("%s: kernel %d out of range", where, in.Callee)
			return
		}
		k := p.Kernels[in.Callee]
		if nargs(len(k.Params)) {
			for i, a := range args {
				mismatch("argument "+k.Params[i].Name, a, k.Params[i].Type)
			}
		}
		mismatch("result", dst, k.Result)
	case OpMilestone:
		nargs(0)
		if in.Name == "" {
			v.errorf("%s: milestone without a name", where)
		}
		mismatch("result", dst, Bool)
	default:
		v.errorf("%s: bad operation", where)
	}
}

func (v *verifier) constant(where string, c Const, t TypeID) {
	k := v.p.KindOf(t)
	ok := false
	switch c.Kind {
	case ConstNone:
		ok = k == KindOptional
	case ConstBool:
		ok = k == KindBool
	case ConstInt:
		switch k {
		case KindInt, KindI32, KindU32, KindDuration, KindTime:
			ok = true
		case KindEnum:
			ok = c.Int >= 0 && c.Int < int64(len(v.p.Type(t).Members))
		}
	case ConstFloat:
		ok = k == KindFloat || k == KindF32
	case ConstString:
		ok = k == KindString || k == KindBytes
	}
	if !ok {
		v.errorf("%s: constant of kind %d for type %s", where, c.Kind, v.p.TypeString(t))
	}
}

func (v *verifier) convertible(from, to TypeID) bool {
	p := v.p
	fk, tk := p.KindOf(from), p.KindOf(to)
	switch {
	case p.identical(from, to):
		return true
	case fk.IsNumeric() && tk.IsNumeric():
		return true
	case tk == KindString:
		return fk.IsScalar() || fk == KindEnum
	case tk == KindBytes:
		return fk == KindString
	case tk == KindOptional:
		return p.identical(from, p.Type(to).Elem)
	}
	return false
}

func (v *verifier) binary(where string, op BinOp, a, b, dst TypeID) {
	p := v.p
	ak, bk, dk := p.KindOf(a), p.KindOf(b), p.KindOf(dst)
	bad := func() {
		v.errorf("%s: %s %s %s yielding %s", where, p.TypeString(a), op, p.TypeString(b), p.TypeString(dst))
	}
	same := p.identical(a, b)
	switch op {
	case BinEq, BinNe:
		compatible := same ||
			ak == KindOptional && p.identical(p.Type(a).Elem, b) ||
			bk == KindOptional && p.identical(p.Type(b).Elem, a)
		if !compatible || dk != KindBool {
			bad()
		}
	case BinLt, BinLe, BinGt, BinGe:
		ordered := ak.IsNumeric() || ak == KindString || ak == KindDuration || ak == KindTime
		if !same || !ordered || dk != KindBool {
			bad()
		}
	case BinAnd, BinOr:
		if ak != KindBool || bk != KindBool || dk != KindBool {
			bad()
		}
	case BinCoalesce:
		if ak != KindOptional || !p.identical(p.Type(a).Elem, b) || !p.identical(b, dst) {
			bad()
		}
	case BinAdd, BinSub, BinMul, BinDiv, BinRem:
		if !v.arith(op, a, b, dst) {
			bad()
		}
	default:
		v.errorf("%s: bad binary operator %d", where, op)
	}
}

func (v *verifier) arith(op BinOp, a, b, dst TypeID) bool {
	p := v.p
	ak, bk, dk := p.KindOf(a), p.KindOf(b), p.KindOf(dst)
	if p.identical(a, b) && p.identical(a, dst) {
		switch {
		case ak.IsNumeric():
			return op != BinRem || ak == KindInt || ak == KindI32 || ak == KindU32
		case ak == KindString || ak == KindList:
			return op == BinAdd
		case ak == KindDuration:
			return op == BinAdd || op == BinSub
		}
		return false
	}
	scalar := func(k Kind) bool { return k == KindInt || k == KindFloat }
	switch {
	case ak == KindTime && bk == KindDuration && dk == KindTime:
		return op == BinAdd || op == BinSub
	case ak == KindDuration && bk == KindTime && dk == KindTime:
		return op == BinAdd
	case ak == KindTime && bk == KindTime && dk == KindDuration:
		return op == BinSub
	case ak == KindDuration && scalar(bk) && dk == KindDuration:
		return op == BinMul || op == BinDiv
	case scalar(ak) && bk == KindDuration && dk == KindDuration:
		return op == BinMul
	case ak == KindDuration && bk == KindDuration && dk == KindFloat:
		return op == BinDiv
	}
	return false
}

func (v *verifier) term(f *Func, where string, t *Term, defined []bool) {
	p := v.p
	v.loc(where, t.Loc)
	succs := func(n int) {
		if len(t.Succs) != n {
			v.errorf("%s: %s with %d successors, want %d", where, t.Op, len(t.Succs), n)
			return
		}
		for _, s := range t.Succs {
			if s.Block < 0 || int(s.Block) >= len(f.Blocks) {
				v.errorf("%s: successor b%d out of range", where, s.Block)
				continue
			}
			target := f.Blocks[s.Block]
			if len(s.Args) != len(target.Params) {
				v.errorf("%s: %d arguments for b%d, which has %d parameters", where, len(s.Args), s.Block, len(target.Params))
				continue
			}
			for i, r := range s.Args {
				at := v.use(f, where, r, defined)
				pr := target.Params[i]
				if at >= 0 && pr >= 0 && int(pr) < len(f.Regs) && !p.identical(at, f.Regs[pr]) {
					v.errorf("%s: argument r%d is %s, b%d parameter r%d is %s", where, r, p.TypeString(at), s.Block, pr, p.TypeString(f.Regs[pr]))
				}
			}
		}
	}
	switch t.Op {
	case TermJump:
		succs(1)
	case TermBranch:
		if ct := v.use(f, where, t.Value, defined); ct >= 0 && ct != Bool {
			v.errorf("%s: branch on %s, want bool", where, p.TypeString(ct))
		}
		succs(2)
	case TermReturn:
		succs(0)
		if rt := v.use(f, where, t.Value, defined); rt >= 0 && !p.identical(rt, f.Result) {
			v.errorf("%s: returns %s, want %s", where, p.TypeString(rt), p.TypeString(f.Result))
		}
	default:
		v.errorf("%s: block not terminated", where)
	}
}
