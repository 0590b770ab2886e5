// This file implements type predicates: identity, assignability and the
// classes of types that operators accept.

package check

// Identical reports whether a and b are the same type. Names are aliases,
// so records, lists and maps compare structurally; enums compare by
// declaration.
func Identical(a, b Type) bool { return identical(a, b, 0) }

func identical(a, b Type, depth int) bool {
	if a == b {
		return true
	}
	a, b = Underlying(a), Underlying(b)
	if a == b {
		return true
	}
	if depth > 64 { // recursive types: equal so far
		return true
	}
	switch a := a.(type) {
	case *List:
		b, ok := b.(*List)
		return ok && identical(a.Elem, b.Elem, depth+1)
	case *Map:
		b, ok := b.(*Map)
		return ok && identical(a.Key, b.Key, depth+1) && identical(a.Elem, b.Elem, depth+1)
	case *Optional:
		b, ok := b.(*Optional)
		return ok && identical(a.Elem, b.Elem, depth+1)
	case *Record:
		b, ok := b.(*Record)
		if !ok || len(a.Fields) != len(b.Fields) {
			return false
		}
		for i, f := range a.Fields {
			g := b.Fields[i]
			if g.Name != f.Name {
				if g = b.Field(f.Name); g == nil {
					return false
				}
			}
			if !identical(f.Type, g.Type, depth+1) {
				return false
			}
		}
		return true
	}
	return false
}

// assignable reports whether a value of type v may be used where t is
// expected. Invalid types are assignable to everything, so that one error
// never causes another.
func (c *checker) assignable(v, t Type) bool {
	if v == t || isInvalid(v) || isInvalid(t) {
		return true
	}
	if identical(v, t, 0) {
		return true
	}
	if o, ok := Underlying(t).(*Optional); ok {
		if v == TypNone {
			return true
		}
		return c.assignable(v, o.Elem)
	}
	return false
}

func isInvalid(t Type) bool { return t == nil || t == TypInvalid }

func basicKind(t Type) BasicKind {
	if b, ok := Underlying(t).(*Basic); ok {
		return b.Kind
	}
	return -1
}

func isNumeric(t Type) bool {
	switch basicKind(t) {
	case Int, Float, F32, I32, U32:
		return true
	}
	return false
}

func isInteger(t Type) bool {
	switch basicKind(t) {
	case Int, I32, U32:
		return true
	}
	return false
}

func isFloat(t Type) bool {
	k := basicKind(t)
	return k == Float || k == F32
}

func isBool(t Type) bool     { return basicKind(t) == Bool }
func isString(t Type) bool   { return basicKind(t) == String }
func isDuration(t Type) bool { return basicKind(t) == Duration }
func isTime(t Type) bool     { return basicKind(t) == Time }

// isOrdered reports whether < <= > >= apply.
func isOrdered(t Type) bool {
	switch basicKind(t) {
	case Int, Float, F32, I32, U32, String, Duration, Time:
		return true
	}
	return false
}

// isKernelScalar reports whether t may be a kernel value.
func isKernelScalar(t Type) bool {
	switch basicKind(t) {
	case F32, I32, U32, Bool, Invalid:
		return true
	}
	return false
}

// isKernelArray reports whether t is an array of kernel scalars.
func isKernelArray(t Type) bool {
	l, ok := Underlying(t).(*List)
	return ok && isKernelScalar(l.Elem)
}

// isScalar reports whether t is a basic value type or an enum: what a
// route feature or a string conversion accepts.
func isScalar(t Type) bool {
	switch u := Underlying(t).(type) {
	case *Basic:
		return u.Kind != Void && u.Kind != UntypedNone
	case *Enum:
		return true
	}
	return false
}

// unwrapOptional returns T for T?, else t.
func unwrapOptional(t Type) Type {
	if o, ok := Underlying(t).(*Optional); ok {
		return o.Elem
	}
	return t
}
