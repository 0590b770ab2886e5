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

// Pair is a lambda x => a(x) && b(x) (And) or x => a(x) || b(x) whose a
// and b compare a field with a constant, as the register machine runs
// it: KA instructions for a, then KB for b where a does not decide, or
// KC (the constant false or true) where it does.
type Pair struct {
	And        bool
	KA, KB, KC int64
}

// steps is what the register machine charges for the lambda's calls on
// m elements, a holding for hitsA of them.
func (p Pair) steps(m, hitsA int) int64 {
	decide, evalB := int64(m-hitsA), int64(hitsA) // &&: a false decides
	if !p.And {
		decide, evalB = evalB, decide
	}
	return int64(m)*p.KA + evalB*p.KB + decide*p.KC
}

func (p Pair) room(n *Native, m int) bool {
	return n.Room(int64(m) * (p.KA + max(p.KB, p.KC)))
}

// FilterCol2 is filter(xs, x => x.a opa ca && x.b opb cb), or with ||.
func FilterCol2[T any, NA, NB vec.Num](n *Native, xs []T, p Pair, ga vec.Gather[T, NA], opa vec.Cmp, ca NA, gb vec.Gather[T, NB], opb vec.Cmp, cb NB, f func(T) (bool, error)) ([]T, error) {
	if !p.room(n, len(xs)) {
		return FilterOf(xs, f)
	}
	out, hitsA := vec.FilterBy2(xs, ga, opa, ca, gb, opb, cb, p.And)
	n.steps += p.steps(len(xs), hitsA)
	return out, nil
}

// AnyCol2 is any over a pair of comparisons.
func AnyCol2[T any, NA, NB vec.Num](n *Native, xs []T, p Pair, ga vec.Gather[T, NA], opa vec.Cmp, ca NA, gb vec.Gather[T, NB], opb vec.Cmp, cb NB, f func(T) (bool, error)) (bool, error) {
	if !p.room(n, len(xs)) {
		return AnyOf(xs, f)
	}
	i, hitsA := vec.FirstBy2(xs, ga, opa, ca, gb, opb, cb, p.And, true)
	n.steps += p.steps(min(i+1, len(xs)), hitsA)
	return i < len(xs), nil
}

// AllCol2 is all over a pair of comparisons.
func AllCol2[T any, NA, NB vec.Num](n *Native, xs []T, p Pair, ga vec.Gather[T, NA], opa vec.Cmp, ca NA, gb vec.Gather[T, NB], opb vec.Cmp, cb NB, f func(T) (bool, error)) (bool, error) {
	if !p.room(n, len(xs)) {
		return AllOf(xs, f)
	}
	i, hitsA := vec.FirstBy2(xs, ga, opa, ca, gb, opb, cb, p.And, false)
	n.steps += p.steps(min(i+1, len(xs)), hitsA)
	return i == len(xs), nil
}
