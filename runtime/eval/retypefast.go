// This file implements the fast path of typing a list whose elements
// already have the element type: a case's arguments built by eval,
// compiled code or an embedding program, which the engine types at every
// Start.

package eval

import "github.com/knhk/knhk/compiler/ir"

// typedElems reports whether every element of es already is a value of
// type elem as [Retype] would return it unchanged: a scalar of elem's
// kind, or a record built with elem's record type. It is one tight loop
// instead of a call of retype per element, which at 10,000 records was a
// sixth of a compiled case's time.
func typedElems(p *ir.Program, es []Value, elem ir.TypeID) bool {
	t := p.Type(elem)
	if t == nil {
		k := p.KindOf(elem)
		switch k {
		case ir.KindBool, ir.KindString, ir.KindInt, ir.KindFloat, ir.KindBytes,
			ir.KindDuration, ir.KindTime, ir.KindI32, ir.KindU32, ir.KindF32:
			for i := range es {
				if es[i].k != k {
					return false
				}
			}
			return true
		}
		return false
	}
	if t.Kind != ir.KindRecord {
		return false
	}
	for i := range es {
		if es[i].k != ir.KindRecord || es[i].ref == nil || es[i].ref.rec != t {
			return false
		}
	}
	return true
}
