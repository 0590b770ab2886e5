// This file tests the 64-bit column comparisons and the record filters
// at every vector level against the per-element definition.

package vec

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

type rec struct {
	name string
	n    int64
	f    float64
}

func gatherN(dst []int64, xs []rec) {
	for i := range dst {
		dst[i] = xs[i].n
	}
}

func gatherF(dst []float64, xs []rec) {
	for i := range dst {
		dst[i] = xs[i].f
	}
}

var specials64 = []float64{0, math.Copysign(0, -1), 1, -1, math.Inf(1), math.Inf(-1), math.NaN(), math.MaxFloat64}

func randRecs(r *rand.Rand, n int) []rec {
	xs := make([]rec, n)
	for i := range xs {
		xs[i] = rec{name: "r", n: int64(r.IntN(7)) - 3, f: float64(r.IntN(7)) - 3}
		switch r.IntN(8) {
		case 0:
			xs[i].n = []int64{math.MinInt64, math.MaxInt64}[r.IntN(2)]
		case 1:
			xs[i].f = specials64[r.IntN(len(specials64))]
		}
	}
	return xs
}

func TestColumns(t *testing.T) {
	levels(t, func(t *testing.T) {
		cases(func(n, off int, r *rand.Rand) {
			xs := randRecs(r, n+off+2*Chunk*(n%2))[off:] // some span chunks
			for op := Eq; op <= Ge; op++ {
				for _, c := range []int64{0, -3, 3, math.MaxInt64} {
					var want []rec
					first := [2]int{len(xs), len(xs)}
					for i, x := range xs {
						ok := cmpLane(op, x.n, c)
						if ok {
							want = append(want, x)
						}
						if w := btoi(ok); first[w] == len(xs) {
							first[w] = i
						}
					}
					if got := FilterBy(xs, gatherN, op, c); !slices.EqualFunc(got, want, sameRec) {
						t.Fatalf("filter n %s %d over %d: %d kept, want %d", op, c, len(xs), len(got), len(want))
					}
					for w := range 2 {
						if got := FirstBy(xs, gatherN, op, c, w == 1); got != first[w] {
							t.Fatalf("first n %s %d == %v over %d: %d, want %d", op, c, w == 1, len(xs), got, first[w])
						}
					}
				}
				for _, c := range []float64{0, 1.5, -3, math.NaN(), math.Inf(1)} {
					var want []rec
					first := [2]int{len(xs), len(xs)}
					for i, x := range xs {
						ok := cmpLane(op, x.f, c)
						if ok {
							want = append(want, x)
						}
						if w := btoi(ok); first[w] == len(xs) {
							first[w] = i
						}
					}
					got := FilterBy(xs, gatherF, op, c)
					if !slices.EqualFunc(got, want, sameRec) {
						t.Fatalf("filter f %s %v over %d: %d kept, want %d", op, c, len(xs), len(got), len(want))
					}
					for w := range 2 {
						if got := FirstBy(xs, gatherF, op, c, w == 1); got != first[w] {
							t.Fatalf("first f %s %v == %v over %d: %d, want %d", op, c, w == 1, len(xs), got, first[w])
						}
					}
				}
			}
		})
	})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func sameRec(a, b rec) bool {
	return a.n == b.n && math.Float64bits(a.f) == math.Float64bits(b.f) && a.name == b.name
}

func TestColumnPairs(t *testing.T) {
	levels(t, func(t *testing.T) {
		cases(func(n, off int, r *rand.Rand) {
			xs := randRecs(r, n+off+2*Chunk*(n%2))[off:]
			for _, and := range []bool{true, false} {
				for opa := Eq; opa <= Ge; opa += 2 {
					for opb := Ne; opb <= Ge; opb += 2 {
						ca, cb := int64(r.IntN(5))-2, float64(r.IntN(5))-2
						var want []rec
						wantA := 0
						first := [2]int{len(xs), len(xs)}
						firstA := [2]int{-1, -1}
						for i, x := range xs {
							a, b := cmpLane(opa, x.n, ca), cmpLane(opb, x.f, cb)
							if a {
								wantA++
							}
							ok := (and && a && b) || (!and && (a || b))
							if ok {
								want = append(want, x)
							}
							if w := btoi(ok); first[w] == len(xs) {
								first[w], firstA[w] = i, wantA
							}
						}
						got, gotA := FilterBy2(xs, gatherN, opa, ca, gatherF, opb, cb, and)
						if !slices.EqualFunc(got, want, sameRec) || gotA != wantA {
							t.Fatalf("filter (n %s %d) and=%v (f %s %v) over %d: %d kept, a %d; want %d, %d", opa, ca, and, opb, cb, len(xs), len(got), gotA, len(want), wantA)
						}
						for w := range 2 {
							if firstA[w] < 0 {
								firstA[w] = wantA
							}
							i, a := FirstBy2(xs, gatherN, opa, ca, gatherF, opb, cb, and, w == 1)
							if i != first[w] || a != firstA[w] {
								t.Fatalf("first == %v of (n %s %d) and=%v (f %s %v) over %d: %d, a %d; want %d, %d", w == 1, opa, ca, and, opb, cb, len(xs), i, a, first[w], firstA[w])
							}
						}
					}
				}
			}
		})
	})
}
