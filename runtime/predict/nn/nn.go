// Package nn is a small dense neural network on gonum matrices: the
// autoencoder of the anomaly detector. The predictor used it for the
// next activity and the remaining-time quantiles until gradient-boosted
// trees (runtime/predict/gbt) did better on the validation split of the
// shared logs (next activity 0.694 against 0.709 on bpi_12_w).
//
// A [Net] is a stack of fully connected layers trained by minibatch
// gradient descent with Adam on one of a few losses ([Loss]): softmax
// cross-entropy for classes, squared error for reconstruction, and the
// pinball loss for quantiles (the median with 0.5, which minimises the
// absolute error). It is small on purpose: tabular features, a few
// thousand to a few hundred thousand rows, seconds of training.
package nn

import (
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// Activation of a layer.
type Activation int

const (
	Linear Activation = iota
	ReLU
	Tanh
)

// Layer is one dense layer: out = act(in·W + b).
type Layer struct {
	W   *mat.Dense // in × out
	B   []float64
	Act Activation

	// Adam moments.
	mW, vW *mat.Dense
	mB, vB []float64
}

// Net is a stack of layers.
type Net struct {
	Layers []*Layer
	// Decay is decoupled weight decay (AdamW): each step shrinks the
	// weights by lr·Decay, so that the net cannot fit every row exactly
	// and fits the frequent ones best. 0 for none.
	Decay float64
	step  int
}

// New returns a net with the given layer sizes (input first), hidden
// layers with act and a linear output, weights drawn (He/Glorot
// scaled) from rng.
func New(sizes []int, act Activation, rng *rand.Rand) *Net {
	n := &Net{}
	for i := 0; i+1 < len(sizes); i++ {
		in, out := sizes[i], sizes[i+1]
		scale := math.Sqrt(2 / float64(in))
		if act == Tanh {
			scale = math.Sqrt(1 / float64(in))
		}
		w := make([]float64, in*out)
		for j := range w {
			w[j] = rng.NormFloat64() * scale
		}
		a := act
		if i+2 == len(sizes) {
			a = Linear
		}
		n.Layers = append(n.Layers, &Layer{
			W: mat.NewDense(in, out, w), B: make([]float64, out), Act: a,
			mW: mat.NewDense(in, out, nil), vW: mat.NewDense(in, out, nil),
			mB: make([]float64, out), vB: make([]float64, out),
		})
	}
	return n
}

// Forward returns the output of the net for the rows of x.
func (n *Net) Forward(x *mat.Dense) *mat.Dense {
	a := x
	for _, l := range n.Layers {
		a = l.forward(a)
	}
	return a
}

func (l *Layer) forward(in *mat.Dense) *mat.Dense {
	r, _ := in.Dims()
	_, c := l.W.Dims()
	z := mat.NewDense(r, c, nil)
	z.Mul(in, l.W)
	raw := z.RawMatrix()
	for i := 0; i < r; i++ {
		row := raw.Data[i*raw.Stride : i*raw.Stride+c]
		for j := range row {
			row[j] += l.B[j]
			switch l.Act {
			case ReLU:
				if row[j] < 0 {
					row[j] = 0
				}
			case Tanh:
				row[j] = math.Tanh(row[j])
			}
		}
	}
	return z
}

// Loss computes the loss of outputs against targets and its gradient
// with respect to the outputs (averaged over rows).
type Loss interface {
	Grad(out, target *mat.Dense) (loss float64, grad *mat.Dense)
}

// Train runs one minibatch step on the rows of x with targets y and
// returns the batch loss.
func (n *Net) Train(x, y *mat.Dense, loss Loss, lr float64) float64 {
	acts := []*mat.Dense{x}
	for _, l := range n.Layers {
		acts = append(acts, l.forward(acts[len(acts)-1]))
	}
	lv, g := loss.Grad(acts[len(acts)-1], y)
	n.step++
	for i := len(n.Layers) - 1; i >= 0; i-- {
		l := n.Layers[i]
		out := acts[i+1]
		// dZ = dA ⊙ act'(Z), from the activation's output.
		if l.Act != Linear {
			gr, ga := g.RawMatrix(), out.RawMatrix()
			rows, cols := g.Dims()
			for r := 0; r < rows; r++ {
				for c := 0; c < cols; c++ {
					a := ga.Data[r*ga.Stride+c]
					d := &gr.Data[r*gr.Stride+c]
					switch l.Act {
					case ReLU:
						if a <= 0 {
							*d = 0
						}
					case Tanh:
						*d *= 1 - a*a
					}
				}
			}
		}
		in := acts[i]
		ri, ci := l.W.Dims()
		dW := mat.NewDense(ri, ci, nil)
		dW.Mul(in.T(), g)
		dB := make([]float64, ci)
		gr := g.RawMatrix()
		rows, _ := g.Dims()
		for r := 0; r < rows; r++ {
			for c := 0; c < ci; c++ {
				dB[c] += gr.Data[r*gr.Stride+c]
			}
		}
		var next *mat.Dense
		if i > 0 {
			next = mat.NewDense(rows, ri, nil)
			next.Mul(g, l.W.T())
		}
		l.adam(dW, dB, lr, n.Decay, n.step)
		g = next
	}
	return lv
}

const (
	beta1 = 0.9
	beta2 = 0.999
	eps   = 1e-8
)

func (l *Layer) adam(dW *mat.Dense, dB []float64, lr, decay float64, step int) {
	c1 := 1 - math.Pow(beta1, float64(step))
	c2 := 1 - math.Pow(beta2, float64(step))
	w, g, m, v := l.W.RawMatrix(), dW.RawMatrix(), l.mW.RawMatrix(), l.vW.RawMatrix()
	rows, cols := l.W.Dims()
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			i := r*w.Stride + c
			gi := g.Data[r*g.Stride+c]
			m.Data[i] = beta1*m.Data[i] + (1-beta1)*gi
			v.Data[i] = beta2*v.Data[i] + (1-beta2)*gi*gi
			w.Data[i] -= lr*(m.Data[i]/c1)/(math.Sqrt(v.Data[i]/c2)+eps) + lr*decay*w.Data[i]
		}
	}
	for j, gj := range dB {
		l.mB[j] = beta1*l.mB[j] + (1-beta1)*gj
		l.vB[j] = beta2*l.vB[j] + (1-beta2)*gj*gj
		l.B[j] -= lr * (l.mB[j] / c1) / (math.Sqrt(l.vB[j]/c2) + eps)
	}
}

// Fit trains on all rows of x for steps minibatch steps of size batch,
// rows drawn without replacement per epoch, learning rate decaying
// linearly to a tenth. It returns the mean loss of the last tenth of
// the steps.
func (n *Net) Fit(x, y *mat.Dense, loss Loss, steps, batch int, lr float64, rng *rand.Rand) float64 {
	rows, xc := x.Dims()
	_, yc := y.Dims()
	batch = min(batch, rows)
	perm := rng.Perm(rows)
	pos := 0
	bx, by := mat.NewDense(batch, xc, nil), mat.NewDense(batch, yc, nil)
	tail, nt := 0.0, 0
	for s := 0; s < steps; s++ {
		for i := 0; i < batch; i++ {
			if pos == rows {
				rng.Shuffle(rows, func(a, b int) { perm[a], perm[b] = perm[b], perm[a] })
				pos = 0
			}
			bx.SetRow(i, x.RawRowView(perm[pos]))
			by.SetRow(i, y.RawRowView(perm[pos]))
			pos++
		}
		rate := lr * (1 - 0.9*float64(s)/float64(steps))
		l := n.Train(bx, by, loss, rate)
		if s >= steps-steps/10-1 {
			tail += l
			nt++
		}
	}
	return tail / float64(max(nt, 1))
}
