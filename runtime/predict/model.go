// This file implements the predictor: gradient-boosted trees for the
// next activity (softmax) and for the median and the outer quantiles of
// the remaining time (pinball loss), with split conformal calibration
// of the interval.

package predict

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/knhk/knhk/runtime/export"
	"github.com/knhk/knhk/runtime/predict/gbt"
	"github.com/knhk/knhk/runtime/predict/nn"
)

// Options tune training.
type Options struct {
	// Steps is the most boosting rounds per model (default 1000); the
	// rounds used are chosen by early stopping on held-out cases.
	Steps int
	Level float64 // interval coverage (default 0.9)
	Seed  uint64
}

func (o *Options) defaults() {
	if o.Steps == 0 {
		o.Steps = 1000
	}
	if o.Level == 0 {
		o.Level = 0.9
	}
}

// params are the boosting settings, chosen on a validation split carved
// from the training cases of the shared logs (docs/mining.md): depth 3
// to 8 and leaves of 10 to 50 rows were within 1% of each other.
func params(o Options, rows int) gbt.Params {
	return gbt.Params{
		Rounds: o.Steps, LR: 0.05, Depth: 5, Lambda: 1, Subsample: 0.8, Patience: 50,
		// Small logs (a data directory's first cases) still split.
		MinLeaf: min(max(rows/100, 1), 20),
	}
}

// Model predicts the next activity and the remaining time of a case
// from its events so far.
type Model struct {
	Names []string
	enc   encoder
	next  *gbt.Model // classes: activities, then End
	// The remaining-time models predict log(1 + remaining days): the
	// median (the point prediction, minimising the absolute error) and
	// the (1-Level)/2 and (1+Level)/2 quantiles.
	median, lo, hi *gbt.Model
	// Q widens the quantile interval (in log(1 + days)) so that it
	// covers Level of the calibration prefixes (conformalised quantile
	// regression, Romano et al. 2019).
	Q     float64
	Level float64
	// MaxTarget is the largest training target: predictions are clamped
	// to it.
	MaxTarget float64
	// Rounds are the boosting rounds early stopping chose, for reports.
	NextRounds, MedianRounds int
}

// Prediction is what a model says about a prefix.
type Prediction struct {
	Next      string  // the likeliest next activity, "" for the end of the case
	NextProb  float64 // its probability
	Remaining time.Duration
	Low, High time.Duration // the interval
}

const day = 24 * time.Hour

// Train fits a model on the cases. The cases are ordered by start and
// cut into the first 70% (fit), the next 15% (stop) and the last 15%
// (calibrate), so that every choice is scored on cases later than those
// it learned from, as the model will be:
//
//   - the median and the next-activity models learn from fit, stop early
//     on the rest, and are refitted on all the cases with the rounds so
//     chosen (plus a fifth, for the larger set), so they know the most
//     recent behaviour;
//   - the quantile models learn from fit and stop early on stop, and
//     calibrate only the cases they never saw conformalise the interval.
func Train(names []string, cases []Case, o Options) (*Model, error) {
	o.defaults()
	if len(cases) < 5 {
		return nil, fmt.Errorf("%w: %d cases, want at least 5", ErrTooSmall, len(cases))
	}
	if !(o.Level > 0 && o.Level < 1) {
		return nil, fmt.Errorf("interval level %v is outside (0, 1)", o.Level)
	}
	cs := slices.Clone(cases)
	slices.SortStableFunc(cs, func(a, b Case) int { return a.Times[0].Compare(b.Times[0]) })
	a, b := len(cs)*70/100, len(cs)*85/100
	a = max(a, 1)
	b = max(b, a)
	fitC, stopC, calC := cs[:a], cs[a:b], cs[b:]
	all := Prefixes(cs, false)
	if len(all) == 0 {
		return nil, fmt.Errorf("%w: every case has a single event, nothing to learn about what comes next", ErrTooSmall)
	}
	m := &Model{Names: names, enc: encoder{A: len(names)}, Level: o.Level}
	rng := rand.New(rand.NewPCG(o.Seed, 0x6b6e686b))

	// Next activity.
	wholeFit, wholeRest, wholeAll := Prefixes(fitC, true), Prefixes(cs[a:], true), Prefixes(cs, true)
	A := len(names)
	p := params(o, len(wholeAll))
	nx := gbt.FitSoftmax(m.nextSet(wholeFit), classes(wholeFit, A), m.nextSet(wholeRest), classes(wholeRest, A), A+1, p, rng)
	m.NextRounds = len(nx.Trees)
	if len(wholeRest) > 0 {
		p.Rounds = max(m.NextRounds*6/5, 1)
	}
	m.next = gbt.FitSoftmax(m.nextSet(wholeAll), classes(wholeAll, A), nil, nil, A+1, p, rng)

	// Remaining time: the median.
	fit, rest := Prefixes(fitC, false), Prefixes(cs[a:], false)
	if len(fit) == 0 {
		fit = all
	}
	for _, q := range all {
		m.MaxTarget = max(m.MaxTarget, target(q))
	}
	p = params(o, len(all))
	// The features of fit serve the median and both interval models.
	fx, fy := m.set(fit), targets(fit)
	md := gbt.FitQuantile(fx, fy, m.set(rest), targets(rest), 0.5, p, rng)
	m.MedianRounds = len(md.Trees)
	if len(rest) > 0 {
		p.Rounds = max(m.MedianRounds*6/5, 1)
	}
	m.median = gbt.FitQuantile(m.set(all), targets(all), nil, nil, 0.5, p, rng)

	// The interval: quantiles from fit (early stopping on stop), then
	// calibrated on cal; where a set is empty (a few cases only) the
	// next earlier one stands in, and the interval is then calibrated
	// on cases the models saw.
	stop, calib := Prefixes(stopC, false), Prefixes(calC, false)
	if len(calib) == 0 {
		calib = stop
	}
	if len(calib) == 0 {
		calib = fit
	}
	p = params(o, len(fit))
	lo, hi := (1-o.Level)/2, (1+o.Level)/2
	sx, sy := m.set(stop), targets(stop)
	m.lo = gbt.FitQuantile(fx, fy, sx, sy, lo, p, rng)
	m.hi = gbt.FitQuantile(fx, fy, sx, sy, hi, p, rng)
	scores := make([]float64, len(calib))
	cx := m.set(calib)
	for i, q := range calib {
		l, _, h := m.quantiles(cx.RawRowView(i))
		v := target(q)
		scores[i] = max(l-v, v-h)
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

func classes(ps []Prefix, A int) []int {
	y := make([]int, len(ps))
	for i, p := range ps {
		y[i] = class(p.Next, A)
	}
	return y
}

// target is the regression target: log1p of the remaining days.
func target(p Prefix) float64 { return math.Log1p(p.Remaining / 86400) }

func targets(ps []Prefix) []float64 {
	y := make([]float64, len(ps))
	for i, p := range ps {
		y[i] = target(p)
	}
	return y
}

func fromTarget(v float64) time.Duration {
	return time.Duration(math.Max(math.Expm1(v), 0) * float64(day))
}

// set returns the features of the prefixes, one row each; nil for none.
func (m *Model) set(ps []Prefix) *mat.Dense {
	if len(ps) == 0 {
		return nil
	}
	return mat.NewDense(len(ps), m.enc.dim(), m.enc.rawSet(ps))
}

// nextSet returns the features of the prefixes that the next-activity
// model uses: the first nextDim columns of set (a view). The model then
// predicts from a whole row, whose first columns these are.
func (m *Model) nextSet(ps []Prefix) *mat.Dense {
	x := m.set(ps)
	if x == nil {
		return nil
	}
	return x.Slice(0, len(ps), 0, m.enc.nextDim()).(*mat.Dense)
}

// quantiles returns the interval models' quantiles and the median for
// one row, clamped to [0, MaxTarget].
func (m *Model) quantiles(x []float64) (lo, med, hi float64) {
	out := []float64{0}
	m.lo.Predict(out, x)
	lo = out[0]
	m.median.Predict(out, x)
	med = out[0]
	m.hi.Predict(out, x)
	hi = out[0]
	c := func(v float64) float64 { return min(max(v, 0), m.MaxTarget) }
	return c(lo), c(med), c(hi)
}

// Predict predicts for each prefix.
func (m *Model) Predict(ps []Prefix) []Prediction {
	x := m.set(ps)
	A := len(m.Names)
	out := make([]Prediction, len(ps))
	prob := make([]float64, A+1)
	for i := range ps {
		row := x.RawRowView(i)
		m.next.Predict(prob, row)
		nn.Softmax(prob, slices.Clone(prob))
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
		lo, med, hi := m.quantiles(row)
		pr.Low, pr.High = fromTarget(lo-m.Q), fromTarget(max(hi, lo)+m.Q)
		pr.Remaining = min(max(fromTarget(med), pr.Low), pr.High)
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

// nextClass returns the index of the predicted class (len(Names) for
// the end) for each prefix.
func (m *Model) nextClass(ps []Prefix) []int {
	x := m.set(ps)
	out := make([]int, len(ps))
	prob := make([]float64, len(m.Names)+1)
	for i := range ps {
		m.next.Predict(prob, x.RawRowView(i))
		for j := range prob {
			if prob[j] > prob[out[i]] {
				out[i] = j
			}
		}
	}
	return out
}
