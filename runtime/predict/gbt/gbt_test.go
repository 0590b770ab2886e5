package gbt

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/knhk/knhk/runtime/predict/nn"
)

// steps draws rows whose target's distribution depends on the first of
// two features only: below 0.5 it is exponential with mean 1, above it
// 10 plus that.
func steps(n int, rng *rand.Rand) (*mat.Dense, []float64) {
	x := make([]float64, 2*n)
	y := make([]float64, n)
	for i := range n {
		x[2*i], x[2*i+1] = rng.Float64(), rng.Float64()
		y[i] = rng.ExpFloat64()
		if x[2*i] > 0.5 {
			y[i] += 10
		}
	}
	return mat.NewDense(n, 2, x), y
}

// TestQuantile: the fitted 0.1, 0.5 and 0.9 quantiles are near the true
// ones on each side of the step, and the median's absolute error on
// fresh rows is below the constant median's.
func TestQuantile(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tr, y := steps(4000, rng)
	va, vy := steps(1000, rng)
	p := Params{Rounds: 500, LR: 0.1, Depth: 3, MinLeaf: 20, Subsample: 0.8, Patience: 30}
	for _, tau := range []float64{0.1, 0.5, 0.9} {
		m := FitQuantile(tr, y, va, vy, tau, p, rng)
		if len(m.Trees) == 0 || len(m.Trees) >= p.Rounds {
			t.Errorf("τ=%v: %d rounds, want early stopping to pick some", tau, len(m.Trees))
		}
		want := -math.Log(1 - tau) // the exponential's quantile
		out := []float64{0}
		for _, x0 := range []float64{0.2, 0.8} {
			m.Predict(out, []float64{x0, 0.5})
			w := want
			if x0 > 0.5 {
				w += 10
			}
			if math.Abs(out[0]-w) > 0.25 {
				t.Errorf("τ=%v at x=%v: %.3f, want %.3f", tau, x0, out[0], w)
			}
		}
	}
	m := FitQuantile(tr, y, va, vy, 0.5, p, rng)
	c := quantile(slices.Clone(y), 0.5)
	var mae, base float64
	out := []float64{0}
	for i := range rows(va) {
		m.Predict(out, va.RawRowView(i))
		mae += math.Abs(out[0] - vy[i])
		base += math.Abs(c - vy[i])
	}
	if mae > 0.3*base {
		t.Errorf("MAE %.3f against the constant median's %.3f", mae/1000, base/1000)
	}
}

// TestSoftmax: three classes set by regions of the plane are learned
// to over 95% on fresh rows; the probabilities sum to one.
func TestSoftmax(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	draw := func(n int) (*mat.Dense, []int) {
		x := make([]float64, 2*n)
		y := make([]int, n)
		for i := range n {
			a, b := rng.Float64(), rng.Float64()
			x[2*i], x[2*i+1] = a, b
			switch {
			case a < 0.3:
				y[i] = 0
			case b < 0.6:
				y[i] = 1
			default:
				y[i] = 2
			}
		}
		return mat.NewDense(n, 2, x), y
	}
	tr, y := draw(3000)
	va, vy := draw(1000)
	m := FitSoftmax(tr, y, va, vy, 3, Params{Rounds: 300, LR: 0.2, Depth: 3, MinLeaf: 5, Lambda: 1, Patience: 20}, rng)
	ok := 0
	out, p := make([]float64, 3), make([]float64, 3)
	for i := range rows(va) {
		m.Predict(out, va.RawRowView(i))
		nn.Softmax(p, out)
		if s := p[0] + p[1] + p[2]; math.Abs(s-1) > 1e-9 {
			t.Fatalf("probabilities sum to %v", s)
		}
		if slices.Index(p, slices.Max(p)) == vy[i] {
			ok++
		}
	}
	if acc := float64(ok) / 1000; acc < 0.95 {
		t.Errorf("accuracy %.3f", acc)
	}
}

// TestNoise: on a target independent of the features, early stopping
// keeps few rounds and the model stays near the constant.
func TestNoise(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	n := 2000
	x := make([]float64, n)
	y := make([]float64, n)
	for i := range n {
		x[i], y[i] = rng.Float64(), rng.NormFloat64()
	}
	tr, va := mat.NewDense(1500, 1, x[:1500]), mat.NewDense(500, 1, x[1500:])
	m := FitQuantile(tr, y[:1500], va, y[1500:], 0.5, Params{Rounds: 1000, LR: 0.1, Depth: 4, MinLeaf: 5, Patience: 50}, rng)
	if len(m.Trees) > 200 {
		t.Errorf("%d rounds kept on noise", len(m.Trees))
	}
}

// TestBins: a value goes to bin b exactly when it is at most the b-th
// cut and above the one before, so a split on bins and the same split
// on raw values agree; constant features have no cuts.
func TestBins(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	n := 3000
	x := make([]float64, 3*n)
	for i := range n {
		x[3*i] = rng.NormFloat64()
		x[3*i+1] = float64(rng.IntN(4))
		x[3*i+2] = 7
	}
	b := NewBins(mat.NewDense(n, 3, x))
	if len(b.Cuts[0]) > maxBins-1 || len(b.Cuts[1]) != 3 || len(b.Cuts[2]) != 0 {
		t.Fatalf("cuts: %d, %v, %v", len(b.Cuts[0]), b.Cuts[1], b.Cuts[2])
	}
	for i, v := range x {
		f := i % 3
		k := int(b.bin(f, v))
		if k < len(b.Cuts[f]) && v > b.Cuts[f][k] || k > 0 && v <= b.Cuts[f][k-1] {
			t.Fatalf("feature %d value %v in bin %d of %v", f, v, k, b.Cuts[f])
		}
	}
}

func TestQuantileSelect(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for range 200 {
		n := 1 + rng.IntN(50)
		v := make([]float64, n)
		for i := range v {
			v[i] = float64(rng.IntN(10))
		}
		s := slices.Clone(v)
		slices.Sort(s)
		k := rng.IntN(n)
		if got := nth(slices.Clone(v), k); got != s[k] {
			t.Fatalf("nth(%v, %d) = %v, want %v", v, k, got, s[k])
		}
	}
	if quantile(nil, 0.5) != 0 {
		t.Error("quantile of nothing")
	}
}
