// This file is the routing benchmark as a test: each policy must close
// most of the gap between random routing and the oracle within a stated
// number of cases, on five fixed seeds, and recover after the best
// carrier slows down.

package learn

import (
	"strconv"
	"testing"
)

// routingCases is the number of cases each policy learns from.
const routingCases = 3000

// routingThreshold is the gap closure each policy must reach.
var routingThreshold = map[Algorithm]float64{
	EpsilonGreedy: 0.9, UCB: 0.9, Thompson: 0.9, QLearning: 0.9,
	SARSA: 0.8, ActorCritic: 0.8,
}

func TestRoutingGapClosure(t *testing.T) {
	if testing.Short() {
		t.Skip("the routing benchmark learns from 90000 simulated cases")
	}
	for _, alg := range Algorithms {
		for seed := uint64(1); seed <= 5; seed++ {
			run := simulate(t, alg, seed, routingCases, routingCases/10, false, 0)
			got := run.closure[len(run.closure)-1]
			t.Logf("%-14s seed %d: closure %v (final %.3f, mean %.2f h per case)", alg, seed, fmtCurve(run.closure), got, run.meanHours)
			if got < routingThreshold[alg] {
				t.Errorf("%s seed %d: gap closure %.3f after %d cases, want ≥ %.1f", alg, seed, got, routingCases, routingThreshold[alg])
			}
		}
	}
}

func fmtCurve(c []float64) []string {
	out := make([]string, len(c))
	for i, x := range c {
		out[i] = strconv.FormatFloat(x, 'f', 2, 64)
	}
	return out
}
