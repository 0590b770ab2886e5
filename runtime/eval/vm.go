// This file implements the register machine that runs IR functions.

package eval

import (
	"fmt"
	"math"

	"github.com/knhk/knhk/compiler/ir"
)

// Env is what a function scoped to a net reads from the running case:
// its variables (by index into [ir.Net].Vars, the Index of an OpVar) and
// its milestones (by name, OpMilestone). Functions without a scope never
// consult it, so nil is fine for them.
type Env interface {
	Var(index int) (Value, bool)
	Milestone(name string) bool
}

// Vars adapts a function that reads case variables to an [Env] whose
// milestones are never held.
type Vars func(index int) (Value, bool)

// Var calls f.
func (f Vars) Var(index int) (Value, bool) { return f(index) }

// Milestone reports false.
func (Vars) Milestone(string) bool { return false }

// DefaultMaxSteps bounds the work of one top-level call: one step per
// instruction, plus one per element of every list, map or record an
// operator or builtin builds (and one per 16 bytes of a string).
const DefaultMaxSteps = 20_000_000

// maxDepth bounds nested calls (fns calling fns, lambdas, kernels).
const maxDepth = 2000

// Machine runs the functions of one program. It keeps its register stack
// between calls, so reusing a Machine avoids allocation; it is not safe
// for concurrent use (use one per goroutine).
type Machine struct {
	prog *ir.Program
	// MaxSteps bounds the work of one top-level call (see
	// DefaultMaxSteps, used when it is zero). Running out is an error,
	// never a hang.
	MaxSteps int64
	// Kernels, when set, is offered every kernel call first (see
	// [KernelRunner]).
	Kernels KernelRunner

	steps int64
	depth int
	stack []Value // registers of the active frames
	tmp   []Value // block arguments in flight
}

// New returns a machine for p.
func New(p *ir.Program) *Machine { return &Machine{prog: p} }

// Program returns the machine's program.
func (m *Machine) Program() *ir.Program { return m.prog }

// Call runs function f of p with args; env supplies case variables and
// milestones. It is a shorthand for New(p).Call.
func Call(p *ir.Program, f ir.FuncID, env Env, args ...Value) (Value, error) {
	return New(p).Call(f, env, args...)
}

// Call runs function f with args. A failure is an [*Error] with the span
// of the failing instruction. A malformed program (one that would not
// verify) yields an error, never a panic.
func (m *Machine) Call(f ir.FuncID, env Env, args ...Value) (v Value, err error) {
	fn, err := m.fn(f)
	if err != nil {
		return Value{}, err
	}
	m.steps, m.depth = 0, 0
	defer m.recover(fn, &err)
	return m.call(fn, env, args)
}

// CallFunc runs fn, a function of the machine's program (such as a guard
// reached from a transition), with args; see [Machine.Call].
func (m *Machine) CallFunc(fn *ir.Func, env Env, args ...Value) (v Value, err error) {
	if fn == nil {
		return Value{}, fmt.Errorf("no function")
	}
	m.steps, m.depth = 0, 0
	defer m.recover(fn, &err)
	return m.call(fn, env, args)
}

// recover turns a panic caused by a malformed program into an error.
func (m *Machine) recover(fn *ir.Func, err *error) {
	if r := recover(); r != nil {
		*err = &Error{Loc: fn.Loc, Func: fn.Name, Msg: fmt.Sprintf("malformed program: %v", r)}
		m.stack, m.tmp, m.depth = m.stack[:0], m.tmp[:0], 0
	}
}

func (m *Machine) fn(f ir.FuncID) (*ir.Func, error) {
	if f < 0 || int(f) >= len(m.prog.Funcs) || m.prog.Funcs[f] == nil {
		return nil, fmt.Errorf("no function %d", f)
	}
	return m.prog.Funcs[f], nil
}

func (m *Machine) maxSteps() int64 {
	if m.MaxSteps > 0 {
		return m.MaxSteps
	}
	return DefaultMaxSteps
}

// call runs fn in a new frame on the register stack.
func (m *Machine) call(fn *ir.Func, env Env, args []Value) (Value, error) {
	if len(args) != len(fn.Params) {
		return Value{}, &Error{Loc: fn.Loc, Func: fn.Name, Msg: fmt.Sprintf("%s takes %d arguments, not %d", fn.Name, len(fn.Params), len(args))}
	}
	if len(fn.Blocks) == 0 {
		return Value{}, &Error{Loc: fn.Loc, Func: fn.Name, Msg: fn.Name + " has no body"}
	}
	if m.depth >= maxDepth {
		return Value{}, &Error{Loc: fn.Loc, Func: fn.Name, Msg: fmt.Sprintf("calls nested more than %d deep", maxDepth)}
	}
	m.depth++
	base := len(m.stack)
	n := len(fn.Regs)
	if n < len(args) {
		n = len(args)
	}
	m.stack = append(m.stack, make([]Value, n)...)
	regs := m.stack[base : base+n : base+n]
	copy(regs, args)
	v, err := m.run(fn, env, regs)
	clear(regs)
	m.stack = m.stack[:base]
	m.depth--
	return v, err
}

// run executes fn's blocks from the entry block.
func (m *Machine) run(fn *ir.Func, env Env, regs []Value) (Value, error) {
	b := fn.Blocks[0]
	limit := m.maxSteps()
	for {
		for i := range b.Instrs {
			in := &b.Instrs[i]
			m.steps++
			if m.steps > limit {
				return Value{}, &Error{Loc: in.Loc, Func: fn.Name, Msg: "step limit exceeded"}
			}
			if in.Op == ir.OpBinary {
				// The fast path for arithmetic and comparisons on floats
				// and f32, the bulk of kernels and scoring fns.
				x, y := &regs[in.Args[0]], &regs[in.Args[1]]
				if v, ok := fastFloat(ir.BinOp(in.Sub), x, y); ok {
					regs[in.Dst] = v
					continue
				}
			}
			v, err := m.exec(fn, in, env, regs)
			if err != nil {
				if f, ok := err.(failure); ok {
					return Value{}, &Error{Loc: in.Loc, Func: fn.Name, Msg: string(f)}
				}
				return Value{}, err
			}
			regs[in.Dst] = v
			switch in.Op {
			case ir.OpBinary, ir.OpSetIndex, ir.OpSetField, ir.OpCallBuiltin:
				// Operations that build aggregates are charged by size,
				// so that a loop doubling a list or a string runs out of
				// steps long before it runs out of memory.
				m.steps += size(v)
			}
		}
		t := &b.Term
		var s *ir.Succ
		switch t.Op {
		case ir.TermReturn:
			if t.Value < 0 {
				return Void, nil
			}
			return regs[t.Value], nil
		case ir.TermJump:
			s = &t.Succs[0]
		case ir.TermBranch:
			if regs[t.Value].AsBool() {
				s = &t.Succs[0]
			} else {
				s = &t.Succs[1]
			}
		default:
			return Value{}, &Error{Loc: t.Loc, Func: fn.Name, Msg: "unterminated block"}
		}
		next := fn.Blocks[s.Block]
		if len(s.Args) != len(next.Params) {
			return Value{}, &Error{Loc: t.Loc, Func: fn.Name, Msg: "wrong number of block arguments"}
		}
		// Block parameters are assigned in parallel: a loop may pass a
		// parameter on to another.
		m.tmp = m.tmp[:0]
		for _, a := range s.Args {
			m.tmp = append(m.tmp, regs[a])
		}
		for i, p := range next.Params {
			regs[p] = m.tmp[i]
		}
		b = next
	}
}

// exec runs one instruction and returns the value for its Dst.
func (m *Machine) exec(fn *ir.Func, in *ir.Instr, env Env, regs []Value) (Value, error) {
	p := m.prog
	switch in.Op {
	case ir.OpConst:
		return constValue(p, fn.Regs[in.Dst], in.Const), nil
	case ir.OpVar:
		return readVar(p, fn, env, in.Index)
	case ir.OpBinary:
		return binary(ir.BinOp(in.Sub), regs[in.Args[0]], regs[in.Args[1]])
	case ir.OpUnary:
		return unary(ir.UnOp(in.Sub), regs[in.Args[0]])
	case ir.OpConvert:
		return convert(p, regs[in.Args[0]], fn.Regs[in.Dst])
	case ir.OpField:
		x := regs[in.Args[0]]
		if x.k != ir.KindRecord {
			return Value{}, failf("field of %s, not of a record", kindName(x))
		}
		return x.ref.elems[in.Index], nil
	case ir.OpIndex:
		return index(regs[in.Args[0]], regs[in.Args[1]])
	case ir.OpMakeList:
		out := make([]Value, len(in.Args))
		for i, a := range in.Args {
			out[i] = regs[a]
		}
		return List(out), nil
	case ir.OpMakeRecord:
		out := make([]Value, len(in.Args))
		for i, a := range in.Args {
			out[i] = regs[a]
		}
		return Record(p.Type(fn.Regs[in.Dst]), out), nil
	case ir.OpMakeMap:
		ks := make([]Value, len(in.Args)/2)
		vs := make([]Value, len(in.Args)/2)
		for i := range ks {
			ks[i], vs[i] = regs[in.Args[2*i]], regs[in.Args[2*i+1]]
		}
		return Map(ks, vs), nil
	case ir.OpCallBuiltin:
		return m.builtin(fn, in, env, regs)
	case ir.OpCallFunc:
		callee, err := m.fn(ir.FuncID(in.Callee))
		if err != nil {
			return Value{}, failure(err.Error())
		}
		return m.call(callee, env, gather(regs, in.Args))
	case ir.OpCallKernel:
		return m.kernel(int(in.Callee), gather(regs, in.Args))
	case ir.OpMilestone:
		return readMilestone(env, in.Name)
	case ir.OpSetField:
		x := regs[in.Args[0]]
		if x.k != ir.KindRecord {
			return Value{}, failf("field of %s, not of a record", kindName(x))
		}
		fs := append([]Value(nil), x.ref.elems...)
		fs[in.Index] = regs[in.Args[1]]
		return Record(x.ref.rec, fs), nil
	case ir.OpSetIndex:
		return setIndex(regs[in.Args[0]], regs[in.Args[1]], regs[in.Args[2]])
	}
	return Value{}, failf("bad instruction %s", in.Op)
}

// size is the work of building v: its elements, or its bytes over 16.
func size(v Value) int64 {
	switch v.k {
	case ir.KindString, ir.KindBytes:
		return int64(len(v.s)) / 16
	case ir.KindList, ir.KindMap, ir.KindRecord:
		return int64(v.Len())
	}
	return 0
}

func gather(regs []Value, rs []ir.Reg) []Value {
	out := make([]Value, len(rs))
	for i, r := range rs {
		out[i] = regs[r]
	}
	return out
}

func kindName(x Value) string {
	if x.IsNone() {
		return "none"
	}
	return x.k.String()
}

// constValue materialises c as a value of type t.
func constValue(p *ir.Program, t ir.TypeID, c ir.Const) Value {
	k := p.KindOf(t)
	if k == ir.KindOptional {
		if c.Kind == ir.ConstNone {
			return None
		}
		t = p.Type(t).Elem
		k = p.KindOf(t)
	}
	switch c.Kind {
	case ir.ConstNone:
		return None
	case ir.ConstBool:
		return Bool(c.Bool)
	case ir.ConstInt:
		switch k {
		case ir.KindEnum:
			return Enum(int(c.Int), EnumName(p.Type(t), c.Int))
		case ir.KindI32, ir.KindU32, ir.KindDuration, ir.KindTime:
			return Value{k: k, n: uint64(c.Int)}
		case ir.KindFloat:
			return Float(float64(c.Int))
		case ir.KindF32:
			return f32(float64(c.Int))
		}
		return Int(c.Int)
	case ir.ConstFloat:
		if k == ir.KindF32 {
			return f32(c.Float)
		}
		return Float(c.Float)
	case ir.ConstString:
		if k == ir.KindBytes {
			return Value{k: ir.KindBytes, s: c.Str}
		}
		return Str(c.Str)
	}
	return Void
}

// index is x[i] on a list (any integer index) or a map.
func index(x, i Value) (Value, error) {
	switch x.k {
	case ir.KindList:
		j, err := listIndex(x, i)
		if err != nil {
			return Value{}, err
		}
		return x.ref.elems[j], nil
	case ir.KindMap:
		v, ok := x.Lookup(i)
		if !ok {
			return Value{}, failf("key %s not in map", i)
		}
		return v, nil
	}
	return Value{}, failf("index of %s", kindName(x))
}

func listIndex(x, i Value) (int, error) {
	switch i.k {
	case ir.KindInt, ir.KindI32, ir.KindU32:
	default:
		return 0, failf("list index of kind %s", kindName(i))
	}
	j := i.AsInt()
	if j < 0 || j >= int64(x.Len()) {
		return 0, failf("index %d out of range [0:%d]", j, x.Len())
	}
	return int(j), nil
}

// setIndex is x with element or key i set to v.
func setIndex(x, i, v Value) (Value, error) {
	switch x.k {
	case ir.KindList:
		j, err := listIndex(x, i)
		if err != nil {
			return Value{}, err
		}
		es := append([]Value(nil), x.ref.elems...)
		es[j] = v
		return List(es), nil
	case ir.KindMap:
		pos, ok := x.find(i)
		ks := append([]Value(nil), x.ref.keys...)
		vs := append([]Value(nil), x.ref.elems...)
		if ok {
			vs[pos] = v
		} else {
			ks = append(ks[:pos], append([]Value{i}, ks[pos:]...)...)
			vs = append(vs[:pos], append([]Value{v}, vs[pos:]...)...)
		}
		return Value{k: ir.KindMap, ref: &agg{keys: ks, elems: vs}}, nil
	}
	return Value{}, failf("index of %s", kindName(x))
}

// fastFloat computes x op y when both are floats or both f32 and op is
// arithmetic or an ordering; it gives the same results as binary.
func fastFloat(op ir.BinOp, x, y *Value) (Value, bool) {
	if x.k != y.k || (x.k != ir.KindFloat && x.k != ir.KindF32) {
		return Value{}, false
	}
	a, b := math.Float64frombits(x.n), math.Float64frombits(y.n)
	var r float64
	switch op {
	case ir.BinAdd:
		r = a + b
	case ir.BinSub:
		r = a - b
	case ir.BinMul:
		r = a * b
	case ir.BinDiv:
		r = a / b
	case ir.BinLt:
		return Bool(a < b), true
	case ir.BinLe:
		return Bool(a <= b), true
	case ir.BinGt:
		return Bool(a > b), true
	case ir.BinGe:
		return Bool(a >= b), true
	default:
		return Value{}, false
	}
	if x.k == ir.KindF32 {
		return Value{k: ir.KindF32, n: math.Float64bits(float64(float32(r)))}, true
	}
	return Value{k: ir.KindFloat, n: math.Float64bits(r)}, true
}
