// This file implements the tabular policies of a route: the contextual
// bandits (ε-greedy, UCB, Thompson sampling) and Q-learning and SARSA
// over the discretised features. A route decision is one step: its
// outcome ends the episode, so the value target of Q-learning and of
// SARSA is the reward itself. Q-learning, being off-policy, also learns
// from a prioritised replay of past outcomes; SARSA learns only from the
// outcomes of the policy it follows (see docs/learning.md). The
// bootstrapping updates of QTable are what they run on multi-step
// problems.

package learn

import (
	"math"
	"math/rand/v2"
	"sort"
)

// tableAgent keeps reward statistics per state and candidate. Rows are
// copied on write after a publish, so a snapshot shares the rows that
// did not change since.
type tableAgent struct {
	cfg    RouteConfig
	n      int
	table  map[string][]arm
	shared map[string]bool // rows a published snapshot holds
	scale  rewardScale
	total  float64             // outcomes seen, for the ε schedule
	replay *Replay[experience] // Q-learning's prioritised replay
}

func newTableAgent(cfg RouteConfig, n int, st *agentState) *tableAgent {
	a := &tableAgent{cfg: cfg, n: n, table: map[string][]arm{}, shared: map[string]bool{}}
	if cfg.Policy == QLearning {
		a.replay = NewReplay[experience](cfg.Replay, cfg.PriorityAlpha)
	}
	if st != nil {
		for k, row := range st.Table {
			a.table[k] = append([]arm(nil), row...)
			for _, x := range row {
				a.total += x.N
			}
		}
		a.scale = st.Scale
	}
	return a
}

func (a *tableAgent) learn(ex experience, r *rand.Rand) {
	row := a.row(ex.in.key)
	if a.cfg.Policy == UCB {
		// Discounted counts: each outcome in a state ages the
		// candidates not taken, so that their exploration bonus grows
		// until they are tried again, and a candidate that has become
		// better is found (without it, once every count reaches its
		// cap, UCB is greedy).
		for i := range row {
			if i != ex.action {
				row[i].N *= 1 - a.cfg.Alpha
			}
		}
	}
	row[ex.action].add(ex.reward, a.cfg.Alpha)
	a.scale.add(ex.reward)
	a.total++
	if a.replay != nil {
		a.replayUpdates(ex, r)
	}
}

// row returns the writable row of state key, copying it first when a
// published snapshot holds it.
func (a *tableAgent) row(key string) []arm {
	row, ok := a.table[key]
	switch {
	case !ok:
		row = make([]arm, a.n)
		a.table[key] = row
	case a.shared[key]:
		row = append([]arm(nil), row...)
		a.table[key] = row
		delete(a.shared, key)
	}
	return row
}

// replayUpdates is Q-learning's experience replay: ex joins the
// prioritised buffer, then one past outcome, drawn in proportion to its
// last TD error, moves its value again by alpha times its importance
// weight. Outcomes the values already explain are seldom
// drawn; surprising ones (a service that changed) often.
func (a *tableAgent) replayUpdates(ex experience, r *rand.Rand) {
	a.replay.Add(ex)
	slots, ws := a.replay.Sample(r, 1, a.cfg.PriorityBeta)
	for j, i := range slots {
		old := a.replay.At(i)
		x := &a.row(old.in.key)[old.action]
		d := old.reward - x.Mean
		x.Mean += a.cfg.Alpha * ws[j] * d
		a.replay.Update(i, d/a.scale.std())
	}
}

func (a *tableAgent) publish() snapshot {
	t := make(map[string][]arm, len(a.table))
	for k, row := range a.table {
		t[k] = row
		a.shared[k] = true
	}
	return &tableSnap{cfg: a.cfg, table: t, std: a.scale.std()}
}

func (a *tableAgent) spread() float64 { return a.scale.std() }

func (a *tableAgent) save() *agentState {
	t := make(map[string][]arm, len(a.table))
	for k, row := range a.table {
		t[k] = append([]arm(nil), row...)
	}
	return &agentState{Table: t, Scale: a.scale}
}

// tableSnap is an immutable tabular policy.
type tableSnap struct {
	cfg   RouteConfig
	table map[string][]arm
	std   float64
}

// untried returns the candidates never tried in row, in order.
func untried(row []arm, n int) []int {
	var out []int
	for i := range n {
		if i >= len(row) || row[i].N == 0 {
			out = append(out, i)
		}
	}
	return out
}

func (s *tableSnap) choose(in input, n int, r rng) int {
	row := s.table[in.key]
	if u := untried(row, n); len(u) > 0 {
		// Untried candidates first, in order: a new route starts with
		// the first candidate, as without a policy.
		return u[0]
	}
	switch s.cfg.Policy {
	case UCB:
		var total float64
		for _, x := range row[:n] {
			total += x.N
		}
		best, bestV := 0, math.Inf(-1)
		for i, x := range row[:n] {
			v := x.Mean + s.cfg.C*s.std*math.Sqrt(2*math.Log(total)/x.N)
			if v > bestV {
				best, bestV = i, v
			}
		}
		return best
	case Thompson:
		best, bestV := 0, math.Inf(-1)
		for i, x := range row[:n] {
			sd := s.std
			if x.N >= 3 {
				sd = math.Sqrt(x.Var) + 0.1*s.std
			}
			// The posterior is no narrower than ten outcomes make it, so
			// that a candidate judged on bad luck is drawn again now and
			// then.
			v := x.Mean + sd/math.Sqrt(min(x.N, thompsonCap))*r.NormFloat64()
			if v > bestV {
				best, bestV = i, v
			}
		}
		return best
	}
	// ε-greedy, Q-learning and SARSA explore uniformly with probability ε.
	if r.Float64() < s.cfg.Epsilon {
		return r.IntN(n)
	}
	return s.greedy(in, n)
}

func (s *tableSnap) greedy(in input, n int) int {
	return argmax(s.values(in, n), n)
}

func (s *tableSnap) values(in input, n int) []float64 {
	row := s.table[in.key]
	v := make([]float64, n)
	for i := range v {
		if i < len(row) && row[i].N > 0 {
			v[i] = row[i].Mean
		} else {
			v[i] = math.Inf(-1)
		}
	}
	return v
}

func (s *tableSnap) states() []input {
	keys := make([]string, 0, len(s.table))
	for k := range s.table {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]input, len(keys))
	for i, k := range keys {
		out[i] = input{key: k}
	}
	return out
}

// thompsonCap bounds the outcomes Thompson sampling's posterior counts.
const thompsonCap = 10
