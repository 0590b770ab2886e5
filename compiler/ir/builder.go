// This file implements builders that construct programs concisely, for the
// lowering and for tests.

package ir

import "slices"

// NewProgram returns an empty program for package pkg.
func NewProgram(pkg string) *Program { return &Program{Package: pkg} }

// intern returns the id of a composite type equal to t, adding t when it is
// new. Enums are nominal and always added.
func (p *Program) intern(t Type) TypeID {
	if t.Kind != KindEnum {
		for i := range p.Types {
			if typeEqual(&p.Types[i], &t) {
				return FirstComposite + TypeID(i)
			}
		}
	}
	p.Types = append(p.Types, t)
	return FirstComposite + TypeID(len(p.Types)-1)
}

func typeEqual(a, b *Type) bool {
	return a.Kind == b.Kind && a.Name == b.Name && a.Elem == b.Elem && a.Key == b.Key &&
		slices.Equal(a.Fields, b.Fields) && slices.Equal(a.Members, b.Members)
}

// ListOf returns the type [elem].
func (p *Program) ListOf(elem TypeID) TypeID { return p.intern(Type{Kind: KindList, Elem: elem}) }

// MapOf returns the type [key: elem].
func (p *Program) MapOf(key, elem TypeID) TypeID {
	return p.intern(Type{Kind: KindMap, Key: key, Elem: elem})
}

// OptionalOf returns the type elem?.
func (p *Program) OptionalOf(elem TypeID) TypeID {
	return p.intern(Type{Kind: KindOptional, Elem: elem})
}

// RecordOf returns the record type with these fields, named name ("" for
// an anonymous record).
func (p *Program) RecordOf(name string, fields ...Field) TypeID {
	return p.intern(Type{Kind: KindRecord, Name: name, Fields: fields})
}

// EnumOf adds a new enum type.
func (p *Program) EnumOf(name string, members ...string) TypeID {
	return p.intern(Type{Kind: KindEnum, Name: name, Members: members})
}

// DeclareType reserves a composite type entry to be filled in later with
// SetType, for recursive types.
func (p *Program) DeclareType() TypeID {
	p.Types = append(p.Types, Type{Kind: KindRecord})
	return FirstComposite + TypeID(len(p.Types)-1)
}

// SetType fills in a type reserved with DeclareType.
func (p *Program) SetType(id TypeID, t Type) { *p.Type(id) = t }

// FuncBuilder appends blocks and instructions to a [Func].
type FuncBuilder struct {
	F   *Func
	cur int
	loc Loc
}

// NewFunc starts a function; its entry block is current.
func NewFunc(name string, result TypeID, params ...Param) *FuncBuilder {
	f := &Func{Name: name, Params: params, Result: result, Scope: -1, Loc: NoLoc}
	for _, pa := range params {
		f.Regs = append(f.Regs, pa.Type)
	}
	f.Blocks = []*Block{{}}
	return &FuncBuilder{F: f, loc: NoLoc}
}

// At sets the location of the instructions added next.
func (b *FuncBuilder) At(l Loc) *FuncBuilder { b.loc = l; return b }

// Param returns the register of parameter i.
func (b *FuncBuilder) Param(i int) Reg { return Reg(i) }

// NewReg adds a register of type t.
func (b *FuncBuilder) NewReg(t TypeID) Reg {
	b.F.Regs = append(b.F.Regs, t)
	return Reg(len(b.F.Regs) - 1)
}

func (b *FuncBuilder) emit(in Instr, t TypeID) Reg {
	in.Dst = b.NewReg(t)
	in.Loc = b.loc
	blk := b.F.Blocks[b.cur]
	blk.Instrs = append(blk.Instrs, in)
	return in.Dst
}

// Const adds a constant of type t.
func (b *FuncBuilder) Const(t TypeID, c Const) Reg { return b.emit(Instr{Op: OpConst, Const: c}, t) }

// Int adds an int constant.
func (b *FuncBuilder) Int(v int64) Reg { return b.Const(Int, Const{Kind: ConstInt, Int: v}) }

// Bool adds a bool constant.
func (b *FuncBuilder) Bool(v bool) Reg { return b.Const(Bool, Const{Kind: ConstBool, Bool: v}) }

// Float adds a float constant.
func (b *FuncBuilder) Float(v float64) Reg { return b.Const(Float, Const{Kind: ConstFloat, Float: v}) }

// Str adds a string constant.
func (b *FuncBuilder) Str(v string) Reg { return b.Const(String, Const{Kind: ConstString, Str: v}) }

// Var reads case variable i of the function's scope net, of type t.
func (b *FuncBuilder) Var(i int, t TypeID) Reg {
	return b.emit(Instr{Op: OpVar, Index: int32(i)}, t)
}

// Binary adds x op y of result type t.
func (b *FuncBuilder) Binary(op BinOp, t TypeID, x, y Reg) Reg {
	return b.emit(Instr{Op: OpBinary, Sub: uint8(op), Args: []Reg{x, y}}, t)
}

// Unary adds op x of result type t.
func (b *FuncBuilder) Unary(op UnOp, t TypeID, x Reg) Reg {
	return b.emit(Instr{Op: OpUnary, Sub: uint8(op), Args: []Reg{x}}, t)
}

// Convert adds t(x).
func (b *FuncBuilder) Convert(t TypeID, x Reg) Reg {
	return b.emit(Instr{Op: OpConvert, Args: []Reg{x}}, t)
}

// Field adds x.Fields[i] of type t.
func (b *FuncBuilder) Field(t TypeID, x Reg, i int) Reg {
	return b.emit(Instr{Op: OpField, Args: []Reg{x}, Index: int32(i)}, t)
}

// Index adds x[i] of type t.
func (b *FuncBuilder) Index(t TypeID, x, i Reg) Reg {
	return b.emit(Instr{Op: OpIndex, Args: []Reg{x, i}}, t)
}

// MakeList adds a list literal of type t.
func (b *FuncBuilder) MakeList(t TypeID, elems ...Reg) Reg {
	return b.emit(Instr{Op: OpMakeList, Args: elems}, t)
}

// MakeRecord adds a record literal of type t, fields in order.
func (b *FuncBuilder) MakeRecord(t TypeID, fields ...Reg) Reg {
	return b.emit(Instr{Op: OpMakeRecord, Args: fields}, t)
}

// MakeMap adds a map literal of type t from key, value pairs.
func (b *FuncBuilder) MakeMap(t TypeID, kvs ...Reg) Reg {
	return b.emit(Instr{Op: OpMakeMap, Args: kvs}, t)
}

// Builtin adds a call of builtin name; lambda is the lifted lambda
// argument or NoFunc.
func (b *FuncBuilder) Builtin(t TypeID, name string, lambda FuncID, args ...Reg) Reg {
	return b.emit(Instr{Op: OpCallBuiltin, Name: name, Callee: int32(lambda), Args: args, Index: int32(len(args))}, t)
}

// BuiltinCapture adds a call of builtin name with a lambda that captures
// the values in captures: the lambda receives them before its own
// parameters.
func (b *FuncBuilder) BuiltinCapture(t TypeID, name string, lambda FuncID, args, captures []Reg) Reg {
	all := append(append([]Reg(nil), args...), captures...)
	return b.emit(Instr{Op: OpCallBuiltin, Name: name, Callee: int32(lambda), Args: all, Index: int32(len(args))}, t)
}

// SetField adds x with field i replaced by v.
func (b *FuncBuilder) SetField(x Reg, i int, v Reg) Reg {
	return b.emit(Instr{Op: OpSetField, Args: []Reg{x, v}, Index: int32(i)}, b.F.Regs[x])
}

// SetIndex adds x with element or key k set to v.
func (b *FuncBuilder) SetIndex(x, k, v Reg) Reg {
	return b.emit(Instr{Op: OpSetIndex, Args: []Reg{x, k, v}}, b.F.Regs[x])
}

// Call adds a call of Funcs[f].
func (b *FuncBuilder) Call(t TypeID, f FuncID, args ...Reg) Reg {
	return b.emit(Instr{Op: OpCallFunc, Callee: int32(f), Args: args}, t)
}

// CallKernel adds a call of Kernels[k].
func (b *FuncBuilder) CallKernel(t TypeID, k int, args ...Reg) Reg {
	return b.emit(Instr{Op: OpCallKernel, Callee: int32(k), Args: args}, t)
}

// Milestone adds a test of milestone name.
func (b *FuncBuilder) Milestone(name string) Reg {
	return b.emit(Instr{Op: OpMilestone, Name: name}, Bool)
}

// NewBlock adds a block with parameters of the given types and returns its
// index and parameter registers. It does not change the current block.
func (b *FuncBuilder) NewBlock(params ...TypeID) (int, []Reg) {
	blk := &Block{}
	for _, t := range params {
		blk.Params = append(blk.Params, b.NewReg(t))
	}
	b.F.Blocks = append(b.F.Blocks, blk)
	return len(b.F.Blocks) - 1, blk.Params
}

// SetBlock makes block i current.
func (b *FuncBuilder) SetBlock(i int) { b.cur = i }

// Jump ends the current block with a jump to block to.
func (b *FuncBuilder) Jump(to int, args ...Reg) {
	b.F.Blocks[b.cur].Term = Term{Op: TermJump, Value: NoReg, Succs: []Succ{{Block: int32(to), Args: args}}, Loc: b.loc}
}

// Branch ends the current block with a branch on cond.
func (b *FuncBuilder) Branch(cond Reg, then, els int) {
	b.F.Blocks[b.cur].Term = Term{Op: TermBranch, Value: cond, Succs: []Succ{{Block: int32(then)}, {Block: int32(els)}}, Loc: b.loc}
}

// Return ends the current block by returning v.
func (b *FuncBuilder) Return(v Reg) {
	b.F.Blocks[b.cur].Term = Term{Op: TermReturn, Value: v, Loc: b.loc}
}

// AddFunc appends f to p and returns its id.
func (p *Program) AddFunc(f *Func) FuncID {
	p.Funcs = append(p.Funcs, f)
	return FuncID(len(p.Funcs) - 1)
}

// NetBuilder appends places, transitions and arcs to a [Net].
type NetBuilder struct {
	N     *Net
	Index int32 // the net's index in the program
	p     *Program
}

// NewNet adds a net with its parameters as the first variables and with
// places "start" (0) and "end" (1).
func (p *Program) NewNet(name string, result TypeID, params ...Param) *NetBuilder {
	n := &Net{Name: name, Params: params, Result: result, Loc: NoLoc}
	for _, pa := range params {
		n.Vars = append(n.Vars, Var{Name: pa.Name, Type: pa.Type, Loc: NoLoc})
	}
	p.Nets = append(p.Nets, n)
	b := &NetBuilder{N: n, Index: int32(len(p.Nets) - 1), p: p}
	n.Start = b.Place("start")
	n.End = b.Place("end")
	return b
}

// Place adds a place.
func (b *NetBuilder) Place(name string) int32 {
	b.N.Places = append(b.N.Places, &Place{Name: name, Loc: NoLoc})
	return int32(len(b.N.Places) - 1)
}

// Var adds a case variable.
func (b *NetBuilder) Var(name string, t TypeID) int32 {
	b.N.Vars = append(b.N.Vars, Var{Name: name, Type: t, Loc: NoLoc})
	return int32(len(b.N.Vars) - 1)
}

// NewTransition returns a transition with every optional field absent.
func NewTransition(name string, kind TransKind) *Transition {
	return &Transition{Name: name, Kind: kind, Region: -1, Task: -1, Result: -1,
		Value: NoFunc, Limit: NoFunc, Quorum: NoFunc, Loc: NoLoc}
}

// Trans adds a transition of the given kind and returns its index.
func (b *NetBuilder) Trans(name string, kind TransKind) int32 {
	return b.Add(NewTransition(name, kind))
}

// Add adds a transition built by the caller.
func (b *NetBuilder) Add(t *Transition) int32 {
	b.N.Transitions = append(b.N.Transitions, t)
	return int32(len(b.N.Transitions) - 1)
}

// T returns transition i for setting its fields.
func (b *NetBuilder) T(i int32) *Transition { return b.N.Transitions[i] }

// In adds an input arc from place to trans.
func (b *NetBuilder) In(place, trans int32) {
	b.N.Arcs = append(b.N.Arcs, &Arc{Place: place, Trans: trans, Weight: 1, Guard: NoFunc, Loc: NoLoc})
}

// Out adds an output arc from trans to place.
func (b *NetBuilder) Out(trans, place int32) { b.OutIf(trans, place, NoFunc) }

// OutIf adds an output arc from trans to place taken when guard holds.
func (b *NetBuilder) OutIf(trans, place int32, guard FuncID) {
	b.N.Arcs = append(b.N.Arcs, &Arc{Place: place, Trans: trans, Out: true, Weight: 1, Guard: guard, Loc: NoLoc})
}

// Step adds a transition of kind from place in to place out.
func (b *NetBuilder) Step(name string, kind TransKind, in, out int32) int32 {
	t := b.Trans(name, kind)
	b.In(in, t)
	b.Out(t, out)
	return t
}

// Seq adds a sequence of routing transitions named names from place from,
// with fresh places between them, ending in place to.
func (b *NetBuilder) Seq(from, to int32, names ...string) {
	cur := from
	for i, name := range names {
		next := to
		if i < len(names)-1 {
			next = b.Place("p_" + name)
		}
		b.Step(name, TNop, cur, next)
		cur = next
	}
}

// Region adds a cancellation region.
func (b *NetBuilder) Region(name string, places, transitions []int32) int32 {
	b.N.Regions = append(b.N.Regions, &Region{Name: name, Places: places, Transitions: transitions, Loc: NoLoc})
	return int32(len(b.N.Regions) - 1)
}

// Func starts an expression function scoped to this net, so that it may
// read the case variables; add it with Program.AddFunc when done.
func (b *NetBuilder) Func(name string, result TypeID) *FuncBuilder {
	fb := NewFunc(name, result)
	fb.F.Scope = b.Index
	return fb
}

// Program returns the program the net belongs to.
func (b *NetBuilder) Program() *Program { return b.p }
