// This file tests tabular Q-learning and SARSA on CliffWalking as Gym
// and Sutton & Barto define it: a 4×12 grid, start at the bottom left,
// goal at the bottom right, the cells between them a cliff that costs
// -100 and sends the walker back to the start, -1 per step otherwise.
// With ε = 0.1 exploration, Q-learning's greedy path is the optimal one
// along the cliff edge (return -13) while SARSA, which learns the value
// of the exploring policy, keeps a row or two away from it (-15 or -17).

package learn

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

const cliffRows, cliffCols = 4, 12

// cliffStep moves from s by action a (0 up, 1 right, 2 down, 3 left)
// and returns the next state, the reward and whether the episode ended.
func cliffStep(s, a int) (int, float64, bool) {
	r, c := s/cliffCols, s%cliffCols
	switch a {
	case 0:
		r = max(r-1, 0)
	case 1:
		c = min(c+1, cliffCols-1)
	case 2:
		r = min(r+1, cliffRows-1)
	case 3:
		c = max(c-1, 0)
	}
	start := (cliffRows - 1) * cliffCols
	switch {
	case r == cliffRows-1 && c > 0 && c < cliffCols-1:
		return start, -100, false
	case r == cliffRows-1 && c == cliffCols-1:
		return r*cliffCols + c, -1, true
	}
	return r*cliffCols + c, -1, false
}

func epsGreedy(q *QTable, s string, eps float64, r *rand.Rand) int {
	if r.Float64() < eps {
		return r.IntN(q.N)
	}
	row := q.Row(s)
	best := []int{0}
	for a := 1; a < q.N; a++ {
		switch {
		case row[a] > row[best[0]]:
			best = []int{a}
		case row[a] == row[best[0]]:
			best = append(best, a)
		}
	}
	return best[r.IntN(len(best))]
}

// trainCliff runs 500 episodes of Q-learning or SARSA with α = 0.5,
// γ = 1, ε = 0.1 and returns the table.
func trainCliff(sarsa bool, seed uint64) *QTable {
	q := NewQTable(4)
	r := rand.New(rand.NewPCG(seed, 1))
	start := (cliffRows - 1) * cliffCols
	key := strconv.Itoa
	for range 500 {
		s := start
		a := epsGreedy(q, key(s), 0.1, r)
		for step := 0; step < 10000; step++ {
			s2, rew, done := cliffStep(s, a)
			a2 := epsGreedy(q, key(s2), 0.1, r)
			if sarsa {
				q.SARSA(key(s), a, rew, key(s2), a2, done, 0.5, 1)
			} else {
				q.QLearning(key(s), a, rew, key(s2), done, 0.5, 1)
			}
			if done {
				break
			}
			s, a = s2, a2
		}
	}
	return q
}

// greedyReturn walks q's greedy policy from the start and returns its
// return, or -1000 when it does not reach the goal in 100 steps.
func greedyReturn(q *QTable) float64 {
	s := (cliffRows - 1) * cliffCols
	total := 0.0
	for range 100 {
		s2, rew, done := cliffStep(s, q.Greedy(strconv.Itoa(s)))
		total += rew
		if done {
			return total
		}
		s = s2
	}
	return -1000
}

func TestCliffWalking(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		if got := greedyReturn(trainCliff(false, seed)); got != -13 {
			t.Errorf("seed %d: Q-learning's greedy return %v, want -13 (the cliff edge)", seed, got)
		}
		if got := greedyReturn(trainCliff(true, seed)); got != -15 && got != -17 {
			t.Errorf("seed %d: SARSA's greedy return %v, want -15 or -17 (a safe path)", seed, got)
		}
	}
}
