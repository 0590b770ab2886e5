// This file implements the losses.

package nn

import (
	"math"

	"gonum.org/v1/gonum/mat"
)

// SoftmaxCE is the cross-entropy of the softmax of the outputs against
// one-hot (or probability) targets.
type SoftmaxCE struct{}

func (SoftmaxCE) Grad(out, y *mat.Dense) (float64, *mat.Dense) {
	r, c := out.Dims()
	g := mat.NewDense(r, c, nil)
	loss := 0.0
	p := make([]float64, c)
	for i := 0; i < r; i++ {
		Softmax(p, out.RawRowView(i))
		yr := y.RawRowView(i)
		for j := 0; j < c; j++ {
			if yr[j] > 0 {
				loss -= yr[j] * math.Log(p[j]+1e-12)
			}
			g.Set(i, j, (p[j]-yr[j])/float64(r))
		}
	}
	return loss / float64(r), g
}

// Softmax writes the softmax of z to p.
func Softmax(p, z []float64) {
	m := math.Inf(-1)
	for _, v := range z {
		m = max(m, v)
	}
	s := 0.0
	for j, v := range z {
		p[j] = math.Exp(v - m)
		s += p[j]
	}
	for j := range p {
		p[j] /= s
	}
}

// MSE is the mean squared error over all outputs.
type MSE struct{}

func (MSE) Grad(out, y *mat.Dense) (float64, *mat.Dense) {
	r, c := out.Dims()
	g := mat.NewDense(r, c, nil)
	g.Sub(out, y)
	loss := 0.0
	raw := g.RawMatrix()
	n := float64(r * c)
	for i := 0; i < r; i++ {
		row := raw.Data[i*raw.Stride : i*raw.Stride+c]
		for j, d := range row {
			loss += d * d
			row[j] = 2 * d / n
		}
	}
	return loss / n, g
}

// Pinball is the quantile loss: output j estimates the Taus[j] quantile
// of target column j (0.5: the median, minimising absolute error).
type Pinball struct{ Taus []float64 }

func (p Pinball) Grad(out, y *mat.Dense) (float64, *mat.Dense) {
	r, c := out.Dims()
	g := mat.NewDense(r, c, nil)
	loss := 0.0
	for i := 0; i < r; i++ {
		o, t := out.RawRowView(i), y.RawRowView(i)
		for j := 0; j < c; j++ {
			d := t[j] - o[j]
			tau := p.Taus[j]
			if d >= 0 {
				loss += tau * d
				g.Set(i, j, -tau/float64(r))
			} else {
				loss -= (1 - tau) * d
				g.Set(i, j, (1-tau)/float64(r))
			}
		}
	}
	return loss / float64(r), g
}
