// This file tests every primitive at every vector level this build and
// CPU have against the per-element definition (runtime/eval's), on
// lengths 0..33 and unaligned starts.

package vec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// levels runs f once per level up to the CPU's, restoring the level.
func levels(t *testing.T, f func(t *testing.T)) {
	saved := level
	defer func() { level = saved }()
	for l := levelScalar; l <= cpuLevel(); l++ {
		level = l
		t.Run(levelNames[l], f)
	}
}

var specials = []float32{0, float32(math.Copysign(0, -1)), 1, -1, 0.5, 3, 1e-40, 3e38, -3e38, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}

func randF32(r *rand.Rand, n int) []float32 {
	xs := make([]float32, n)
	for i := range xs {
		if r.IntN(6) == 0 {
			xs[i] = specials[r.IntN(len(specials))]
		} else {
			xs[i] = float32(r.NormFloat64() * 100)
		}
	}
	return xs
}

func randI32(r *rand.Rand, n int) []int32 {
	xs := make([]int32, n)
	for i := range xs {
		if r.IntN(8) == 0 {
			xs[i] = []int32{0, -1, 1, math.MinInt32, math.MaxInt32}[r.IntN(5)]
		} else {
			xs[i] = int32(r.IntN(200) - 100)
		}
	}
	return xs
}

// cases yields operands of every length 0..33 and 100, starting at
// offsets 0..3 of their backing arrays (unaligned for any vector width).
func cases(f func(n, off int, r *rand.Rand)) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n <= 33; n++ {
		for off := 0; off < 4; off++ {
			f(n, off, r)
		}
	}
	f(100, 1, r)
	f(1001, 3, r)
}

func sameF32(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s[%d] of %d = %v (%#x), want %v (%#x)", what, i, len(want), got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

func sameI32(t *testing.T, what string, got, want []int32) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s of %d = %v, want %v", what, len(want), got, want)
	}
}

// The definitions, as runtime/eval computes one element: f32 arithmetic
// in float64 rounded to float32, comparisons false on NaN but !=.
func evalF32(op byte, a, b float32) float32 {
	x, y := float64(a), float64(b)
	switch op {
	case '+':
		return float32(x + y)
	case '-':
		return float32(x - y)
	case '*':
		return float32(x * y)
	}
	return float32(x / y)
}

func TestElementwise(t *testing.T) {
	levels(t, func(t *testing.T) {
		cases(func(n, off int, r *rand.Rand) {
			a := randF32(r, n+off)[off:]
			b := randF32(r, n+off)[off:]
			ia := randI32(r, n+off)[off:]
			ib := randI32(r, n+off)[off:]
			m := make([]int32, n+off)[off:]
			for i := range m {
				m[i] = mask(r.IntN(2) == 0)
			}
			got := make([]float32, n+off)[off:]
			want := make([]float32, n)
			for _, op := range []struct {
				c byte
				f func(dst, a, b []float32)
			}{{'+', AddF32}, {'-', SubF32}, {'*', MulF32}, {'/', DivF32}} {
				op.f(got, a, b)
				for i := range want {
					want[i] = evalF32(op.c, a[i], b[i])
				}
				sameF32(t, string(op.c), got, want)
			}
			for _, op := range []struct {
				name string
				f    func(dst, a []float32)
				def  func(float32) float32
			}{
				{"neg", NegF32, func(x float32) float32 { return float32(-float64(x)) }},
				{"abs", AbsF32, func(x float32) float32 { return float32(math.Abs(float64(x))) }},
				{"sqrt", SqrtF32, func(x float32) float32 { return float32(math.Sqrt(float64(x))) }},
			} {
				op.f(got, a)
				for i := range want {
					want[i] = op.def(a[i])
				}
				sameF32(t, op.name, got, want)
			}
			F32FromI32(got, ia)
			for i := range want {
				want[i] = float32(float64(ia[i]))
			}
			sameF32(t, "f32", got, want)
			SelectF32(got, m, a, b)
			for i := range want {
				want[i] = b[i]
				if m[i] != 0 {
					want[i] = a[i]
				}
			}
			sameF32(t, "select", got, want)

			gi := make([]int32, n+off)[off:]
			wi := make([]int32, n)
			for op := Eq; op <= Ge; op++ {
				CmpF32(gi, op, a, b)
				for i := range wi {
					wi[i] = mask(cmpLane(op, a[i], b[i]))
				}
				sameI32(t, "f32 "+op.String(), gi, wi)
				CmpI32(gi, op, ia, ib)
				for i := range wi {
					wi[i] = mask(cmpLane(op, ia[i], ib[i]))
				}
				sameI32(t, "i32 "+op.String(), gi, wi)
			}
			for _, op := range []struct {
				name string
				f    func(dst, a, b []int32)
				def  func(a, b int32) int32
			}{
				{"+", AddI32, func(a, b int32) int32 { return int32(int64(a) + int64(b)) }},
				{"-", SubI32, func(a, b int32) int32 { return int32(int64(a) - int64(b)) }},
				{"*", MulI32, func(a, b int32) int32 { return int32(int64(a) * int64(b)) }},
				{"&", And, func(a, b int32) int32 { return a & b }},
				{"|", Or, func(a, b int32) int32 { return a | b }},
				{"^", Xor, func(a, b int32) int32 { return a ^ b }},
				{"select", func(dst, a, b []int32) { SelectI32(dst, m, a, b) }, nil},
			} {
				op.f(gi, ia, ib)
				for i := range wi {
					if op.def == nil {
						wi[i] = ib[i]
						if m[i] != 0 {
							wi[i] = ia[i]
						}
						continue
					}
					wi[i] = op.def(ia[i], ib[i])
				}
				sameI32(t, op.name, gi, wi)
			}
		})
	})
}

func TestReductions(t *testing.T) {
	levels(t, func(t *testing.T) {
		cases(func(n, off int, r *rand.Rand) {
			a := randF32(r, n+off)[off:]
			// Sums over finite values (an infinity or NaN makes both
			// infinite or NaN, tested below).
			fin := make([]float32, n)
			for i := range fin {
				fin[i] = float32(r.NormFloat64() * 1e3)
			}
			var fold float32
			for _, x := range fin {
				fold += x
			}
			got := SumF32(fin)
			if d := math.Abs(float64(got) - float64(fold)); d > SumF32Bound(fin) {
				t.Fatalf("sum of %d = %v, left fold %v: |Δ| = %g > bound %g", n, got, fold, d, SumF32Bound(fin))
			}
			if s := SumF32(a); slices.ContainsFunc(a, func(x float32) bool { return x != x }) && s == s {
				t.Fatalf("sum with a NaN = %v", s)
			}
			for _, isMin := range []bool{true, false} {
				f := maxF32
				if isMin {
					f = minF32
				}
				got, ok := extremeF32(a, isMin)
				if ok != (n > 0) {
					t.Fatalf("min/max of %d: ok %v", n, ok)
				}
				if n > 0 {
					want := a[0]
					for _, x := range a[1:] {
						want = f(want, x)
					}
					sameF32(t, "extreme", []float32{got}, []float32{want})
				}
			}
			ia := randI32(r, n+off)[off:]
			var isum int32
			for _, x := range ia {
				isum += x
			}
			if got := SumI32(ia); got != isum {
				t.Fatalf("i32 sum = %d, want %d", got, isum)
			}
			if n > 0 {
				lo, _ := MinI32(ia)
				hi, _ := MaxI32(ia)
				if lo != slices.Min(ia) || hi != slices.Max(ia) {
					t.Fatalf("i32 min, max = %d, %d, want %d, %d", lo, hi, slices.Min(ia), slices.Max(ia))
				}
			}
			c := float32(r.NormFloat64() * 100)
			ci := int32(r.IntN(200) - 100)
			for op := Eq; op <= Ge; op++ {
				var want, wanti []int
				for i, x := range a {
					if cmpLane(op, x, c) {
						want = append(want, i)
					}
				}
				for i, x := range ia {
					if cmpLane(op, x, ci) {
						wanti = append(wanti, i)
					}
				}
				if got := IndexF32(nil, op, a, c); !slices.Equal(got, want) {
					t.Fatalf("index f32 %s %v = %v, want %v", op, c, got, want)
				}
				if got := IndexI32(nil, op, ia, ci); !slices.Equal(got, wanti) {
					t.Fatalf("index i32 %s %v = %v, want %v", op, ci, got, wanti)
				}
				if CountF32(op, a, c) != len(want) || AllF32(op, a, c) != (len(want) == n) || AnyF32(op, a, c) != (len(want) > 0) {
					t.Fatalf("count/all/any f32 %s", op)
				}
				if CountI32(op, ia, ci) != len(wanti) || AllI32(op, ia, ci) != (len(wanti) == n) || AnyI32(op, ia, ci) != (len(wanti) > 0) {
					t.Fatalf("count/all/any i32 %s", op)
				}
			}
		})
	})
}

// TestSumBoundTight shows the bound is needed and not vacuous: on a sum
// with heavy cancellation the vector and scalar orders differ, and the
// difference stays within SumF32Bound.
func TestSumBoundTight(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	a := make([]float32, 4099)
	for i := range a {
		a[i] = float32(r.NormFloat64()) * float32(math.Pow(10, float64(r.IntN(8))))
	}
	var fold float32
	for _, x := range a {
		fold += x
	}
	levels(t, func(t *testing.T) {
		got := SumF32(a)
		d := math.Abs(float64(got) - float64(fold))
		t.Logf("%s: sum %v, fold %v, |Δ| %g, bound %g", Level(), got, fold, d, SumF32Bound(a))
		if d > SumF32Bound(a) {
			t.Fatalf("|Δ| = %g > bound %g", d, SumF32Bound(a))
		}
	})
}

func TestMaskBools(t *testing.T) {
	bs := []bool{true, false, false, true, true}
	m := make([]int32, len(bs))
	MaskFromBools(m, bs)
	sameI32(t, "mask", m, []int32{-1, 0, 0, -1, -1})
	back := make([]bool, len(bs))
	BoolsFromMask(back, m)
	if !slices.Equal(back, bs) {
		t.Fatalf("bools = %v, want %v", back, bs)
	}
}

func TestCapLevel(t *testing.T) {
	for _, c := range []struct {
		cpu  int
		env  string
		want int
	}{
		{levelAVX512, "", levelAVX512},
		{levelAVX512, "avx2", levelAVX2},
		{levelAVX512, "scalar", levelScalar},
		{levelAVX2, "avx512", levelAVX2},
		{levelScalar, "avx2", levelScalar},
		{levelAVX2, "bogus", levelAVX2},
	} {
		if got := capLevel(c.cpu, c.env); got != c.want {
			t.Errorf("capLevel(%d, %q) = %d, want %d", c.cpu, c.env, got, c.want)
		}
	}
}

func TestParallelFirstError(t *testing.T) {
	const n = 1 << 16
	hits := make([]int32, n)
	err := Parallel(n, 1024, func(lo, hi int) (int, error) {
		for i := lo; i < hi; i++ {
			hits[i]++
			if i%5000 == 4999 && i > n/2 {
				return i, errAt(i)
			}
		}
		return -1, nil
	})
	if err == nil || err.Error() != errAt(34999).Error() {
		t.Fatalf("err = %v, want the error at 34999", err)
	}
	if err := Parallel(n, 1024, func(lo, hi int) (int, error) {
		for i := lo; i < hi; i++ {
			hits[i]++
		}
		return -1, nil
	}); err != nil {
		t.Fatal(err)
	}
	for i, h := range hits[:30000] {
		if h != 2 {
			t.Fatalf("element %d ran %d times", i, h)
		}
	}
}

type errAt int

func (e errAt) Error() string { return fmt.Sprintf("failed at %d", int(e)) }
