// This file implements comparisons over 64-bit columns (int and float,
// the language's default numbers: 8 lanes on AVX-512, 4 on AVX2) and
// filter, any and all over a slice of records whose predicate compares
// one numeric field with a constant: compiled code gathers the field a
// chunk at a time into a column and compares the column with vectors.

package vec

// IndexI64 appends to idx, in order, each i where a[i] op c holds.
func IndexI64(idx []int, op Cmp, a []int64, c int64) []int {
	idx, k := indexI64V(idx, op, a, c)
	clearUpper()
	return indexScalar(idx, k, op, a, c)
}

// IndexF64 is [IndexI64] over floats; a comparison with a NaN is false
// except Ne, as in the language.
func IndexF64(idx []int, op Cmp, a []float64, c float64) []int {
	idx, k := indexF64V(idx, op, a, c)
	clearUpper()
	return indexScalar(idx, k, op, a, c)
}

// Num is the element type of a 64-bit column.
type Num interface{ int64 | float64 }

// Chunk is how many records a column holds at a time: small enough to
// stay in L1 with its index list, large enough that the per-chunk calls
// weigh nothing.
const Chunk = 256

// Gather fills dst with one field of xs[:len(dst)].
type Gather[T any, N Num] func(dst []N, xs []T)

// index is IndexI64 or IndexF64 on a chunk.
func index[N Num](idx []int, op Cmp, col []N, c N) []int {
	switch a := any(col).(type) {
	case []int64:
		return IndexI64(idx, op, a, any(c).(int64))
	case []float64:
		return IndexF64(idx, op, a, any(c).(float64))
	}
	return idx
}

// FilterBy returns the elements x of xs, in order, for which field(x) op
// c holds, where gather reads the field: filter(xs, x => x.f op c). It
// returns nil when none does, as the register machine's filter does.
func FilterBy[T any, N Num](xs []T, gather Gather[T, N], op Cmp, c N) []T {
	var col [Chunk]N
	var ix [Chunk]int
	// The positions first, then one allocation of the exact size: the
	// elements are copied once, not again at each growth of the result.
	var hits []int32
	for s := 0; s < len(xs); s += Chunk {
		e := min(s+Chunk, len(xs))
		gather(col[:e-s], xs[s:e])
		for _, j := range index(ix[:0], op, col[:e-s], c) {
			hits = append(hits, int32(s+j))
		}
	}
	if len(hits) == 0 {
		return nil
	}
	out := make([]T, len(hits))
	for k, j := range hits {
		out[k] = xs[j]
	}
	return out
}

// FirstBy returns the index of the first element of xs for which field(x)
// op c is want, or len(xs): any (want true) and all (want false) decide
// there, and the register machine calls the predicate on the elements up
// to it and no further.
func FirstBy[T any, N Num](xs []T, gather Gather[T, N], op Cmp, c N, want bool) int {
	var col [Chunk]N
	var ix [Chunk]int
	for s := 0; s < len(xs); s += Chunk {
		e := min(s+Chunk, len(xs))
		gather(col[:e-s], xs[s:e])
		hits := index(ix[:0], op, col[:e-s], c)
		if want {
			if len(hits) > 0 {
				return s + hits[0]
			}
			continue
		}
		// The first position that is not a hit.
		for j, h := range hits {
			if h != j {
				return s + j
			}
		}
		if len(hits) < e-s {
			return s + len(hits)
		}
	}
	return len(xs)
}

// FilterBy2 is [FilterBy] for a conjunction (and) or a disjunction (!and)
// of two field comparisons, a(x) && b(x) or a(x) || b(x). It also returns
// how many elements a holds for, which decides how many the register
// machine evaluates b on.
func FilterBy2[T any, NA, NB Num](xs []T, ga Gather[T, NA], opa Cmp, ca NA, gb Gather[T, NB], opb Cmp, cb NB, and bool) ([]T, int) {
	var hits []int32
	hitsA := 0
	forPairs(xs, ga, opa, ca, gb, opb, cb, func(s int, a, b *[Chunk]bool, m int) bool {
		for j := range m {
			if a[j] {
				hitsA++
			}
			if (and && a[j] && b[j]) || (!and && (a[j] || b[j])) {
				hits = append(hits, int32(s+j))
			}
		}
		return true
	})
	if len(hits) == 0 {
		return nil, hitsA
	}
	out := make([]T, len(hits))
	for k, j := range hits {
		out[k] = xs[j]
	}
	return out, hitsA
}

// FirstBy2 is [FirstBy] for a(x) && b(x) (and) or a(x) || b(x) (!and): the
// index of the first element for which it is want, or len(xs), and how
// many elements up to that one (inclusive) a holds for.
func FirstBy2[T any, NA, NB Num](xs []T, ga Gather[T, NA], opa Cmp, ca NA, gb Gather[T, NB], opb Cmp, cb NB, and, want bool) (int, int) {
	first, hitsA := len(xs), 0
	forPairs(xs, ga, opa, ca, gb, opb, cb, func(s int, a, b *[Chunk]bool, m int) bool {
		for j := range m {
			if a[j] {
				hitsA++
			}
			if ((and && a[j] && b[j]) || (!and && (a[j] || b[j]))) == want {
				first = s + j
				return false
			}
		}
		return true
	})
	return first, hitsA
}

// forPairs compares both fields of each chunk of xs and calls f with the
// chunk's start, the two results and its length, until f returns false.
func forPairs[T any, NA, NB Num](xs []T, ga Gather[T, NA], opa Cmp, ca NA, gb Gather[T, NB], opb Cmp, cb NB, f func(s int, a, b *[Chunk]bool, m int) bool) {
	var colA [Chunk]NA
	var colB [Chunk]NB
	var ix [Chunk]int
	var a, b [Chunk]bool
	for s := 0; s < len(xs); s += Chunk {
		e := min(s+Chunk, len(xs))
		m := e - s
		mark := func(col []int, hit *[Chunk]bool) {
			clear(hit[:m])
			for _, j := range col {
				hit[j] = true
			}
		}
		ga(colA[:m], xs[s:e])
		mark(index(ix[:0], opa, colA[:m], ca), &a)
		gb(colB[:m], xs[s:e])
		mark(index(ix[:0], opb, colB[:m], cb), &b)
		if !f(s, &a, &b, m) {
			return
		}
	}
}
