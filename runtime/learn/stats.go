// This file implements the running reward statistics of one candidate in
// one state: an average that forgets at a bounded rate, so that a policy
// follows a service whose speed changes, and its variance.

package learn

import "math"

// arm is the reward statistics of one candidate in one state.
type arm struct {
	N    float64 `json:"n"`    // outcomes seen, capped at 1/minStep: the effective sample size
	Mean float64 `json:"mean"` // recency-weighted mean reward
	Var  float64 `json:"var"`  // recency-weighted variance
}

// add folds reward r in: a plain average over the first 1/minStep
// outcomes, then an exponentially weighted one with step minStep.
func (a *arm) add(r, minStep float64) {
	if a.N < 1/minStep {
		a.N++
	}
	step := 1 / a.N
	if step < minStep {
		step = minStep
	}
	d := r - a.Mean
	a.Mean += step * d
	a.Var = (1 - step) * (a.Var + step*d*d)
}

// finite reports whether a's numbers are usable.
func (a arm) finite() bool {
	return !math.IsNaN(a.N) && !math.IsInf(a.N, 0) && a.N >= 0 &&
		!math.IsNaN(a.Mean) && !math.IsInf(a.Mean, 0) &&
		!math.IsNaN(a.Var) && !math.IsInf(a.Var, 0) && a.Var >= 0
}

// rewardScale tracks the spread of all rewards of a route, the unit of
// the exploration bonuses: a reward in hours and one in cents explore
// alike.
type rewardScale struct {
	N    float64 `json:"n"`
	Mean float64 `json:"mean"`
	Var  float64 `json:"var"`
}

func (s *rewardScale) add(r float64) {
	s.N++
	d := r - s.Mean
	s.Mean += d / s.N
	s.Var += (d*(r-s.Mean) - s.Var) / s.N
}

// std returns the standard deviation of the rewards, 1 before there is
// any spread.
func (s rewardScale) std() float64 {
	if s.N < 2 || s.Var <= 1e-12 {
		return 1
	}
	return math.Sqrt(s.Var)
}
