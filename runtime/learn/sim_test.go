// This file implements the routing benchmark's simulated workflow: a
// route with three candidate carriers whose durations are lognormal with
// a median that depends on the region and on the size of the order, and
// whose calls fail (and are retried, so that a failure costs time) at a
// rate that depends on them too. The reward is minus the hours the call
// took. Because the simulator knows every distribution, the expected
// duration of any policy is computed exactly rather than estimated.

package learn

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/knhk/knhk/runtime/eval"
)

var simRegions = []string{"eu", "us", "asia"}

// simMedian[region][large][candidate] is the median hours of one attempt;
// simFail the probability that an attempt fails.
var simMedian = [3][2][3]float64{
	{{2, 3, 4.5}, {7, 4, 5.5}},
	{{5, 2.5, 3.5}, {3, 4.5, 6}},
	{{6, 4, 2.5}, {5, 7, 3}},
}

var simFail = [3][2][3]float64{
	{{0.05, 0.1, 0.05}, {0.2, 0.05, 0.1}},
	{{0.1, 0.05, 0.2}, {0.05, 0.15, 0.05}},
	{{0.1, 0.1, 0.05}, {0.1, 0.2, 0.3}},
}

// simSigma is the spread of the log of an attempt's duration.
const simSigma = 0.5

// simContext is one order: its region and its number of units (1-9 for
// a small order, 20-200 for a large one, half of each).
type simContext struct {
	region int
	units  int
}

func (c simContext) large() int {
	if c.units >= 20 {
		return 1
	}
	return 0
}

func (c simContext) features() []any { return []any{simRegions[c.region], int64(c.units)} }

// simWorld is the simulator, possibly after its drift.
type simWorld struct {
	drifted bool
}

// cost returns the expected hours of candidate k for c: the mean of one
// lognormal attempt times the expected number of attempts.
func (w simWorld) cost(c simContext, k int) float64 {
	m := simMedian[c.region][c.large()][k] * math.Exp(simSigma*simSigma/2)
	if w.drifted && k == w.oracle(c, false) {
		m *= 3 // the drift: the best carrier becomes three times slower
	}
	return m / (1 - simFail[c.region][c.large()][k])
}

// oracle returns the best candidate for c before (or after) the drift.
func (w simWorld) oracle(c simContext, drifted bool) int {
	best := 0
	for k := 1; k < 3; k++ {
		if (simWorld{}).baseCost(c, k) < (simWorld{}).baseCost(c, best) {
			best = k
		}
	}
	if !drifted {
		return best
	}
	d := simWorld{drifted: true}
	b := 0
	for k := 1; k < 3; k++ {
		if d.cost(c, k) < d.cost(c, b) {
			b = k
		}
	}
	return b
}

func (simWorld) baseCost(c simContext, k int) float64 {
	return simMedian[c.region][c.large()][k] * math.Exp(simSigma*simSigma/2) / (1 - simFail[c.region][c.large()][k])
}

// sample draws the hours candidate k takes for c, retries included.
func (w simWorld) sample(c simContext, k int, r *rand.Rand) float64 {
	med := simMedian[c.region][c.large()][k]
	if w.drifted && k == w.oracle(c, false) {
		med *= 3
	}
	total := 0.0
	for {
		total += med * math.Exp(simSigma*r.NormFloat64())
		if r.Float64() >= simFail[c.region][c.large()][k] {
			return total
		}
	}
}

// drawContext draws an order.
func drawContext(r *rand.Rand) simContext {
	c := simContext{region: r.IntN(3)}
	if r.IntN(2) == 0 {
		c.units = 1 + r.IntN(9)
	} else {
		c.units = 20 + r.IntN(181)
	}
	return c
}

// everyContext calls fn with each context and its probability.
func everyContext(fn func(c simContext, p float64)) {
	for region := range 3 {
		for u := 1; u <= 9; u++ {
			fn(simContext{region, u}, 1.0/3/2/9)
		}
		for u := 20; u <= 200; u++ {
			fn(simContext{region, u}, 1.0/3/2/181)
		}
	}
}

// expected returns the expected hours per case of choosing by pick.
func (w simWorld) expected(pick func(c simContext) int) float64 {
	var d float64
	everyContext(func(c simContext, p float64) { d += p * costOf(w, c, pick(c)) })
	return d
}

// closure returns the gap closure (D_random - D_learned) / (D_random -
// D_oracle) of policy p's greedy choices in w.
func (w simWorld) closure(t testing.TB, p *Policy) float64 {
	random := w.expected(func(c simContext) int { return -1 })
	oracle := w.expected(func(c simContext) int { return w.oracle(c, w.drifted) })
	learned := w.expected(func(c simContext) int {
		k, err := p.Greedy("carrier", eval.Values(c.features()...), nil)
		if err != nil {
			t.Fatal(err)
		}
		return k
	})
	return (random - learned) / (random - oracle)
}

func init() {
	// cost(c, -1) is the uniformly random policy's expected cost.
	costOf = func(w simWorld, c simContext, k int) float64 {
		if k >= 0 {
			return w.cost(c, k)
		}
		return (w.cost(c, 0) + w.cost(c, 1) + w.cost(c, 2)) / 3
	}
}

var costOf func(w simWorld, c simContext, k int) float64

// simRun is the outcome of one simulated run.
type simRun struct {
	closure   []float64 // gap closure after each checkpoint
	every     int       // cases between checkpoints
	recovered int       // cases after the drift until the closure is back at the threshold; -1 never
	meanHours float64   // mean hours per case over the run, exploration included
}

// simulate runs cases through a seeded policy of algorithm alg, one at a
// time (each outcome learned before the next decision, so the run is
// reproducible), checking the closure every `every` cases. With drift,
// the best carrier slows down after the first half.
func simulate(t testing.TB, alg Algorithm, seed uint64, cases, every int, drift bool, threshold float64) simRun {
	return simulateCfg(t, RouteConfig{Policy: alg}, seed, cases, every, drift, threshold)
}

// simulateCfg is simulate with the route's whole configuration.
func simulateCfg(t testing.TB, cfg RouteConfig, seed uint64, cases, every int, drift bool, threshold float64) simRun {
	p, err := Open(nil, Options{Seed: seed, Config: &Config{Default: cfg}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	return simulateWith(t, p, seed, cases, every, drift, threshold)
}

// simulateInto runs cases through p without checkpoints.
func simulateInto(t testing.TB, p *Policy, seed uint64, cases int) {
	simulateWith(t, p, seed, cases, cases, false, 0)
}

// simulateWith runs cases through policy p.
func simulateWith(t testing.TB, p *Policy, seed uint64, cases, every int, drift bool, threshold float64) simRun {
	r := rand.New(rand.NewPCG(seed, 99))
	ctx := context.Background()
	var w simWorld
	out := simRun{every: every, recovered: -1}
	total := 0.0
	for i := 1; i <= cases; i++ {
		if drift && i == cases/2+1 {
			w.drifted = true
		}
		c := drawContext(r)
		k, err := p.Choose(ctx, "carrier", eval.Values(c.features()...), 3)
		if err != nil {
			t.Fatal(err)
		}
		h := w.sample(c, k, r)
		total += h
		p.Learn("carrier", eval.Values(c.features()...), k, -h, true)
		if err := p.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if i%every == 0 {
			cl := w.closure(t, p)
			out.closure = append(out.closure, cl)
			if drift && w.drifted && out.recovered < 0 && cl >= threshold {
				out.recovered = i - cases/2
			}
		}
	}
	out.meanHours = total / float64(cases)
	return out
}
