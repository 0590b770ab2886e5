// This file implements tabular Q-learning and SARSA: action values per
// discrete state, updated towards the reward plus the discounted value
// of the next state (its best action for Q-learning, the action taken
// for SARSA).

package learn

// QTable maps a discrete state to the value of each action. The zero
// value is an empty table whose states have n actions once set.
type QTable struct {
	Q map[string][]float64
	N int // actions per state
}

// NewQTable returns an empty table of n actions per state.
func NewQTable(n int) *QTable { return &QTable{Q: map[string][]float64{}, N: n} }

// Row returns the values of state s, creating them (all zero).
func (t *QTable) Row(s string) []float64 {
	r, ok := t.Q[s]
	if !ok {
		r = make([]float64, t.N)
		t.Q[s] = r
	}
	return r
}

// Greedy returns the action of largest value in s; ties go to the first.
func (t *QTable) Greedy(s string) int { return argmax(t.Q[s], t.N) }

// QLearning updates Q(s,a) towards r + γ max_a' Q(s',a') (r alone when
// done) with step alpha and returns the TD error.
func (t *QTable) QLearning(s string, a int, r float64, s2 string, done bool, alpha, gamma float64) float64 {
	target := r
	if !done {
		row := t.Row(s2)
		target += gamma * row[argmax(row, t.N)]
	}
	return t.step(s, a, target, alpha)
}

// SARSA updates Q(s,a) towards r + γ Q(s',a'), a' being the action the
// policy took next, and returns the TD error.
func (t *QTable) SARSA(s string, a int, r float64, s2 string, a2 int, done bool, alpha, gamma float64) float64 {
	target := r
	if !done {
		target += gamma * t.Row(s2)[a2]
	}
	return t.step(s, a, target, alpha)
}

func (t *QTable) step(s string, a int, target, alpha float64) float64 {
	row := t.Row(s)
	d := target - row[a]
	row[a] += alpha * d
	return d
}

// argmax returns the index of the largest of the first n values of v,
// 0 when v is empty.
func argmax(v []float64, n int) int {
	best := 0
	for i := 1; i < n && i < len(v); i++ {
		if v[i] > v[best] {
			best = i
		}
	}
	return best
}
