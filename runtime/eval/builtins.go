// This file implements the builtins: len, the list builtins that take a
// lambda (sum, map, filter, any, all), keys, values, contains and the
// math builtins (min, max, abs, exp, sqrt, log).

package eval

import (
	"math"
	"strings"

	"github.com/knhk/knhk/compiler/ir"
)

// builtin runs an OpCallBuiltin: the operands are Args[:Index]; a lambda
// (Callee) is called with the captured values Args[Index:] followed by
// the element.
func (m *Machine) builtin(fn *ir.Func, in *ir.Instr, env Env, regs []Value) (Value, error) {
	nops := int(in.Index)
	if nops < 0 || nops > len(in.Args) {
		return Value{}, failf("bad builtin operand count %d", nops)
	}
	ops := in.Args[:nops]
	if isListBuiltin(in.Name) && len(ops) == 1 {
		xs := regs[ops[0]]
		if xs.k != ir.KindList {
			return Value{}, failf("%s of %s, not of a list", in.Name, kindName(xs))
		}
		return m.listBuiltin(in, env, regs, xs, fn.Regs[in.Dst])
	}
	var buf [2]Value
	vals := buf[:0]
	for _, r := range ops {
		vals = append(vals, regs[r])
	}
	return plainBuiltin(in.Name, vals)
}

// isListBuiltin reports whether name is a builtin over a list that may
// take a lambda.
func isListBuiltin(name string) bool {
	switch name {
	case "sum", "map", "filter", "any", "all":
		return true
	}
	return false
}

// plainBuiltin runs the builtins without a lambda on the operand values
// ops; a list builtin reaches it only with the wrong operand count.
func plainBuiltin(name string, ops []Value) (Value, error) {
	arg := func(i int) Value { return ops[i] }
	want := func(n int) error {
		if len(ops) != n {
			return failf("%s takes %d operands, not %d", name, n, len(ops))
		}
		return nil
	}
	switch name {
	case "len":
		if err := want(1); err != nil {
			return Value{}, err
		}
		x := arg(0)
		switch x.k {
		case ir.KindList, ir.KindMap, ir.KindString, ir.KindBytes:
			return Int(int64(x.Len())), nil
		}
		return Value{}, failf("len of %s", kindName(x))
	case "keys", "values":
		if err := want(1); err != nil {
			return Value{}, err
		}
		x := arg(0)
		if x.k != ir.KindMap {
			return Value{}, failf("%s of %s, not of a map", name, kindName(x))
		}
		src := x.Elems()
		if name == "keys" && x.ref != nil {
			src = x.ref.keys
		}
		return List(append([]Value(nil), src...)), nil
	case "contains":
		if err := want(2); err != nil {
			return Value{}, err
		}
		x, y := arg(0), arg(1)
		switch x.k {
		case ir.KindList:
			for _, e := range x.Elems() {
				if Equal(e, y) {
					return Bool(true), nil
				}
			}
			return Bool(false), nil
		case ir.KindMap:
			_, ok := x.Lookup(y)
			return Bool(ok), nil
		case ir.KindString:
			return Bool(strings.Contains(x.s, y.s)), nil
		}
		return Value{}, failf("contains on %s", kindName(x))
	case "min", "max":
		if err := want(2); err != nil {
			return Value{}, err
		}
		return minMax(name == "min", arg(0), arg(1))
	case "abs":
		if err := want(1); err != nil {
			return Value{}, err
		}
		return abs(arg(0))
	case "exp", "sqrt", "log":
		if err := want(1); err != nil {
			return Value{}, err
		}
		return mathFn(name, arg(0))
	case "sum", "map", "filter", "any", "all":
		return Value{}, failf("%s takes a list and a lambda", name)
	}
	return Value{}, failf("unknown builtin %s", name)
}

// listBuiltin runs sum, map, filter, any and all over xs.
func (m *Machine) listBuiltin(in *ir.Instr, env Env, regs []Value, xs Value, result ir.TypeID) (Value, error) {
	var lam *ir.Func
	args := make([]Value, 0, len(in.Args)-int(in.Index)+1)
	if in.Callee >= 0 {
		f, err := m.fn(ir.FuncID(in.Callee))
		if err != nil {
			return Value{}, failure(err.Error())
		}
		lam = f
		for _, r := range in.Args[in.Index:] {
			args = append(args, regs[r])
		}
		args = append(args, Value{})
	} else if in.Name != "sum" {
		return Value{}, failf("%s without a lambda", in.Name)
	} else if v, ok, err := deviceSum(m.Kernels, xs, m.prog.KindOf(result)); ok {
		return v, err
	}
	apply := func(x Value) (Value, error) {
		if lam == nil {
			return x, nil
		}
		args[len(args)-1] = x
		return m.call(lam, env, args)
	}
	return foldList(in.Name, xs.Elems(), m.prog.KindOf(result), apply)
}

// zero is the zero of a numeric or duration kind, the sum of no elements.
func zero(k ir.Kind) Value {
	switch k {
	case ir.KindFloat:
		return Float(0)
	case ir.KindF32:
		return F32(0)
	case ir.KindI32, ir.KindU32, ir.KindDuration:
		return Value{k: k}
	}
	return Int(0)
}

func minMax(isMin bool, x, y Value) (Value, error) {
	if x.k != y.k {
		return Value{}, failf("min or max of %s and %s", kindName(x), kindName(y))
	}
	switch x.k {
	case ir.KindFloat, ir.KindF32:
		f := math.Max
		if isMin {
			f = math.Min
		}
		r := f(x.AsFloat(), y.AsFloat())
		return Value{k: x.k, n: math.Float64bits(r)}, nil
	case ir.KindInt, ir.KindI32, ir.KindU32, ir.KindDuration, ir.KindTime:
		c := Compare(x, y)
		if (c <= 0) == isMin {
			return x, nil
		}
		return y, nil
	}
	return Value{}, failf("min or max of %s", kindName(x))
}

func abs(x Value) (Value, error) {
	switch x.k {
	case ir.KindInt, ir.KindDuration:
		if x.AsInt() < 0 {
			return unary(ir.UnNeg, x)
		}
		return x, nil
	case ir.KindI32:
		if x.AsInt() < 0 {
			return unary(ir.UnNeg, x)
		}
		return x, nil
	case ir.KindU32:
		return x, nil
	case ir.KindFloat, ir.KindF32:
		return Value{k: x.k, n: math.Float64bits(math.Abs(x.AsFloat()))}, nil
	}
	return Value{}, failf("abs of %s", kindName(x))
}

func mathFn(name string, x Value) (Value, error) {
	if x.k != ir.KindFloat && x.k != ir.KindF32 {
		return Value{}, failf("%s of %s", name, kindName(x))
	}
	var r float64
	switch name {
	case "exp":
		r = math.Exp(x.AsFloat())
	case "sqrt":
		r = math.Sqrt(x.AsFloat())
	default:
		r = math.Log(x.AsFloat())
	}
	if x.k == ir.KindF32 {
		return f32(r), nil
	}
	return Float(r), nil
}
