// This file implements the predictor: a softmax network for the next
// activity and a quantile network for the remaining time, with split
// conformal calibration of the interval.

package predict

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/knhk/knhk/runtime/export"
	"github.com/knhk/knhk/runtime/predict/nn"
)

// Options tune training.
type Options struct {
	Steps  int     // minibatch steps per network (default 1000)
	Batch  int     // minibatch size (default 256)
	Hidden int     // hidden units per layer (default 64)
	Level  float64 // interval coverage (default 0.9)
	// Ensemble is how many networks of each kind, from different random
	// starts, predict together (probabilities and quantiles averaged;
	// default 1: three gain about 0.001 in accuracy and 0.5% in MAE on
	// the shared logs for three times the training).
	Ensemble int
	Seed     uint64
}

func (o *Options) defaults() {
	if o.Steps == 0 {
		o.Steps = 1000
	}
	if o.Batch == 0 {
		o.Batch = 256
	}
	if o.Hidden == 0 {
		o.Hidden = 64
	}
	if o.Level == 0 {
		o.Level = 0.9
	}
	if o.Ensemble == 0 {
		o.Ensemble = 1
	}
}

// Model predicts the next activity and the remaining time of a case
// from its events so far.
type Model struct {
	Names []string
	enc   encoder
	next  []*nn.Net // classes: activities, then End
	rem   []*nn.Net // log1p(days) quantiles (1-level)/2, 0.5, (1+level)/2
	// Q widens the quantile interval (in log1p days) so that it covers
	// Level of the calibration prefixes (conformalised quantile
	// regression, Romano et al. 2019).
	Q     float64
	Level float64
	// MaxTarget is the largest training target: predictions are clamped
	// to it, since a network extrapolates wildly outside what it saw
	// and expm1 of that would be years.
	MaxTarget float64
}

// Prediction is what a model says about a prefix.
type Prediction struct {
	Next      string  // the likeliest next activity, "" for the end of the case
	NextProb  float64 // its probability
	Remaining time.Duration
	Low, High time.Duration // the interval
}

const day = 24 * time.Hour

// Train fits a model on the cases: the first 80% (by start) train the
// networks, the last 20% calibrate the interval.
func Train(names []string, cases []Case, o Options) (*Model, error) {
	o.defaults()
	if len(cases) < 5 {
		return nil, fmt.Errorf("%w: %d cases, want at least 5", ErrTooSmall, len(cases))
	}
	cs := slices.Clone(cases)
	slices.SortStableFunc(cs, func(a, b Case) int { return a.Times[0].Compare(b.Times[0]) })
	cut := len(cs) * 4 / 5
	fit, cal := cs[:cut], cs[cut:]
	m := &Model{Names: names, enc: encoder{A: len(names)}, Level: o.Level}
	// The next-activity network needs no calibration and learns from
	// every training case; the remaining-time network leaves the latest
	// fifth to calibrate its interval on.
	all := Prefixes(cs, true)
	timed := Prefixes(fit, false)
	calib := Prefixes(cal, false)
	if len(timed) == 0 || len(calib) == 0 {
		return nil, fmt.Errorf("%w: every case has a single event, nothing to learn about what comes next", ErrTooSmall)
	}
	m.enc.fit(all)
	rng := rand.New(rand.NewPCG(o.Seed, 0x6b6e686b))
	d := m.enc.dim()
	A := len(names)

	x := m.features(all)
	y := mat.NewDense(len(all), A+1, nil)
	for i, p := range all {
		y.Set(i, class(p.Next, A), 1)
	}
	for range o.Ensemble {
		n := nn.New([]int{d, o.Hidden, o.Hidden, A + 1}, nn.ReLU, rng)
		n.Fit(x, y, nn.SoftmaxCE{}, o.Steps, o.Batch, 0.003, rng)
		m.next = append(m.next, n)
	}

	lo, hi := (1-o.Level)/2, (1+o.Level)/2
	xt := m.features(timed)
	yt := mat.NewDense(len(timed), 3, nil)
	for i, p := range timed {
		v := target(p)
		yt.SetRow(i, []float64{v, v, v})
		m.MaxTarget = max(m.MaxTarget, v)
	}
	for range o.Ensemble {
		n := nn.New([]int{d, o.Hidden, o.Hidden, 3}, nn.ReLU, rng)
		n.Fit(xt, yt, nn.Pinball{Taus: []float64{lo, 0.5, hi}}, o.Steps, o.Batch, 0.003, rng)
		m.rem = append(m.rem, n)
	}

	// Conformal calibration: the score of a prefix is how far its
	// target lies outside the quantile interval (negative inside).
	out := m.quantiles(m.features(calib))
	scores := make([]float64, len(calib))
	for i, p := range calib {
		v := target(p)
		q := m.clamp(out.RawRowView(i))
		scores[i] = max(q[0]-v, v-q[2])
	}
	slices.Sort(scores)
	k := int(math.Ceil(float64(len(scores)+1)*o.Level)) - 1
	m.Q = scores[min(max(k, 0), len(scores)-1)]
	return m, nil
}

func class(next, A int) int {
	if next == End {
		return A
	}
	return next
}

// target is the regression target: log1p of the remaining days.
func target(p Prefix) float64 { return math.Log1p(p.Remaining / 86400) }

func fromTarget(v float64) time.Duration {
	return time.Duration(math.Max(math.Expm1(v), 0) * float64(day))
}

func (m *Model) features(ps []Prefix) *mat.Dense {
	x := mat.NewDense(len(ps), m.enc.dim(), nil)
	for i, p := range ps {
		m.enc.encode(x.RawRowView(i), p)
	}
	return x
}

// Predict predicts for each prefix.
func (m *Model) Predict(ps []Prefix) []Prediction {
	if len(ps) == 0 {
		return nil
	}
	x := m.features(ps)
	nx, rm := m.probs(x), m.quantiles(x)
	A := len(m.Names)
	out := make([]Prediction, len(ps))
	prob := make([]float64, A+1)
	for i := range ps {
		copy(prob, nx.RawRowView(i))
		best := 0
		for j := range prob {
			if prob[j] > prob[best] {
				best = j
			}
		}
		pr := &out[i]
		if best < A {
			pr.Next = m.Names[best]
		}
		pr.NextProb = prob[best]
		q := m.clamp(rm.RawRowView(i))
		pr.Remaining = fromTarget(q[1])
		pr.Low, pr.High = fromTarget(q[0]-m.Q), fromTarget(q[2]+m.Q)
		if pr.Remaining < pr.Low {
			pr.Remaining = pr.Low
		}
		if pr.Remaining > pr.High {
			pr.Remaining = pr.High
		}
	}
	return out
}

// PredictTrace predicts for a running case from its events so far
// (sorted by time; start events dropped when it has complete ones, as
// in training) and returns how many events it used. An activity the
// model never saw is an error naming it.
func (m *Model) PredictTrace(t export.Trace) (Prediction, int, error) {
	idx := map[string]int{}
	for i, n := range m.Names {
		idx[n] = i
	}
	one, err := FromLog(&export.Log{Traces: []export.Trace{t}}, 1)
	if err != nil {
		return Prediction{}, 0, err
	}
	c := one.Cases[0]
	for i, a := range c.Acts {
		n, ok := idx[one.Names[a]]
		if !ok {
			return Prediction{}, 0, fmt.Errorf("activity %q never happened in the cases the model learned from", one.Names[a])
		}
		c.Acts[i] = n
	}
	return m.Predict([]Prefix{{Case: &c, K: len(c.Acts)}})[0], len(c.Acts), nil
}

// probs returns the ensemble's mean next-activity probabilities.
func (m *Model) probs(x *mat.Dense) *mat.Dense {
	r, _ := x.Dims()
	c := len(m.Names) + 1
	out := mat.NewDense(r, c, nil)
	p := make([]float64, c)
	for _, n := range m.next {
		z := n.Forward(x)
		for i := 0; i < r; i++ {
			nn.Softmax(p, z.RawRowView(i))
			row := out.RawRowView(i)
			for j := range row {
				row[j] += p[j] / float64(len(m.next))
			}
		}
	}
	return out
}

// quantiles returns the ensemble's mean quantiles.
func (m *Model) quantiles(x *mat.Dense) *mat.Dense {
	r, _ := x.Dims()
	out := mat.NewDense(r, 3, nil)
	for _, n := range m.rem {
		q := n.Forward(x)
		q.Scale(1/float64(len(m.rem)), q)
		out.Add(out, q)
	}
	return out
}

// clamp keeps the quantiles in [0, MaxTarget] and in order.
func (m *Model) clamp(q []float64) []float64 {
	for j := range q {
		q[j] = min(max(q[j], 0), m.MaxTarget)
	}
	q[1] = max(q[1], q[0])
	q[2] = max(q[2], q[1])
	return q
}

// NextClass returns the index of the predicted class (len(Names) for
// the end) for each prefix.
func (m *Model) nextClass(ps []Prefix) []int {
	nx := m.probs(m.features(ps))
	out := make([]int, len(ps))
	for i := range ps {
		row := nx.RawRowView(i)
		for j := range row {
			if row[j] > row[out[i]] {
				out[i] = j
			}
		}
	}
	return out
}
