// This file implements expression functions in typed register form.

package ir

import (
	"fmt"

	"github.com/knhk/knhk/lang/source"
)

// Loc is where an IR element came from: File indexes [Program.Files] and
// Span is a byte range in it. A Span with a negative Start is unknown.
type Loc struct {
	File int32
	Span source.Span
}

// NoLoc is the location of synthesised elements.
var NoLoc = Loc{Span: source.Span{Start: source.NoPos, End: source.NoPos}}

// Known reports whether l points at source.
func (l Loc) Known() bool { return l.Span.Start >= 0 }

// Reg is a register of a [Func]: an index into Func.Regs. Registers are
// assigned exactly once (SSA): by a parameter, a block parameter or an
// instruction.
type Reg int32

// NoReg marks an absent register.
const NoReg Reg = -1

// FuncID indexes [Program.Funcs]; NoFunc (-1) marks an absent function.
type FuncID int32

// NoFunc marks an absent function, such as a missing guard.
const NoFunc FuncID = -1

// Param is a named, typed parameter of a function, net or task.
type Param struct {
	Name string
	Type TypeID
}

// Func is a pure function in register form. It is the body of a fn, and of
// every expression a net evaluates: guards, arc conditions, call
// arguments, durations, rewards, queries, and kernel bodies. Parameter i
// is register i. Blocks[0] is the entry block. A Func whose Scope is a net
// index may read that net's case variables with [OpVar].
type Func struct {
	Name   string
	Params []Param
	Result TypeID
	Regs   []TypeID // the type of each register
	Blocks []*Block
	Scope  int32 // index of the net whose variables OpVar reads, or -1
	Loc    Loc
}

// Block is a basic block: parameters (instead of phi nodes), straight-line
// instructions and one terminator. A jump to a block passes one argument
// per block parameter.
type Block struct {
	Params []Reg
	Instrs []Instr
	Term   Term
}

// Op is an instruction's operation.
type Op uint8

// The instructions. Dst is always set; its register type is the result
// type.
const (
	OpInvalid     Op = iota
	OpConst          // Dst = Const
	OpVar            // Dst = case variable Index of the Func's Scope net
	OpBinary         // Dst = Args[0] Sub Args[1]
	OpUnary          // Dst = Sub Args[0]
	OpConvert        // Dst = T(Args[0]) where T is Dst's type; also wraps a value into an optional
	OpField          // Dst = Args[0].Fields[Index]
	OpIndex          // Dst = Args[0][Args[1]] (list, map or kernel array)
	OpMakeList       // Dst = [Args...]
	OpMakeRecord     // Dst = { Args... } in field order
	OpMakeMap        // Dst = [Args[0]: Args[1], Args[2]: Args[3], ...]
	OpCallBuiltin    // Dst = Name(Args[:Index]...); Callee is the lifted lambda or -1, called with Args[Index:] (captured values) first
	OpCallFunc       // Dst = Funcs[Callee](Args...)
	OpCallKernel     // Dst = Kernels[Callee](Args...)
	OpMilestone      // Dst = whether milestone Name is held (bool)
	OpSetField       // Dst = Args[0] with field Index replaced by Args[1]
	OpSetIndex       // Dst = Args[0] with element or key Args[1] set to Args[2]
	numOps
)

var opNames = [...]string{
	OpInvalid: "invalid", OpConst: "const", OpVar: "var", OpBinary: "binary",
	OpUnary: "unary", OpConvert: "convert", OpField: "field", OpIndex: "index",
	OpMakeList: "list", OpMakeRecord: "record", OpMakeMap: "map",
	OpCallBuiltin: "builtin", OpCallFunc: "call", OpCallKernel: "kernel",
	OpMilestone: "milestone", OpSetField: "setfield", OpSetIndex: "setindex",
}

func (o Op) String() string {
	if o < numOps {
		return opNames[o]
	}
	return fmt.Sprintf("op(%d)", o)
}

// BinOp is the operator of an [OpBinary]. And and Or evaluate both
// operands; the lowering uses branches where short-circuiting matters.
type BinOp uint8

// The binary operators.
const (
	BinInvalid BinOp = iota
	BinAdd
	BinSub
	BinMul
	BinDiv
	BinRem
	BinEq
	BinNe
	BinLt
	BinLe
	BinGt
	BinGe
	BinAnd
	BinOr
	BinCoalesce // a ?? b
	numBinOps
)

var binNames = [...]string{"?", "+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "??"}

func (b BinOp) String() string {
	if b < numBinOps {
		return binNames[b]
	}
	return fmt.Sprintf("binop(%d)", b)
}

// IsComparison reports whether b yields a bool from two operands of one
// type.
func (b BinOp) IsComparison() bool { return b >= BinEq && b <= BinGe }

// UnOp is the operator of an [OpUnary].
type UnOp uint8

// The unary operators.
const (
	UnInvalid UnOp = iota
	UnNeg
	UnNot
	numUnOps
)

func (u UnOp) String() string {
	switch u {
	case UnNeg:
		return "-"
	case UnNot:
		return "!"
	}
	return fmt.Sprintf("unop(%d)", u)
}

// ConstKind says which field of a [Const] holds its value.
type ConstKind uint8

// The constant kinds.
const (
	ConstNone   ConstKind = iota // none, of an optional type
	ConstBool                    // Bool
	ConstInt                     // Int: int, i32, u32, duration (ns), time (Unix ns), enum (member index)
	ConstFloat                   // Float: float, f32
	ConstString                  // Str: string, bytes
	numConstKinds
)

// Const is a constant scalar value.
type Const struct {
	Kind  ConstKind
	Bool  bool
	Int   int64
	Float float64
	Str   string
}

// Instr is one instruction. Which fields are used depends on Op (see the
// Op constants); unused fields are zero and are not encoded.
type Instr struct {
	Op     Op
	Sub    uint8 // BinOp or UnOp
	Dst    Reg
	Args   []Reg
	Index  int32  // field index (OpField, OpSetField), variable index (OpVar), operand count (OpCallBuiltin)
	Callee int32  // Funcs or Kernels index (calls); lambda FuncID or -1 (OpCallBuiltin)
	Name   string // builtin name (OpCallBuiltin), milestone name (OpMilestone)
	Const  Const  // OpConst
	Loc    Loc
}

// TermOp is a terminator's operation.
type TermOp uint8

// The terminators. A block whose Term.Op is TermInvalid is unterminated,
// which the verifier rejects.
const (
	TermInvalid TermOp = iota
	TermJump           // go to Succs[0]
	TermBranch         // if Value go to Succs[0] else Succs[1]
	TermReturn         // return Value
	numTermOps
)

func (t TermOp) String() string {
	switch t {
	case TermJump:
		return "jump"
	case TermBranch:
		return "branch"
	case TermReturn:
		return "return"
	}
	return fmt.Sprintf("term(%d)", t)
}

// Succ is a control-flow edge: a target block and the arguments for its
// parameters.
type Succ struct {
	Block int32
	Args  []Reg
}

// Term ends a block.
type Term struct {
	Op    TermOp
	Value Reg // the condition (branch) or result (return)
	Succs []Succ
	Loc   Loc
}
