// This file implements the list builtins (sum, map, filter, any, all)
// once for the tree-walking Machine and the register machine's Native
// helpers, so both back ends fold a list the same way.

package eval

import "github.com/knhk/knhk/compiler/ir"

// foldList runs builtin name over elems, calling apply on each element
// (the lambda, or the element itself for a sum without one). sum starts
// from the zero of kind k, the kind of the result.
func foldList(name string, elems []Value, k ir.Kind, apply func(Value) (Value, error)) (Value, error) {
	switch name {
	case "sum":
		acc := zero(k)
		for _, x := range elems {
			v, err := apply(x)
			if err != nil {
				return Value{}, err
			}
			if acc, err = binary(ir.BinAdd, acc, v); err != nil {
				return Value{}, err
			}
		}
		return acc, nil
	case "map":
		out := make([]Value, len(elems))
		for i, x := range elems {
			v, err := apply(x)
			if err != nil {
				return Value{}, err
			}
			out[i] = v
		}
		return List(out), nil
	case "filter":
		var out []Value
		for _, x := range elems {
			v, err := apply(x)
			if err != nil {
				return Value{}, err
			}
			if v.AsBool() {
				out = append(out, x)
			}
		}
		return List(out), nil
	case "any", "all":
		all := name == "all"
		for _, x := range elems {
			v, err := apply(x)
			if err != nil {
				return Value{}, err
			}
			if v.AsBool() != all {
				return Bool(!all), nil
			}
		}
		return Bool(all), nil
	}
	return Value{}, failf("unknown builtin %s", name)
}
