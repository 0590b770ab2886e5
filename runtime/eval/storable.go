// This file implements the check of a value leaving evaluation for a
// case: it must be something the event log can record and read back.

package eval

import (
	"fmt"
	"math"
	"strconv"

	"github.com/knhk/knhk/compiler/ir"
)

// CheckStorable reports why v, the result of fn evaluated for a case, cannot become part of the case's state: a float that is NaN or
// infinite (sqrt(-1.0), 1.0 / 0.0, log(0.0), exp(1000.0)) has no JSON
// form, and a value nested deeper than [MaxDepth] could not be read back
// from the event log. Within one evaluation floats follow IEEE 754, as on
// the kernel back ends; only what the case keeps must be finite. The
// error is an [*Error] at fn's location (the expression in the source), so
// the case fails there as on any other evaluation error.
func CheckStorable(p *ir.Program, fn *ir.Func, v Value) error {
	switch p.KindOf(fn.Result) {
	case ir.KindFloat, ir.KindF32:
	case ir.KindOptional, ir.KindList, ir.KindMap, ir.KindRecord:
		if !mayNeedCheck(p, fn.Result, map[ir.TypeID]bool{}) {
			return nil
		}
	default:
		return nil // the common case: no walk, no allocation
	}
	if err := storable(v, "", 0); err != nil {
		return &Error{Loc: fn.Loc, Func: fn.Name, Msg: err.Error()}
	}
	return nil
}

// mayNeedCheck reports whether a value of type t can hold a float or nest
// without bound (a recursive type); other values need no walk.
func mayNeedCheck(p *ir.Program, t ir.TypeID, seen map[ir.TypeID]bool) bool {
	if seen[t] {
		return true // recursive
	}
	switch p.KindOf(t) {
	case ir.KindFloat, ir.KindF32:
		return true
	case ir.KindOptional, ir.KindList, ir.KindMap, ir.KindRecord:
	default:
		return false
	}
	seen[t] = true
	defer delete(seen, t)
	ty := p.Type(t)
	if ty == nil {
		return true
	}
	switch p.KindOf(t) {
	case ir.KindOptional, ir.KindList:
		return mayNeedCheck(p, ty.Elem, seen)
	case ir.KindMap:
		return mayNeedCheck(p, ty.Key, seen) || mayNeedCheck(p, ty.Elem, seen)
	}
	for _, f := range ty.Fields {
		if mayNeedCheck(p, f.Type, seen) {
			return true
		}
	}
	return false
}

func storable(v Value, path string, depth int) error {
	switch v.k {
	case ir.KindFloat, ir.KindF32:
		if f := v.AsFloat(); math.IsNaN(f) || math.IsInf(f, 0) {
			return storeError(path, fmt.Sprintf("is %s; a case keeps only finite floats", formatFloat(f, 64)))
		}
	case ir.KindList, ir.KindMap, ir.KindRecord:
		if depth >= MaxDepth {
			return storeError(path, fmt.Sprintf("is nested more than %d levels deep", MaxDepth))
		}
		for i, x := range v.Elems() {
			p := path + "[" + strconv.Itoa(i) + "]"
			if v.k == ir.KindMap {
				if err := storable(v.ref.keys[i], p, depth+1); err != nil {
					return err
				}
			}
			if err := storable(x, p, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

func storeError(path, msg string) error {
	what := "the result"
	if path != "" {
		what = "element " + path + " of the result"
	}
	return failf("%s %s", what, msg)
}
