// This file implements the actor-critic's function approximator: one
// tanh hidden layer shared by a softmax policy head (the actor) and a
// head with the value of each action (the critic), its parameters one
// flat vector viewed as gonum matrices, and Adam.

package learn

import (
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// netShape is the sizes of a network: in inputs, h hidden units, k
// actions.
type netShape struct{ in, h, k int }

// size returns the number of parameters.
func (s netShape) size() int { return s.h*s.in + s.h + 2*(s.k*s.h+s.k) }

// net is a view of a parameter vector as the network's layers. The
// matrices share theta's memory, so a copy of theta is a copy of the
// network.
type net struct {
	shape netShape
	theta []float64
	w1    *mat.Dense // h×in
	b1    *mat.VecDense
	wp    *mat.Dense // k×h
	bp    *mat.VecDense
	wq    *mat.Dense // k×h
	bq    *mat.VecDense
}

func viewNet(s netShape, theta []float64) *net {
	n := &net{shape: s, theta: theta}
	o := 0
	take := func(m int) []float64 { v := theta[o : o+m : o+m]; o += m; return v }
	n.w1 = mat.NewDense(s.h, s.in, take(s.h*s.in))
	n.b1 = mat.NewVecDense(s.h, take(s.h))
	n.wp = mat.NewDense(s.k, s.h, take(s.k*s.h))
	n.bp = mat.NewVecDense(s.k, take(s.k))
	n.wq = mat.NewDense(s.k, s.h, take(s.k*s.h))
	n.bq = mat.NewVecDense(s.k, take(s.k))
	return n
}

// initNet returns a network with small random weights (scaled by fan-in)
// and zero biases.
func initNet(s netShape, r *rand.Rand) *net {
	n := viewNet(s, make([]float64, s.size()))
	for i := range s.h {
		for j := range s.in {
			n.w1.Set(i, j, r.NormFloat64()/math.Sqrt(float64(s.in)))
		}
	}
	for i := range s.k {
		for j := range s.h {
			n.wp.Set(i, j, 0.1*r.NormFloat64()/math.Sqrt(float64(s.h)))
		}
	}
	return n
}

// activations are the intermediate values of one forward pass.
type activations struct {
	h  *mat.VecDense // hidden layer
	pi []float64     // action probabilities
	q  []float64     // action values
}

// forward evaluates the network on x.
func (n *net) forward(x []float64) activations {
	xv := mat.NewVecDense(len(x), x)
	h := mat.NewVecDense(n.shape.h, nil)
	h.MulVec(n.w1, xv)
	h.AddVec(h, n.b1)
	for i := range n.shape.h {
		h.SetVec(i, math.Tanh(h.AtVec(i)))
	}
	z := mat.NewVecDense(n.shape.k, nil)
	z.MulVec(n.wp, h)
	z.AddVec(z, n.bp)
	pi := softmax(z.RawVector().Data)
	q := mat.NewVecDense(n.shape.k, nil)
	q.MulVec(n.wq, h)
	q.AddVec(q, n.bq)
	return activations{h: h, pi: pi, q: q.RawVector().Data}
}

// softmax returns the softmax of z.
func softmax(z []float64) []float64 {
	out := make([]float64, len(z))
	m := floats.Max(z)
	for i, x := range z {
		out[i] = math.Exp(x - m)
	}
	floats.Scale(1/floats.Sum(out), out)
	return out
}

// sample is one training example: input x, action a taken with its
// (normalised) reward target, and the weight of the example.
type sample struct {
	x      []float64
	a      int
	target float64
	w      float64
}

// backward adds to grad (shaped like theta) the gradient of the loss of
// s. The critic regresses Q(x,a) on the reward: w·(Q(x,a) - target)²/2.
// The actor follows the gradient of the expected value of its choice
// under the critic, Σ_a π(a|x)·Q(x,a), over every action at once (a
// "mean actor-critic": far less noisy than the gradient of the one
// action taken, and needing no importance ratio for replayed choices),
// plus β times the policy's entropy. It returns the critic's error.
func (n *net) backward(s sample, beta float64, grad *net) float64 {
	act := n.forward(s.x)
	k, hN := n.shape.k, n.shape.h
	var ent, mean float64
	for i, p := range act.pi {
		if p > 0 {
			ent -= p * math.Log(p)
		}
		mean += p * act.q[i]
	}
	dz := make([]float64, k)
	for i, p := range act.pi {
		dz[i] = -s.w * p * (act.q[i] - mean)
		if p > 0 {
			dz[i] += beta * p * (math.Log(p) + ent)
		}
	}
	delta := act.q[s.a] - s.target
	dq := make([]float64, k)
	dq[s.a] = s.w * math.Max(-huber, math.Min(huber, delta))
	dzv := mat.NewVecDense(k, dz)
	dqv := mat.NewVecDense(k, dq)
	// Head gradients.
	grad.wp.RankOne(grad.wp, 1, dzv, act.h)
	grad.bp.AddVec(grad.bp, dzv)
	grad.wq.RankOne(grad.wq, 1, dqv, act.h)
	grad.bq.AddVec(grad.bq, dqv)
	// Back through the hidden layer: the critic's error only, so that
	// the actor's objective does not bend the features its critic
	// reads.
	dh := mat.NewVecDense(hN, nil)
	dh.MulVec(n.wq.T(), dqv)
	for i := range hN {
		h := act.h.AtVec(i)
		dh.SetVec(i, dh.AtVec(i)*(1-h*h))
	}
	grad.w1.RankOne(grad.w1, 1, dh, mat.NewVecDense(len(s.x), s.x))
	grad.b1.AddVec(grad.b1, dh)
	return -delta
}

// huber bounds the critic's error in its gradient (a Huber loss): a
// duration far out in the tail of its distribution moves the critic as
// much as one huber standard deviations away, no more.
const huber = 3.0

// adam is the Adam optimiser's state for a parameter vector.
type adam struct {
	m, v []float64
	t    int
	lr   float64
}

func newAdam(size int, lr float64) *adam {
	return &adam{m: make([]float64, size), v: make([]float64, size), lr: lr}
}

// step moves theta against grad, clipping the gradient's norm to 5 so
// that one odd outcome cannot wreck the network.
func (o *adam) step(theta, grad []float64) {
	if g := floats.Norm(grad, 2); g > 5 {
		floats.Scale(5/g, grad)
	}
	const b1, b2, eps = 0.9, 0.999, 1e-8
	o.t++
	c1 := 1 - math.Pow(b1, float64(o.t))
	c2 := 1 - math.Pow(b2, float64(o.t))
	for i, g := range grad {
		o.m[i] = b1*o.m[i] + (1-b1)*g
		o.v[i] = b2*o.v[i] + (1-b2)*g*g
		theta[i] -= o.lr * (o.m[i] / c1) / (math.Sqrt(o.v[i]/c2) + eps)
	}
}
