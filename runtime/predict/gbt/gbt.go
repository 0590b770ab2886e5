// Package gbt is gradient-boosted regression trees on binned features
// (rows of gonum matrices): the remaining-time and next-activity models
// of the predictor.
//
// Trees are grown depth-first to a fixed depth on quantile bins of the
// features (at most 255 per feature) from first- and second-order
// gradients. Two losses: the pinball loss of one quantile (τ = 0.5 is
// the absolute error, whose minimiser is the median; the leaves are set
// to the τ-quantile of the residuals, as Friedman's LAD boosting does),
// and softmax cross-entropy over classes (one tree per class and round,
// Newton leaves). Training stops early when the loss on a validation
// set has not improved for a number of rounds, and keeps the best
// round. It is small on purpose: tabular features, up to some hundred
// thousand rows, seconds of training on one core.
package gbt

import (
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/mat"

	"github.com/knhk/knhk/runtime/predict/nn"
)

// Params tune boosting.
type Params struct {
	Rounds    int     // boosting rounds at most
	LR        float64 // shrinkage of each tree
	Depth     int     // tree depth
	MinLeaf   int     // rows a leaf needs at least
	Lambda    float64 // L2 penalty on leaf values (Newton leaves)
	Subsample float64 // share of the rows each tree sees (0 or 1: all)
	Patience  int     // rounds without improvement on the validation set before stopping
}

// Model is a boosted ensemble with one output per class (one for
// regression).
type Model struct {
	Base  []float64 // the initial score of each output
	Trees [][]*Tree // per round, one tree per output
	LR    float64
	Bins  *Bins
}

// Outputs returns how many outputs the model has.
func (m *Model) Outputs() int { return len(m.Base) }

// Predict writes the model's outputs for one row of raw features to out.
func (m *Model) Predict(out, x []float64) {
	copy(out, m.Base)
	for _, round := range m.Trees {
		for k, t := range round {
			out[k] += m.LR * t.Predict(x)
		}
	}
}

// rows returns the number of rows of x, 0 for nil.
func rows(x *mat.Dense) int {
	if x == nil {
		return 0
	}
	r, _ := x.Dims()
	return r
}

// FitQuantile fits the τ-quantile of y given x; with a validation set
// (rows(val) > 0) it stops early on the validation pinball loss.
func FitQuantile(train *mat.Dense, y []float64, val *mat.Dense, vy []float64, tau float64, p Params, rng *rand.Rand) *Model {
	n := rows(train)
	m := &Model{Base: []float64{quantile(slices.Clone(y), tau)}, LR: p.LR}
	F := make([]float64, n)
	for i := range F {
		F[i] = m.Base[0]
	}
	g, h := make([]float64, n), make([]float64, n)
	for i := range h {
		h[i] = 1
	}
	resid := make([]float64, 0, n)
	leaf := func(rows []int) float64 {
		resid = resid[:0]
		for _, r := range rows {
			resid = append(resid, y[r]-F[r])
		}
		return quantile(resid, tau)
	}
	loss := func(t, f float64) float64 {
		if d := t - f; d >= 0 {
			return tau * d
		} else {
			return (tau - 1) * d
		}
	}
	vF := make([]float64, rows(val))
	for i := range vF {
		vF[i] = m.Base[0]
	}
	st := newStopper(p.Patience)
	gr := newGrower(train, p)
	for round := 0; round < p.Rounds; round++ {
		for i := range g {
			if y[i] > F[i] {
				g[i] = -tau
			} else {
				g[i] = 1 - tau
			}
		}
		t := gr.grow(gr.sample(n, p.Subsample, rng), g, h, leaf)
		m.Trees = append(m.Trees, []*Tree{t})
		for i := range F {
			F[i] += p.LR * t.Predict(train.RawRowView(i))
		}
		if len(vF) == 0 {
			continue
		}
		l := 0.0
		for i := range vF {
			vF[i] += p.LR * t.Predict(val.RawRowView(i))
			l += loss(vy[i], vF[i])
		}
		if st.stop(l, len(m.Trees)) {
			break
		}
	}
	if len(vF) > 0 {
		m.Trees = m.Trees[:st.best]
	}
	m.Bins = gr.bins
	return m
}

// FitSoftmax fits class probabilities (classes 0 to k-1, as softmax of
// the outputs); with a validation set it stops early on the validation
// cross-entropy.
func FitSoftmax(train *mat.Dense, y []int, val *mat.Dense, vy []int, k int, p Params, rng *rand.Rand) *Model {
	n := rows(train)
	m := &Model{Base: make([]float64, k), LR: p.LR}
	prior := make([]float64, k)
	for _, c := range y {
		prior[c]++
	}
	for c := range prior {
		m.Base[c] = math.Log((prior[c] + 1) / float64(n+k))
	}
	F := make([]float64, n*k)
	for i := range n {
		copy(F[i*k:], m.Base)
	}
	vF := make([]float64, rows(val)*k)
	for i := range rows(val) {
		copy(vF[i*k:], m.Base)
	}
	g, h := make([][]float64, k), make([][]float64, k)
	for c := range k {
		g[c], h[c] = make([]float64, n), make([]float64, n)
	}
	pr := make([]float64, k)
	st := newStopper(p.Patience)
	gr := newGrower(train, p)
	for round := 0; round < p.Rounds; round++ {
		for i := range n {
			nn.Softmax(pr, F[i*k:(i+1)*k])
			for c := range k {
				t := 0.0
				if y[i] == c {
					t = 1
				}
				g[c][i] = pr[c] - t
				h[c][i] = max(pr[c]*(1-pr[c]), 1e-6)
			}
		}
		sample := gr.sample(n, p.Subsample, rng)
		trees := make([]*Tree, k)
		for c := range k {
			trees[c] = gr.grow(slices.Clone(sample), g[c], h[c], nil)
		}
		m.Trees = append(m.Trees, trees)
		for i := range n {
			x := train.RawRowView(i)
			for c, t := range trees {
				F[i*k+c] += p.LR * t.Predict(x)
			}
		}
		if len(vF) == 0 {
			continue
		}
		l := 0.0
		for i := range rows(val) {
			x := val.RawRowView(i)
			for c, t := range trees {
				vF[i*k+c] += p.LR * t.Predict(x)
			}
			nn.Softmax(pr, vF[i*k:(i+1)*k])
			l -= math.Log(pr[vy[i]] + 1e-12)
		}
		if st.stop(l, len(m.Trees)) {
			break
		}
	}
	if len(vF) > 0 {
		m.Trees = m.Trees[:st.best]
	}
	m.Bins = gr.bins
	return m
}

func newGrower(train *mat.Dense, p Params) *grower {
	b := NewBins(train)
	_, cols := train.Dims()
	gr := &grower{
		bins: b, cols: cols, binned: b.apply(train),
		depth: p.Depth, minLeaf: max(p.MinLeaf, 1), lambda: p.Lambda,
	}
	for _, c := range b.Cuts {
		gr.off = append(gr.off, gr.total)
		gr.total += len(c) + 1
	}
	return gr
}

// sample returns the rows a tree sees: all, or a random share.
func (gr *grower) sample(n int, share float64, rng *rand.Rand) []int {
	if share <= 0 || share >= 1 {
		rows := make([]int, n)
		for i := range rows {
			rows[i] = i
		}
		return rows
	}
	rows := rng.Perm(n)[:max(int(share*float64(n)), 1)]
	return rows
}

// stopper remembers the best validation loss and says when to stop.
type stopper struct {
	patience int
	best     int // rounds of the best model
	loss     float64
}

func newStopper(patience int) *stopper {
	return &stopper{patience: max(patience, 1), loss: math.Inf(1)}
}

func (s *stopper) stop(loss float64, rounds int) bool {
	if loss < s.loss {
		s.loss, s.best = loss, rounds
	}
	return rounds-s.best >= s.patience
}

// quantile returns the τ-quantile of v (reordering v).
func quantile(v []float64, tau float64) float64 {
	if len(v) == 0 {
		return 0
	}
	k := min(max(int(math.Ceil(tau*float64(len(v))))-1, 0), len(v)-1)
	return nth(v, k)
}

// nth returns the k-th smallest element of v, partially sorting it.
func nth(v []float64, k int) float64 {
	lo, hi := 0, len(v)-1
	for lo < hi {
		p := v[(lo+hi)/2]
		i, j := lo, hi
		for i <= j {
			for v[i] < p {
				i++
			}
			for v[j] > p {
				j--
			}
			if i <= j {
				v[i], v[j] = v[j], v[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return v[k]
		}
	}
	return v[k]
}
