// This file implements what knhk learn status shows of a policy file:
// for each state the policy has seen, its score of each candidate and
// the candidate it would pick.

package learn

import (
	"math"
	"math/rand/v2"
)

// Preference is the policy's view of one state.
type Preference struct {
	State  string    // the discretised features, as the tables key them
	Scores []float64 // mean reward per candidate (NaN: never tried), or the actor-critic's probability
	Counts []float64 // outcomes per candidate (tabular policies; capped at 1/alpha)
	Best   int       // the candidate a greedy decision takes
}

// Preferences returns the policy's view of every state it has seen, in
// the order of their keys.
func (f *File) Preferences() []Preference {
	n := len(f.Signature.Candidates)
	a := newAgent(f.Config.withDefaults(), n, f.State, rand.New(rand.NewPCG(1, 1)))
	s := a.publish()
	var out []Preference
	for _, in := range s.states() {
		p := Preference{State: in.key, Scores: s.values(in, n), Best: s.greedy(in, n)}
		if row, ok := f.State.Table[in.key]; ok {
			p.Counts = make([]float64, n)
			for i, x := range row {
				p.Counts[i] = x.N
				if x.N == 0 {
					p.Scores[i] = math.NaN()
				}
			}
		}
		out = append(out, p)
	}
	return out
}
