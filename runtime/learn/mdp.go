// This file implements value iteration on a finite Markov decision
// process: the exact planner the tests hold the learners against, and the
// oracle of the routing benchmark's environments.

package learn

import "math"

// Outcome is one possible result of an action: next state S with
// probability P and reward R.
type Outcome struct {
	P float64
	S int
	R float64
}

// MDP is a finite Markov decision process. Terminal states have value 0.
type MDP struct {
	States, Actions int
	Step            func(s, a int) []Outcome
	Terminal        func(s int) bool
}

// ValueIteration returns the optimal values and a greedy policy of m with
// discount gamma: after exactly horizon backups when horizon > 0 (the
// values of the best policy over that many steps), otherwise until no
// value changes by more than 1e-12 (at most 100000 sweeps).
func ValueIteration(m MDP, gamma float64, horizon int) (v []float64, policy []int) {
	v = make([]float64, m.States)
	next := make([]float64, m.States)
	policy = make([]int, m.States)
	sweeps := horizon
	if horizon <= 0 {
		sweeps = 100000
	}
	for range sweeps {
		delta := 0.0
		for s := range m.States {
			if m.Terminal != nil && m.Terminal(s) {
				next[s] = 0
				continue
			}
			best, bestA := math.Inf(-1), 0
			for a := range m.Actions {
				q := 0.0
				for _, o := range m.Step(s, a) {
					q += o.P * (o.R + gamma*v[o.S])
				}
				if q > best+1e-12 {
					best, bestA = q, a
				}
			}
			next[s], policy[s] = best, bestA
			delta = math.Max(delta, math.Abs(best-v[s]))
		}
		v, next = next, v
		if horizon <= 0 && delta < 1e-12 {
			break
		}
	}
	return v, policy
}
