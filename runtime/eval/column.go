// This file implements filter, any and all over a slice of records whose
// lambda compares one numeric field with a constant, for compiled code:
// the comparison runs over a column of the field with runtime/vec's
// vector loops, and the steps the register machine would charge for the
// lambda's calls are charged at once.

package eval

import "github.com/knhk/knhk/runtime/vec"

// A column fold needs the whole charge to fit in the budget; otherwise
// (or one call level too deep) it runs the scalar fold f, which fails at
// the element and instruction where the register machine does. steps is
// the lambda's instructions per call (it has one block).

// FilterCol is filter(xs, x => x.field op c).
func FilterCol[T any, N vec.Num](n *Native, xs []T, steps int64, gather vec.Gather[T, N], op vec.Cmp, c N, f func(T) (bool, error)) ([]T, error) {
	if !n.Room(int64(len(xs)) * steps) {
		return FilterOf(xs, f)
	}
	n.steps += int64(len(xs)) * steps
	return vec.FilterBy(xs, gather, op, c), nil
}

// AnyCol is any(xs, x => x.field op c): the lambda is called up to the
// first element it holds for.
func AnyCol[T any, N vec.Num](n *Native, xs []T, steps int64, gather vec.Gather[T, N], op vec.Cmp, c N, f func(T) (bool, error)) (bool, error) {
	if !n.Room(int64(len(xs)) * steps) {
		return AnyOf(xs, f)
	}
	i := vec.FirstBy(xs, gather, op, c, true)
	n.steps += int64(min(i+1, len(xs))) * steps
	return i < len(xs), nil
}

// AllCol is all(xs, x => x.field op c): the lambda is called up to the
// first element it fails for.
func AllCol[T any, N vec.Num](n *Native, xs []T, steps int64, gather vec.Gather[T, N], op vec.Cmp, c N, f func(T) (bool, error)) (bool, error) {
	if !n.Room(int64(len(xs)) * steps) {
		return AllOf(xs, f)
	}
	i := vec.FirstBy(xs, gather, op, c, false)
	n.steps += int64(min(i+1, len(xs))) * steps
	return i == len(xs), nil
}
