// This file implements the two sides of a route's policy: the agent,
// which the route's trainer goroutine alone updates, and the immutable
// snapshot it publishes, which any number of decisions read at once.

package learn

import (
	"math/rand/v2"
)

// rng is what a decision or an update draws from.
type rng interface {
	Float64() float64
	IntN(n int) int
	NormFloat64() float64
}

// globalRand draws from math/rand/v2's per-thread generators, which need
// no lock: the hot path of an unseeded policy.
type globalRand struct{}

func (globalRand) Float64() float64     { return rand.Float64() }
func (globalRand) IntN(n int) int       { return rand.IntN(n) }
func (globalRand) NormFloat64() float64 { return rand.NormFloat64() }

// experience is one decision of a route and its outcome.
type experience struct {
	in     input
	action int
	reward float64
}

// snapshot is an immutable policy: a decision reads it without locks.
type snapshot interface {
	// choose picks one of n candidates, exploring.
	choose(in input, n int, r rng) int
	// greedy picks the candidate the policy believes best.
	greedy(in input, n int) int
	// values returns the policy's score of each candidate in state in
	// (mean reward, or action probability for the actor-critic), for
	// status displays.
	values(in input, n int) []float64
	// states lists the states the policy has seen, for status.
	states() []input
}

// agent is the mutable side of a policy, owned by one trainer goroutine.
type agent interface {
	// learn folds one experience in.
	learn(ex experience, r *rand.Rand)
	// publish returns a snapshot of the policy as it is now.
	publish() snapshot
	// spread returns the standard deviation of the rewards seen.
	spread() float64
	// save returns the agent's persistent state.
	save() *agentState
}

// agentState is the persistent part of an agent (see persist.go).
type agentState struct {
	Table  map[string][]arm `json:"table,omitempty"`
	Scale  rewardScale      `json:"scale"`
	Net    []float64        `json:"net,omitempty"`
	Seen   [][]string       `json:"seen,omitempty"`   // the actor-critic's states (their tokens), for status
	Tokens []string         `json:"tokens,omitempty"` // the actor-critic's input slots
}

// newAgent returns an agent for cfg over n candidates, restored from st
// when st is not nil.
func newAgent(cfg RouteConfig, n int, st *agentState, r *rand.Rand) agent {
	if cfg.Policy == ActorCritic {
		return newACAgent(cfg, n, st, r)
	}
	return newTableAgent(cfg, n, st)
}
