// This file implements the run-time support of functions compiled to Go
// by codegen/golang: the same operators, builtins, step and depth limits
// and errors as the register machine, called instruction by instruction
// from generated code instead of dispatched from the IR.

package eval

import (
	"fmt"

	"github.com/knhk/knhk/compiler/ir"
)

// Native is the state of one top-level call of compiled functions: the
// program, the case the function reads, and the work and nesting spent
// so far. Generated code creates none itself; runtime/host passes one
// per evaluation. It is not safe for concurrent use.
type Native struct {
	Prog *ir.Program
	Env  Env
	// MaxSteps bounds the work of the call as [Machine.MaxSteps] does;
	// zero means [DefaultMaxSteps].
	MaxSteps int64
	// Kernels, when set, is offered every kernel call first, as
	// [Machine.Kernels] is (see [Native.Kernel]).
	Kernels KernelRunner

	steps int64
	depth int
}

// Enter starts a call of a compiled function: the nesting bound of the
// register machine, with its message.
func (n *Native) Enter(name string, loc ir.Loc) error {
	if n.depth >= maxDepth {
		return tooDeep(name, loc)
	}
	n.depth++
	return nil
}

// Check is Enter for a function that calls no other: the same nesting
// bound and message, without entering a level that nothing would read
// (and so without a Leave).
func (n *Native) Check(name string, loc ir.Loc) error {
	if n.depth >= maxDepth {
		return tooDeep(name, loc)
	}
	return nil
}

// tooDeep is the error of a call nested past the bound. It is kept out
// of line, as StepFail is, so that the checks compiled code inlines on
// every call stay a compare and a branch: a guard's whole body is a few
// nanoseconds, and the cold paths' allocations made it larger and slower.
//
//go:noinline
func tooDeep(name string, loc ir.Loc) error {
	return &Error{Loc: loc, Func: name, Msg: "calls nested more than 2000 deep"}
}

// Leave ends a call Enter started.
func (n *Native) Leave() { n.depth-- }

// Over charges the k instructions of a segment about to run (see
// codegen/golang) and reports whether that runs out of steps; StepFail
// then says where.
func (n *Native) Over(k int64) bool {
	n.steps += k
	return n.steps > n.limit()
}

// StepFail is the error of a segment whose charge ran out of steps: at
// the instruction of locs (the segment's, in order) where the register
// machine, charging one instruction at a time, would have stopped.
//
//go:noinline
func (n *Native) StepFail(name string, locs []ir.Loc) error {
	before := n.steps - int64(len(locs))
	j := n.limit() - before // the instruction that makes the count exceed the limit
	if j < 0 {
		j = 0 // a charge after the previous segment already exceeded it
	}
	if j >= int64(len(locs)) {
		j = int64(len(locs)) - 1
	}
	return &Error{Loc: locs[j], Func: name, Msg: "step limit exceeded"}
}

func (n *Native) limit() int64 {
	if n.MaxSteps > 0 {
		return n.MaxSteps
	}
	return DefaultMaxSteps
}

// Charge adds the work of building v, as the register machine does after
// operators and builtins that may build aggregates.
func (n *Native) Charge(v Value) { n.steps += size(v) }

// At gives a failure raised by an operation the location of the
// instruction that ran it; errors that already carry one (a failing
// callee) pass unchanged.
func At(err error, name string, loc ir.Loc) error {
	if f, ok := err.(failure); ok {
		return &Error{Loc: loc, Func: name, Msg: string(f)}
	}
	return err
}

// Binary is the operator op on x and y.
func Binary(op ir.BinOp, x, y Value) (Value, error) { return binary(op, x, y) }

// Unary is the operator op on x.
func Unary(op ir.UnOp, x Value) (Value, error) { return unary(op, x) }

// Convert converts x to type t of n's program.
func (n *Native) Convert(x Value, t ir.TypeID) (Value, error) { return convert(n.Prog, x, t) }

// Const is constant c as a value of type t of n's program.
func (n *Native) Const(t ir.TypeID, c ir.Const) Value { return constValue(n.Prog, t, c) }

// Field is field i of record x.
func Field(x Value, i int) (Value, error) {
	if x.k != ir.KindRecord {
		return Value{}, failf("field of %s, not of a record", kindName(x))
	}
	return x.ref.elems[i], nil
}

// SetField is record x with field i replaced by v.
func SetField(x Value, i int, v Value) (Value, error) {
	if x.k != ir.KindRecord {
		return Value{}, failf("field of %s, not of a record", kindName(x))
	}
	fs := append([]Value(nil), x.ref.elems...)
	fs[i] = v
	return Record(x.ref.rec, fs), nil
}

// At is x[i] on a list or a map.
func (x Value) At(i Value) (Value, error) { return index(x, i) }

// SetIndex is x with element or key i set to v.
func SetIndex(x, i, v Value) (Value, error) { return setIndex(x, i, v) }

// MakeRecord is a record of type t of n's program.
func (n *Native) MakeRecord(t ir.TypeID, fields ...Value) Value {
	return Record(n.Prog.Type(t), fields)
}

// MakeMap is a map of alternating keys and values.
func MakeMap(kvs ...Value) Value {
	ks := make([]Value, len(kvs)/2)
	vs := make([]Value, len(kvs)/2)
	for i := range ks {
		ks[i], vs[i] = kvs[2*i], kvs[2*i+1]
	}
	return Map(ks, vs)
}

// Var reads case variable i of the scope net of the function name.
func (n *Native) Var(name string, fn *ir.Func, i int) (Value, error) {
	return readVar(n.Prog, fn, n.Env, int32(i))
}

// Milestone reports whether the case holds milestone name.
func (n *Native) Milestone(name string) (Value, error) {
	return readMilestone(n.Env, name)
}

// Builtin runs one of the builtins without a lambda (len, keys, values,
// contains, min, max, abs, exp, sqrt, log) on ops.
func (n *Native) Builtin(name string, ops ...Value) (Value, error) {
	if len(ops) == 0 {
		return Value{}, failf("%s without operands", name)
	}
	if isListBuiltin(name) && len(ops) == 1 {
		return n.ListBuiltin(name, ops[0], ir.Void, nil)
	}
	return plainBuiltin(name, ops)
}

// ListBuiltin runs sum, map, filter, any or all over xs, calling f on
// each element (f is nil for a sum without a lambda). result is the
// type of the instruction's result.
func (n *Native) ListBuiltin(name string, xs Value, result ir.TypeID, f func(Value) (Value, error)) (Value, error) {
	if xs.k != ir.KindList {
		return Value{}, failf("%s of %s, not of a list", name, kindName(xs))
	}
	if f == nil && name != "sum" {
		return Value{}, failf("%s without a lambda", name)
	}
	if f == nil {
		if v, ok, err := deviceSum(n.Kernels, xs, n.Prog.KindOf(result)); ok {
			return v, err
		}
	}
	apply := func(x Value) (Value, error) {
		if f == nil {
			return x, nil
		}
		return f(x)
	}
	return foldList(name, xs.Elems(), n.Prog.KindOf(result), apply)
}

// Arity is the register machine's error for a call of name with got
// arguments where it takes want.
func (n *Native) Arity(name string, loc ir.Loc, want, got int) error {
	return &Error{Loc: loc, Func: name, Msg: fmt.Sprintf("%s takes %d arguments, not %d", name, want, got)}
}

// IntOp is the checked arithmetic of ints (+, -, *, /, %) on Go
// integers, for compiled code that keeps ints in typed registers; it
// fails as [Binary] does.
func IntOp(op ir.BinOp, a, b int64) (int64, error) {
	switch op {
	case ir.BinAdd:
		return addInt(a, b)
	case ir.BinSub:
		return subInt(a, b)
	case ir.BinMul:
		return mulInt(a, b)
	case ir.BinDiv:
		return divInt(a, b)
	case ir.BinRem:
		return remInt(a, b)
	}
	return 0, failf("bad operator %s", op)
}
