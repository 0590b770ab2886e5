package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestXOR: a hidden layer learns a function no linear model can.
func TestXOR(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := mat.NewDense(4, 2, []float64{0, 0, 0, 1, 1, 0, 1, 1})
	y := mat.NewDense(4, 2, []float64{1, 0, 0, 1, 0, 1, 1, 0})
	n := New([]int{2, 8, 2}, Tanh, rng)
	n.Fit(x, y, SoftmaxCE{}, 2000, 4, 0.05, rng)
	out := n.Forward(x)
	for i := 0; i < 4; i++ {
		got := 0
		if out.At(i, 1) > out.At(i, 0) {
			got = 1
		}
		if want := int(y.At(i, 1)); got != want {
			t.Errorf("row %d: class %d, want %d (%v)", i, got, want, out.RawRowView(i))
		}
	}
}

// TestQuantiles: the pinball heads estimate the 10%, 50% and 90%
// quantiles of y given x (y = x + uniform noise), within a few points.
func TestQuantiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 4000
	x, y := mat.NewDense(n, 1, nil), mat.NewDense(n, 3, nil)
	for i := 0; i < n; i++ {
		v := rng.Float64()
		x.Set(i, 0, v)
		t := v + rng.Float64() // uniform on [v, v+1]
		y.SetRow(i, []float64{t, t, t})
	}
	net := New([]int{1, 16, 3}, ReLU, rng)
	net.Fit(x, y, Pinball{Taus: []float64{0.1, 0.5, 0.9}}, 4000, 64, 0.01, rng)
	out := net.Forward(x)
	below := [3]int{}
	for i := 0; i < n; i++ {
		for j := 0; j < 3; j++ {
			if y.At(i, 0) <= out.At(i, j) {
				below[j]++
			}
		}
	}
	for j, want := range []float64{0.1, 0.5, 0.9} {
		if got := float64(below[j]) / n; math.Abs(got-want) > 0.03 {
			t.Errorf("quantile %v: %v of targets below", want, got)
		}
	}
}

// TestMSE: a linear net recovers a linear map.
func TestMSE(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	x, y := mat.NewDense(200, 2, nil), mat.NewDense(200, 1, nil)
	for i := 0; i < 200; i++ {
		a, b := rng.NormFloat64(), rng.NormFloat64()
		x.SetRow(i, []float64{a, b})
		y.Set(i, 0, 3*a-2*b+1)
	}
	net := New([]int{2, 1}, Linear, rng)
	if l := net.Fit(x, y, MSE{}, 3000, 32, 0.05, rng); l > 1e-3 {
		t.Errorf("loss %v", l)
	}
	w := net.Layers[0]
	if math.Abs(w.W.At(0, 0)-3) > 0.05 || math.Abs(w.W.At(1, 0)+2) > 0.05 || math.Abs(w.B[0]-1) > 0.05 {
		t.Errorf("weights %v %v bias %v", w.W.At(0, 0), w.W.At(1, 0), w.B[0])
	}
}
