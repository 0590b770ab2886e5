// This file implements the per-event half of the autoencoder: each
// event reconstructed from the activities around it.

package anomaly

import (
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/knhk/knhk/runtime/predict/nn"
)

// contextWindow is how many activities on each side of an event the
// context network sees.
const contextWindow = 2

// contextNet reconstructs each event of a trace, and its end, from the
// contextWindow activities before and after it (one-hot, with symbols
// for before the start, the end and after the end): a masked
// autoencoder over the events. An inserted activity is unlikely between
// its neighbours, a skipped one leaves neighbours that do not follow
// each other, a swapped, moved or repeated one sits among the wrong
// activities. The case features of [AE] count which pairs occur; this
// sees where, and what the next steps are.
type contextNet struct {
	acts int // activities 0..acts-1; acts is before the start, acts+1 the end, acts+2 after it
	nets []*nn.Net
}

func (c *contextNet) symbols() int { return c.acts + 3 }

func (c *contextNet) width() int { return 2 * contextWindow * c.symbols() }

// rows calls f with the context and the symbol of each event of t and
// of its end.
func (c *contextNet) rows(t []int, f func(in []float64, target int)) {
	n := len(t)
	at := func(i int) int {
		switch {
		case i < 0:
			return c.acts
		case i == n:
			return c.acts + 1
		case i > n:
			return c.acts + 2
		}
		return t[i]
	}
	s := c.symbols()
	for i := 0; i <= n; i++ {
		in := make([]float64, c.width())
		k := 0
		for d := -contextWindow; d <= contextWindow; d++ {
			if d != 0 {
				in[k*s+at(i+d)] = 1
				k++
			}
		}
		f(in, at(i))
	}
}

// trainContext trains the context networks on the events of traces.
func trainContext(traces [][]int, acts int, o Options) *contextNet {
	c := &contextNet{acts: acts}
	var xs [][]float64
	var ys []int
	for _, t := range traces {
		c.rows(t, func(in []float64, y int) { xs = append(xs, in); ys = append(ys, y) })
	}
	if len(xs) == 0 {
		return c
	}
	x := mat.NewDense(len(xs), c.width(), nil)
	y := mat.NewDense(len(xs), c.symbols(), nil)
	for i := range xs {
		x.SetRow(i, xs[i])
		y.Set(i, ys[i], 1)
	}
	for e := range o.Ensemble {
		rng := rand.New(rand.NewPCG(o.Seed, 0x637478+uint64(e)))
		net := nn.New([]int{c.width(), 32, c.symbols()}, nn.Tanh, rng)
		net.Fit(x, y, nn.SoftmaxCE{}, o.Steps, 64, 0.003, rng)
		c.nets = append(c.nets, net)
	}
	return c
}

// score returns each trace's worst event: the negative log of the
// probability the networks (averaged) give the event, or the end, that
// is there.
func (c *contextNet) score(traces [][]int) []float64 {
	out := make([]float64, len(traces))
	if len(c.nets) == 0 {
		return out
	}
	p := make([]float64, c.symbols())
	for i, t := range traces {
		x := mat.NewDense(len(t)+1, c.width(), nil)
		ys := make([]int, 0, len(t)+1)
		c.rows(t, func(in []float64, y int) { x.SetRow(len(ys), in); ys = append(ys, y) })
		prob := make([]float64, len(ys))
		for _, net := range c.nets {
			o := net.Forward(x)
			for j := range ys {
				nn.Softmax(p, o.RawRowView(j))
				prob[j] += p[ys[j]] / float64(len(c.nets))
			}
		}
		for _, q := range prob {
			out[i] = max(out[i], -math.Log(q+1e-9))
		}
	}
	return out
}
