// This file implements the checking of expressions.

package check

import (
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// exprString returns the source text of e for messages, shortened.
func (c *checker) exprString(e source.Spanned) string {
	sp := e.Span()
	src := c.file.Content
	if sp.Start < 0 || sp.End > source.Pos(len(src)) || sp.Start >= sp.End {
		return "expression"
	}
	s := string(src[sp.Start:sp.End])
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return s[:i] + "..."
		}
	}
	return s
}

// value checks e, which must produce a value (not the void result of a
// task without result), and returns its type. hint is the type the
// context expects, or nil; it types untyped literals and empty
// collections, but e's own type is returned and the caller checks
// assignability.
func (c *checker) value(e syntax.Expr, hint Type) Type {
	t := c.expr(e, hint)
	if t == TypVoid {
		c.errorf(e.Span(), source.TypeMismatch, "%s has no result and is used as a value", c.exprString(e))
		return TypInvalid
	}
	return t
}

// expr checks e and records its type.
func (c *checker) expr(e syntax.Expr, hint Type) Type {
	if e == nil {
		return TypInvalid
	}
	t := c.expr0(e, hint)
	c.info.Types[e] = t
	return t
}

func (c *checker) expr0(e syntax.Expr, hint Type) Type {
	switch e := e.(type) {
	case *syntax.Ident:
		return c.ident(e)
	case *syntax.BasicLit:
		return c.basicLit(e, hint)
	case *syntax.BinaryExpr:
		if e.X == nil || e.Y == nil {
			return TypInvalid
		}
		return c.binary(e, hint)
	case *syntax.CallExpr:
		if e.Fun == nil {
			return TypInvalid
		}
		return c.call(e, hint, false)
	case *syntax.SelectorExpr:
		if e.X == nil || e.Sel == nil {
			return TypInvalid
		}
		return c.selector(e)
	case *syntax.ParenExpr:
		if e.X == nil {
			return TypInvalid
		}
		return c.expr(e.X, hint)
	case *syntax.UnaryExpr:
		if e.X == nil {
			return TypInvalid
		}
		return c.unary(e, hint)
	case *syntax.IndexExpr:
		if e.X == nil || e.Index == nil {
			return TypInvalid
		}
		return c.index(e)
	case *syntax.ListLit:
		return c.listLit(e, hint)
	case *syntax.MapLit:
		return c.mapLit(e, hint)
	case *syntax.RecordLit:
		return c.recordLit(e, hint)
	case *syntax.LambdaExpr:
		if !wellFormed(e) {
			return TypInvalid
		}
		c.errorf(e.Span(), source.NotAValue, "a lambda is only allowed as an argument of sum, map, filter, any or all")
		return TypInvalid
	case *syntax.MilestoneExpr:
		return c.milestoneExpr(e)
	}
	return TypInvalid
}

// wellFormed reports whether e has every child its Span needs. The parser
// produces BadExpr for what it cannot parse, but trees built or repaired by
// other tools may have holes; the checker treats those as invalid, silently.
func wellFormed(e syntax.Expr) bool {
	switch e := e.(type) {
	case nil:
		return false
	case *syntax.Ident, *syntax.BasicLit, *syntax.ListLit, *syntax.MapLit, *syntax.RecordLit, *syntax.BadExpr:
		return e != nil
	case *syntax.UnaryExpr:
		return e != nil && wellFormed(e.X)
	case *syntax.BinaryExpr:
		return e != nil && wellFormed(e.X) && wellFormed(e.Y)
	case *syntax.SelectorExpr:
		return e != nil && e.Sel != nil && wellFormed(e.X)
	case *syntax.IndexExpr:
		return e != nil && wellFormed(e.X)
	case *syntax.CallExpr:
		return e != nil && wellFormed(e.Fun)
	case *syntax.ParenExpr:
		return e != nil
	case *syntax.LambdaExpr:
		return e != nil && (len(e.Params) > 0 && e.Params[0] != nil || e.Lparen.IsValid()) && wellFormed(e.Body)
	case *syntax.MilestoneExpr:
		return e != nil && e.Name != nil
	}
	return false
}

// lookup finds name from the current scope outwards.
func (c *checker) lookup(name string) Object { return c.scope.LookupParent(name) }

// undefined reports an undefined name with a suggestion.
func (c *checker) undefined(id *syntax.Ident) {
	d := c.errorf(id.Span(), source.UndefinedName, "undefined: %s", id.Name)
	c.suggestFix(d, id.Span(), id.Name, c.visibleNames(valuesOnly))
}

func (c *checker) ident(e *syntax.Ident) Type {
	obj := c.lookup(e.Name)
	if obj == nil {
		c.undefined(e)
		return TypInvalid
	}
	c.info.Uses[e] = obj
	return c.objValue(obj, e)
}

// objValue returns the type of obj used as a value at e.
func (c *checker) objValue(obj Object, e source.Spanned) Type {
	switch o := obj.(type) {
	case *Var:
		o.used = true
		return o.typ
	case *Label:
		if o.kind == ObjStep || o.kind == ObjEnumMember {
			return o.typ
		}
		c.errorf(e.Span(), source.NotAValue, "%s %s is not a value", o.kind, o.name)
	case *PkgName:
		o.used = true
		c.errorf(e.Span(), source.NotAValue, "use of package %s without selector", o.name)
	case *TypeName:
		c.errorf(e.Span(), source.NotAValue, "type %s is not an expression", o.name)
	case *Callable:
		c.errorf(e.Span(), source.NotAValue, "%s %s is not a value; call it", o.kind, o.name)
	}
	return TypInvalid
}

func (c *checker) unary(e *syntax.UnaryExpr, hint Type) Type {
	switch e.Op {
	case "!":
		t := c.value(e.X, TypBool)
		if isInvalid(t) {
			return TypInvalid
		}
		if !isBool(t) {
			c.errorf(e.Span(), source.BadOperand, "invalid operation: operator ! not defined on %s (type %s)", c.exprString(e.X), t)
			return TypInvalid
		}
		return t
	default: // "-"
		t := c.value(e.X, hint)
		if isInvalid(t) {
			return TypInvalid
		}
		if !isNumeric(t) && !isDuration(t) {
			c.errorf(e.Span(), source.BadOperand, "invalid operation: operator - not defined on %s (type %s)", c.exprString(e.X), t)
			return TypInvalid
		}
		if basicKind(t) == U32 && !c.untyped(e.X) {
			c.errorf(e.Span(), source.BadOperand, "invalid operation: cannot negate unsigned %s", c.exprString(e.X))
			return TypInvalid
		}
		return t
	}
}

// untyped reports whether e is a constant made only of numeric literals,
// whose type adapts to its context like Go's untyped constants.
func (c *checker) untyped(e syntax.Expr) bool {
	switch e := e.(type) {
	case *syntax.BasicLit:
		return e.Kind == syntax.IntLit || e.Kind == syntax.FloatLit
	case *syntax.ParenExpr:
		return c.untyped(e.X)
	case *syntax.UnaryExpr:
		return e.Op == "-" && c.untyped(e.X)
	case *syntax.BinaryExpr:
		switch e.Op {
		case "+", "-", "*", "/", "%":
			return c.untyped(e.X) && c.untyped(e.Y)
		}
	}
	return false
}

// ConstInt evaluates a constant integer expression: literals combined with
// unary minus, parentheses and + - * / %. The compiler uses it for join
// counts and retry clauses, so that it agrees with what the checker
// accepted.
func ConstInt(e syntax.Expr) (int64, bool) {
	switch e := e.(type) {
	case *syntax.BasicLit:
		if e.Kind != syntax.IntLit {
			return 0, false
		}
		v, err := parseInt(e.Value)
		return v, err == nil
	case *syntax.ParenExpr:
		return ConstInt(e.X)
	case *syntax.UnaryExpr:
		if e.Op == "-" {
			v, ok := ConstInt(e.X)
			return -v, ok
		}
	case *syntax.BinaryExpr:
		x, ok1 := ConstInt(e.X)
		y, ok2 := ConstInt(e.Y)
		if !ok1 || !ok2 {
			return 0, false
		}
		switch e.Op {
		case "+":
			return x + y, true
		case "-":
			return x - y, true
		case "*":
			return x * y, true
		case "/":
			if y != 0 {
				return x / y, true
			}
		case "%":
			if y != 0 {
				return x % y, true
			}
		}
	}
	return 0, false
}

func (c *checker) binary(e *syntax.BinaryExpr, hint Type) Type {
	switch e.Op {
	case "&&", "||":
		x := c.value(e.X, TypBool)
		y := c.value(e.Y, TypBool)
		if isInvalid(x) || isInvalid(y) {
			return TypBool
		}
		if !isBool(x) || !isBool(y) {
			bad, bt := e.X, x
			if isBool(x) {
				bad, bt = e.Y, y
			}
			c.errorf(bad.Span(), source.BadOperand, "invalid operation: operator %s needs bool operands, found %s (type %s)", e.Op, c.exprString(bad), bt)
		}
		return TypBool
	case "??":
		return c.defaultExpr(e, hint)
	case "..":
		c.value(e.X, TypInt)
		c.value(e.Y, TypInt)
		c.errorf(e.Span(), source.BadOperand, "a range lo..hi is only allowed as the iteration of a for loop")
		return TypInvalid
	}

	arith := false
	switch e.Op {
	case "+", "-", "*", "/", "%":
		arith = true
	}
	var h Type
	if arith {
		h = hint
	}
	var x, y Type
	if c.untyped(e.X) && !c.untyped(e.Y) {
		y = c.value(e.Y, h)
		x = c.value(e.X, y)
	} else {
		x = c.value(e.X, h)
		y = c.value(e.Y, x)
	}
	if isInvalid(x) || isInvalid(y) {
		if arith {
			return TypInvalid
		}
		return TypBool
	}
	if arith {
		if t := arithResult(e.Op, x, y); t != nil {
			return t
		}
		c.errorf(e.Span(), source.BadOperand, "invalid operation: %s %s %s (mismatched types %s and %s)", c.exprString(e.X), e.Op, c.exprString(e.Y), x, y)
		return TypInvalid
	}
	// Comparisons.
	switch e.Op {
	case "==", "!=":
		if !c.assignable(x, y) && !c.assignable(y, x) {
			c.errorf(e.Span(), source.BadOperand, "invalid operation: %s %s %s (mismatched types %s and %s)", c.exprString(e.X), e.Op, c.exprString(e.Y), x, y)
		}
	default:
		if !identical(x, y, 0) {
			c.errorf(e.Span(), source.BadOperand, "invalid operation: %s %s %s (mismatched types %s and %s)", c.exprString(e.X), e.Op, c.exprString(e.Y), x, y)
		} else if !isOrdered(x) {
			c.errorf(e.Span(), source.BadOperand, "invalid operation: operator %s not defined on %s (type %s is not ordered)", e.Op, c.exprString(e.X), x)
		}
	}
	return TypBool
}

// arithResult returns the type of x op y, or nil if the operator does not
// apply.
func arithResult(op string, x, y Type) Type {
	kx, ky := basicKind(x), basicKind(y)
	switch op {
	case "+":
		switch {
		case identical(x, y, 0) && (isNumeric(x) || kx == String || kx == Duration):
			return x
		case kx == Time && ky == Duration:
			return x
		case kx == Duration && ky == Time:
			return y
		}
		if _, ok := Underlying(x).(*List); ok && identical(x, y, 0) {
			return x
		}
	case "-":
		switch {
		case identical(x, y, 0) && (isNumeric(x) || kx == Duration):
			return x
		case kx == Time && ky == Duration:
			return x
		case kx == Time && ky == Time:
			return TypDuration
		}
	case "*":
		switch {
		case identical(x, y, 0) && isNumeric(x):
			return x
		case kx == Duration && (ky == Int || ky == Float):
			return x
		case (kx == Int || kx == Float) && ky == Duration:
			return y
		}
	case "/":
		switch {
		case identical(x, y, 0) && isNumeric(x):
			return x
		case kx == Duration && (ky == Int || ky == Float):
			return x
		case kx == Duration && ky == Duration:
			return TypFloat
		}
	case "%":
		if identical(x, y, 0) && isInteger(x) {
			return x
		}
	}
	return nil
}

// defaultExpr checks x ?? d: x must be optional, d a default for it.
func (c *checker) defaultExpr(e *syntax.BinaryExpr, hint Type) Type {
	x := c.value(e.X, nil)
	if isInvalid(x) {
		c.value(e.Y, hint)
		return TypInvalid
	}
	o, ok := Underlying(x).(*Optional)
	if !ok {
		c.value(e.Y, x)
		c.errorf(e.X.Span(), source.BadOperand, "invalid operation: %s (type %s) is not optional; ?? needs an optional on its left", c.exprString(e.X), x)
		return TypInvalid
	}
	y := c.value(e.Y, o.Elem)
	if isInvalid(y) {
		return o.Elem
	}
	if c.assignable(y, o.Elem) {
		return o.Elem
	}
	if identical(y, x, 0) {
		return x
	}
	c.errorf(e.Y.Span(), source.TypeMismatch, "cannot use %s (type %s) as the default for %s (type %s)", c.exprString(e.Y), y, c.exprString(e.X), x)
	return o.Elem
}

func (c *checker) selector(e *syntax.SelectorExpr) Type {
	var tn *TypeName
	if id, ok := e.X.(*syntax.Ident); ok {
		switch o := c.lookup(id.Name).(type) {
		case *PkgName:
			c.info.Uses[id] = o
			o.used = true
			m := c.pkgMember(o, e.Sel)
			if m == nil {
				return TypInvalid
			}
			if mt, ok := m.(*TypeName); ok {
				// pkg.Type is only valid before .member; the caller
				// reports it as a value otherwise.
				if c.typeOperand {
					c.info.Types[e] = mt.typ
					c.typeName = mt
					return mt.typ
				}
			}
			return c.objValue(m, e)
		case *TypeName:
			c.info.Uses[id] = o
			c.info.Types[id] = o.typ
			tn = o
		}
	} else if x, ok := e.X.(*syntax.SelectorExpr); ok {
		if id, ok := x.X.(*syntax.Ident); ok {
			if _, ok := c.lookup(id.Name).(*PkgName); ok {
				c.typeOperand = true
				c.typeName = nil
				c.expr(x, nil)
				c.typeOperand = false
				if c.typeName == nil {
					return TypInvalid
				}
				tn = c.typeName
				c.typeName = nil
			}
		}
	}
	if tn != nil {
		{
			o := tn
			en, ok := Underlying(o.typ).(*Enum)
			if !ok {
				if !isInvalid(Underlying(o.typ)) {
					c.errorf(e.Span(), source.NotAValue, "type %s is not an enum and has no members", o.name)
				}
				return TypInvalid
			}
			c.info.Fields[e] = o.typ
			m := en.Member(e.Sel.Name)
			if m == nil {
				d := c.errorf(e.Sel.Span(), source.UndefinedField, "enum %s has no member %s", o.name, e.Sel.Name)
				c.suggestFix(d, e.Sel.Span(), e.Sel.Name, en.Members)
				return TypInvalid
			}
			c.info.Uses[e.Sel] = m
			return o.typ
		}
	}
	x := c.value(e.X, nil)
	if isInvalid(x) {
		return TypInvalid
	}
	switch u := Underlying(x).(type) {
	case *Record:
		f := u.Field(e.Sel.Name)
		if f == nil {
			d := c.errorf(e.Sel.Span(), source.UndefinedField, "%s has no field %s", x, e.Sel.Name)
			names := make([]string, len(u.Fields))
			for i, f := range u.Fields {
				names[i] = f.Name
			}
			c.suggestFix(d, e.Sel.Span(), e.Sel.Name, names)
			return TypInvalid
		}
		c.info.Fields[e] = x
		if f.Obj != nil {
			c.info.Uses[e.Sel] = f.Obj
		}
		return f.Type
	case *Optional:
		c.errorf(e.Sel.Span(), source.BadOperand, "cannot select %s from %s: its type %s is optional; unwrap it with ?? first", e.Sel.Name, c.exprString(e.X), x)
	default:
		c.errorf(e.Sel.Span(), source.UndefinedField, "%s (type %s) has no field %s", c.exprString(e.X), x, e.Sel.Name)
	}
	return TypInvalid
}

// pkgMember resolves pkg.sel, reporting an undefined member.
func (c *checker) pkgMember(pn *PkgName, sel *syntax.Ident) Object {
	if pn.Pkg == nil || pn.Pkg.Scope == nil {
		return nil
	}
	m := pn.Pkg.Scope.Lookup(sel.Name)
	if m == nil {
		d := c.errorf(sel.Span(), source.UndefinedName, "undefined: %s.%s", pn.name, sel.Name)
		c.suggestFix(d, sel.Span(), sel.Name, scopeNames(pn.Pkg.Scope, nil))
		return nil
	}
	c.info.Uses[sel] = m
	return m
}

func (c *checker) index(e *syntax.IndexExpr) Type {
	x := c.value(e.X, nil)
	if isInvalid(x) {
		c.value(e.Index, nil)
		return TypInvalid
	}
	switch u := Underlying(x).(type) {
	case *List:
		var h Type = TypInt
		if c.body != nil && c.body.kind == ObjKernel {
			h = TypI32
		}
		i := c.value(e.Index, h)
		if !isInvalid(i) && !isInteger(i) {
			c.errorf(e.Index.Span(), source.BadIndex, "invalid index %s (type %s): a list index must be an integer", c.exprString(e.Index), i)
		} else if v, ok := ConstInt(e.Index); ok && v < 0 {
			c.errorf(e.Index.Span(), source.BadIndex, "invalid index %s: must not be negative", c.exprString(e.Index))
		}
		return u.Elem
	case *Map:
		k := c.value(e.Index, u.Key)
		if !c.assignable(k, u.Key) {
			c.errorf(e.Index.Span(), source.BadIndex, "cannot use %s (type %s) as map key of type %s", c.exprString(e.Index), k, u.Key)
		}
		return u.Elem
	}
	c.value(e.Index, nil)
	c.errorf(e.X.Span(), source.BadIndex, "cannot index %s (type %s)", c.exprString(e.X), x)
	return TypInvalid
}
