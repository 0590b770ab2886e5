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

// TestRoutingBenchmark runs each policy on five fixed seeds for
// 2×routingCases cases. After routingCases cases its greedy choices must
// close the gap to its threshold; then the best carrier of every context
// becomes three times slower, and it must be back at its threshold
// within driftRecovery cases.
func TestRoutingBenchmark(t *testing.T) {
	if testing.Short() {
		t.Skip("the routing benchmark learns from 180000 simulated cases")
	}
	seeds := uint64(5)
	if raceEnabled {
		seeds = 1
	}
	for _, alg := range Algorithms {
		for seed := uint64(1); seed <= seeds; seed++ {
			run := simulate(t, alg, seed, 2*routingCases, 100, true, routingThreshold[alg])
			before := run.closure[routingCases/100-1]
			t.Logf("%-14s seed %d: closure %.3f after %d cases, recovered %d cases after the drift", alg, seed, before, routingCases, run.recovered)
			if before < routingThreshold[alg] {
				t.Errorf("%s seed %d: gap closure %.3f after %d cases, want ≥ %.1f; curve %v", alg, seed, before, routingCases, routingThreshold[alg], fmtCurve(run.closure[:routingCases/100]))
			}
			if run.recovered < 0 || run.recovered > driftRecovery {
				t.Errorf("%s seed %d: recovered after %d cases (-1: never), want within %d; closure after the drift %v",
					alg, seed, run.recovered, driftRecovery, fmtCurve(run.closure[routingCases/100:]))
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

// driftRecovery is the number of cases after the drift within which
// each policy must be back at its gap closure threshold.
const driftRecovery = 2000
