// This file implements the builtin functions: len, the list builtins that
// take lambdas, keys/values/contains, and the math builtins.

package check

import (
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// builtinArity gives the minimum and maximum argument counts.
var builtinArity = [...][2]int{
	bLen: {1, 1}, bSum: {1, 2}, bMap: {2, 2}, bFilter: {2, 2}, bAny: {2, 2},
	bAll: {2, 2}, bKeys: {1, 1}, bValues: {1, 1}, bContains: {2, 2},
	bMin: {2, 2}, bMax: {2, 2}, bAbs: {1, 1}, bExp: {1, 1}, bSqrt: {1, 1},
	bLog: {1, 1},
}

func (c *checker) builtin(e *syntax.CallExpr, o *Callable, hint Type) Type {
	id := o.builtin
	ar := builtinArity[id]
	if len(e.Args) < ar[0] || len(e.Args) > ar[1] {
		c.args(e.Args)
		c.arity(e, o.name, ar[0], ar[1])
		return TypInvalid
	}
	if c.inKernel() {
		switch id {
		case bMin, bMax, bAbs, bExp, bSqrt, bLog:
		default:
			c.args(e.Args)
			c.errorf(e.Fun.Span(), source.BadKernel, "builtin %s is not allowed in kernels; use exp, sqrt, log, abs, min, max and conversions", o.name)
			return TypInvalid
		}
	}
	args := e.Args
	switch id {
	case bLen:
		t := c.value(args[0], nil)
		if isInvalid(t) {
			return TypInt
		}
		switch Underlying(t).(type) {
		case *List, *Map:
			return TypInt
		}
		if isString(t) || basicKind(t) == Bytes {
			return TypInt
		}
		c.errorf(args[0].Span(), source.BadOperand, "invalid argument: %s (type %s) for len: need a list, map or string", c.exprString(args[0]), t)
		return TypInt
	case bSum, bMap, bFilter, bAny, bAll:
		return c.listBuiltin(e, o, hint)
	case bKeys, bValues:
		t := c.value(args[0], nil)
		if isInvalid(t) {
			return TypInvalid
		}
		m, ok := Underlying(t).(*Map)
		if !ok {
			c.errorf(args[0].Span(), source.BadOperand, "invalid argument: %s (type %s) for %s: need a map", c.exprString(args[0]), t, o.name)
			return TypInvalid
		}
		if id == bKeys {
			return &List{Elem: m.Key}
		}
		return &List{Elem: m.Elem}
	case bContains:
		t := c.value(args[0], nil)
		if isInvalid(t) {
			c.value(args[1], nil)
			return TypBool
		}
		var want Type
		switch u := Underlying(t).(type) {
		case *List:
			want = u.Elem
		case *Map:
			want = u.Key
		default:
			if isString(t) {
				want = TypString
			}
		}
		if want == nil {
			c.value(args[1], nil)
			c.errorf(args[0].Span(), source.BadOperand, "invalid argument: %s (type %s) for contains: need a list, map or string", c.exprString(args[0]), t)
			return TypBool
		}
		x := c.value(args[1], want)
		if !c.assignable(x, want) {
			c.errorf(args[1].Span(), source.TypeMismatch, "cannot use %s (type %s) as %s in argument of contains", c.exprString(args[1]), x, want)
		}
		return TypBool
	case bMin, bMax:
		var x, y Type
		if c.untyped(args[0]) && !c.untyped(args[1]) {
			y = c.value(args[1], hint)
			x = c.value(args[0], y)
		} else {
			x = c.value(args[0], hint)
			y = c.value(args[1], x)
		}
		if isInvalid(x) || isInvalid(y) {
			return TypInvalid
		}
		if !identical(x, y, 0) || !isOrdered(x) || isString(x) {
			c.errorf(e.Span(), source.BadOperand, "invalid arguments for %s: %s and %s (need two numbers, durations or times of the same type)", o.name, x, y)
			return TypInvalid
		}
		return x
	case bAbs:
		x := c.value(args[0], hint)
		if isInvalid(x) {
			return TypInvalid
		}
		if !isNumeric(x) && !isDuration(x) {
			c.errorf(args[0].Span(), source.BadOperand, "invalid argument: %s (type %s) for abs: need a number or duration", c.exprString(args[0]), x)
			return TypInvalid
		}
		return x
	default: // exp, sqrt, log
		h := hint
		if !isFloat(h) {
			h = TypFloat
			if c.inKernel() {
				h = TypF32
			}
		}
		x := c.value(args[0], h)
		if isInvalid(x) {
			return TypInvalid
		}
		if !isFloat(x) {
			c.errorf(args[0].Span(), source.BadOperand, "invalid argument: %s (type %s) for %s: need float or f32; convert with float(x)", c.exprString(args[0]), x, o.name)
			return TypInvalid
		}
		return x
	}
}

// listBuiltin checks sum, map, filter, any and all: a list and a lambda
// over its elements.
func (c *checker) listBuiltin(e *syntax.CallExpr, o *Callable, hint Type) Type {
	id := o.builtin
	args := e.Args
	lt := c.value(args[0], nil)
	var elem Type = TypInvalid
	if !isInvalid(lt) {
		if l, ok := Underlying(lt).(*List); ok {
			elem = l.Elem
		} else {
			c.errorf(args[0].Span(), source.BadOperand, "invalid argument: %s (type %s) for %s: need a list", c.exprString(args[0]), lt, o.name)
			lt = TypInvalid
		}
	}
	if len(args) == 1 { // sum(list)
		if isInvalid(elem) {
			return TypInvalid
		}
		if !isNumeric(elem) && !isDuration(elem) {
			c.errorf(args[0].Span(), source.BadOperand, "invalid argument: sum of %s needs numbers; pass a lambda: sum(xs, x => x.price)", lt)
			return TypInvalid
		}
		return elem
	}
	var bodyHint Type
	switch id {
	case bSum:
		bodyHint = hint
	case bMap:
		if l, ok := Underlying(hint).(*List); ok {
			bodyHint = l.Elem
		}
	default:
		bodyHint = TypBool
	}
	bt := c.lambda(args[1], o.name, elem, bodyHint)
	if isInvalid(bt) || isInvalid(lt) {
		switch id {
		case bAny, bAll:
			return TypBool
		}
		return TypInvalid
	}
	switch id {
	case bSum:
		if !isNumeric(bt) && !isDuration(bt) {
			c.errorf(args[1].Span(), source.BadOperand, "sum needs a lambda that returns a number, found %s", bt)
			return TypInvalid
		}
		return bt
	case bMap:
		if bt == TypNone {
			c.errorf(args[1].Span(), source.CannotInfer, "cannot infer the element type of map from none")
			return TypInvalid
		}
		return &List{Elem: bt}
	case bFilter:
		if !isBool(bt) {
			c.errorf(args[1].Span(), source.BadCondition, "filter needs a lambda that returns bool, found %s", bt)
		}
		return lt
	default:
		if !isBool(bt) {
			c.errorf(args[1].Span(), source.BadCondition, "%s needs a lambda that returns bool, found %s", o.name, bt)
		}
		return TypBool
	}
}

// lambda checks x => body with x of type param and returns the body's
// type.
func (c *checker) lambda(e syntax.Expr, builtin string, param, hint Type) Type {
	lam, ok := e.(*syntax.LambdaExpr)
	if !ok {
		t := c.expr(e, nil)
		if !isInvalid(t) {
			c.errorf(e.Span(), source.BadOperand, "%s needs a lambda as its second argument, such as x => x.price", builtin)
		}
		return TypInvalid
	}
	if !wellFormed(lam) {
		return TypInvalid
	}
	if len(lam.Params) != 1 {
		c.errorf(lam.Span(), source.WrongArgCount, "the lambda of %s takes 1 parameter, not %d", builtin, len(lam.Params))
		param = TypInvalid
	}
	saved := c.scope
	c.openScope(lam)
	for _, p := range lam.Params {
		if p == nil {
			continue
		}
		v := &Var{object: object{name: p.Name, kind: ObjVar, typ: param, file: c.file, span: p.Span(), decl: lam}}
		c.info.Uses[p] = v
		c.info.Types[p] = param
		if p.Name != "_" {
			if prev := c.scope.Insert(v); prev != nil {
				d := c.errorf(p.Span(), source.DuplicateDecl, "duplicate lambda parameter %s", p.Name)
				c.related(d, prev, "other declaration of "+p.Name)
			}
		}
	}
	t := c.value(lam.Body, hint)
	c.info.Types[lam] = t
	c.scope = saved
	return t
}
